package wsgobwas

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/idleread"
	"github.com/sipws/sipws/internal/wstest"
)

// sipMessage returns a SIP-looking text message of exactly n bytes.
func sipMessage(n int) []byte {
	head := "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK\r\n"
	return append([]byte(head), bytes.Repeat([]byte("x"), n-len(head))...)[:n]
}

func drainServer(t testing.TB) *wstest.Server { return wstest.DrainServer(t) }

// floodServer sends frames, compiled once, again and again.
func floodServer(t testing.TB, frames ...ws.Frame) *wstest.Server {
	var stream []byte
	for _, f := range frames {
		stream = append(stream, ws.MustCompileFrame(f)...)
	}
	return wstest.FloodServer(t, stream)
}

// TestZeroAllocs keeps the point of this package from regressing: once
// the pools are warm, a message costs no allocation either way, whether it
// is small or as large as the send limit, read in place or reassembled, or
// read after a ping that had to be answered with a pong or a pong handed
// to the pong handler; and a keepalive Ping costs none either.
func TestZeroAllocs(t *testing.T) {
	tests := []struct {
		name   string
		write  []byte     // WriteMessage this, or else
		ping   []byte     // Ping with this, or else
		frames []ws.Frame // ReadMessage from a server sending these again and again
		want   int        // the size of each message read
	}{
		{name: "WriteMessage 700 B", write: sipMessage(700)},
		{name: "Ping 16 B", ping: []byte("keepalive 123456")},
		{
			name:   "ReadMessage 450 B after a pong handled",
			frames: []ws.Frame{ws.NewPongFrame([]byte("keepalive 123456")), ws.NewTextFrame(sipMessage(450))},
			want:   450,
		},
		{name: "WriteMessage 64 KiB", write: sipMessage(64 << 10)},
		{name: "ReadMessage 450 B, in place", frames: []ws.Frame{ws.NewTextFrame(sipMessage(450))}, want: 450},
		{name: "ReadMessage 10 KiB, reassembled", frames: []ws.Frame{ws.NewTextFrame(sipMessage(10 << 10))}, want: 10 << 10},
		{
			name: "ReadMessage 3 fragments, reassembled",
			frames: []ws.Frame{
				ws.NewFrame(ws.OpText, false, sipMessage(1000)),
				ws.NewFrame(ws.OpContinuation, false, sipMessage(1000)),
				ws.NewFrame(ws.OpContinuation, true, sipMessage(1000)),
			},
			want: 3000,
		},
		{
			name:   "ReadMessage 450 B after a ping answered",
			frames: []ws.Frame{ws.NewPingFrame([]byte("keepalive")), ws.NewTextFrame(sipMessage(450))},
			want:   450,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var op func(c *conn) error
			var srv *wstest.Server
			switch {
			case tt.write != nil:
				srv = drainServer(t)
				op = func(c *conn) error { return c.WriteMessage(tt.write) }
			case tt.ping != nil:
				srv = drainServer(t)
				op = func(c *conn) error { return c.Ping(tt.ping) }
			default:
				srv = floodServer(t, tt.frames...)
				op = func(c *conn) error {
					p, err := c.ReadMessage()
					if err == nil && len(p) != tt.want {
						t.Errorf("ReadMessage = %d bytes, want %d", len(p), tt.want)
					}
					return err
				}
			}
			c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
			var pongs int
			c.SetPongHandler(func([]byte) { pongs++ })
			defer func() {
				if strings.Contains(tt.name, "pong") && pongs == 0 {
					t.Errorf("the pong handler was never called")
				}
			}()
			if allocs := wstest.AllocsPerOp(t, func() error { return op(c) }); allocs != 0 {
				t.Errorf("%v allocations per message, want 0", allocs)
			}
		})
	}
}

func BenchmarkMessages(b *testing.B) { wstest.BenchMessages(b, &Dialer{}, sipMessage(450)) }

// stubConn is a net.Conn that holds nothing: writes succeed, reads end.
// Connections over it cost exactly what this package allocates for them.
type stubConn struct{ net.Conn }

func (stubConn) Write(p []byte) (int, error)      { return len(p), nil }
func (stubConn) Close() error                     { return nil }
func (stubConn) SetReadDeadline(time.Time) error  { return nil }
func (stubConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkIdleConnHeap measures what one open, idle connection costs: an
// op is one connection. heap-B/conn is the live heap it holds (the conn
// and its reader, which holds no buffer while idle, no write or reassembly
// buffer),
// B/op and allocs/op what opening it allocated. Each iteration opens 1000
// connections over a stubConn, so the socket (the net package's, about the
// same for every backend) and the handshake are not counted, and reads the
// heap after a collection. It reports rather than asserts: the figure
// moves with the runtime.
func BenchmarkIdleConnHeap(b *testing.B) {
	const n = 1000
	conns := make([]*conn, n)
	var held, allocated, mallocs uint64
	for b.Loop() {
		var before, opened, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range conns {
			conns[i] = newConn(stubConn{}, idleread.NewReader(stubConn{}, DefaultReadBufferSize), dialer.Options{})
		}
		runtime.ReadMemStats(&opened)
		runtime.GC()
		runtime.ReadMemStats(&after)
		held += after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
		allocated += opened.TotalAlloc - before.TotalAlloc
		mallocs += opened.Mallocs - before.Mallocs
		clear(conns) // dropped, not closed
	}
	per := float64(b.N) * n
	b.ReportMetric(float64(held)/per, "heap-B/conn")
	b.ReportMetric(float64(allocated)/per, "B/op")
	b.ReportMetric(float64(mallocs)/per, "allocs/op")
	b.ReportMetric(0, "ns/op") // the time is the collections', not a connection's
}

// TestZeroAllocsWaitingRead: a read that finds nothing to read waits on a
// plain socket without a buffer and takes one from the pool when bytes
// arrive; a message round trip, in which every read waits, allocates
// nothing either.
func TestZeroAllocsWaitingRead(t *testing.T) {
	msg := sipMessage(450)
	srv := wstest.ServeSIP(t, func(c net.Conn) {
		frame := ws.MustCompileFrame(ws.NewTextFrame(msg))
		// The client's frame: a 2-byte header, a 16-bit length, the mask
		// key and the payload. Read whole into an array, so that the
		// server, counted by AllocsPerRun too, allocates nothing.
		var in [2 + 2 + 4 + 450]byte
		for { // answer each message once it is read: the client always waits
			if _, err := io.ReadFull(c, in[:]); err != nil {
				return
			}
			if _, err := c.Write(frame); err != nil {
				return
			}
		}
	})
	c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
	if !c.rd.Polled() {
		t.Fatal("a TCP connection without a RawConn: the waiting path is not under test")
	}
	allocs := wstest.AllocsPerOp(t, func() error {
		if err := c.WriteMessage(msg); err != nil {
			return err
		}
		p, err := c.ReadMessage()
		if err == nil && len(p) != len(msg) {
			err = fmt.Errorf("read %d bytes, want %d", len(p), len(msg))
		}
		return err
	})
	if allocs != 0 {
		t.Errorf("%v allocations per round trip, want 0", allocs)
	}
}
