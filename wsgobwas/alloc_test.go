package wsgobwas

import (
	"bufio"
	"bytes"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/race"
	"github.com/sipws/sipws/internal/wstest"
)

// sipMessage returns a SIP-looking text message of exactly n bytes.
func sipMessage(n int) []byte {
	head := "OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK\r\n"
	return append([]byte(head), bytes.Repeat([]byte("x"), n-len(head))...)[:n]
}

// discard reads and discards everything from c, without allocating, so
// that allocation counts are the client's.
func discard(c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// drainServer reads and discards everything a client sends.
func drainServer(t testing.TB) *wstest.Server {
	return wstest.ServeSIP(t, func(c net.Conn) {
		c.SetDeadline(time.Time{})
		discard(c)
	})
}

// floodServer sends frames, compiled once, again and again, without
// allocating, until the client goes away. What the client sends back (the
// pongs to any ping among frames) is read and discarded meanwhile.
func floodServer(t testing.TB, frames ...ws.Frame) *wstest.Server {
	var one []byte
	for _, f := range frames {
		one = append(one, ws.MustCompileFrame(f)...)
	}
	batch := bytes.Repeat(one, max(1, 32<<10/len(one)))
	return wstest.ServeSIP(t, func(c net.Conn) {
		c.SetDeadline(time.Time{})
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			discard(c)
		}()
		for {
			if _, err := c.Write(batch); err != nil {
				break
			}
		}
		c.Close()
		<-drained
	})
}

// TestZeroAllocs keeps the point of this package from regressing: once
// the pools are warm, a message costs no allocation either way, whether it
// is written in one Write or in chunks, read in place or reassembled, or
// read after a ping that had to be answered with a pong.
func TestZeroAllocs(t *testing.T) {
	tests := []struct {
		name   string
		write  []byte     // WriteMessage this, or else
		frames []ws.Frame // ReadMessage from a server sending these again and again
		want   int        // the size of each message read
	}{
		{name: "WriteMessage 700 B", write: sipMessage(700)},
		{name: "WriteMessage 100 KiB, chunked", write: sipMessage(100 << 10)},
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
			if tt.write != nil {
				srv = drainServer(t)
				op = func(c *conn) error { return c.WriteMessage(tt.write) }
			} else {
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
			for range 10 { // warm the pools
				if err := op(c); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			allocs := testing.AllocsPerRun(500, func() {
				if e := op(c); e != nil {
					err = e
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if race.Enabled {
				// The operations ran, for the race detector; the count
				// is checked by the run without -race.
				t.Skip("sync.Pool drops items under -race; allocations are counted without -race")
			}
			if allocs != 0 {
				t.Errorf("%v allocations per message, want 0", allocs)
			}
		})
	}
}

func BenchmarkWriteMessage(b *testing.B) {
	c := dial(b, &Dialer{}, drainServer(b).URL(), dialer.Options{})
	msg := sipMessage(700)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WriteMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadMessage(b *testing.B) {
	msg := sipMessage(450)
	c := dial(b, &Dialer{}, floodServer(b, ws.NewTextFrame(msg)).URL(), dialer.Options{})
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}

// stubConn is a net.Conn that holds nothing: writes succeed, reads end.
// Connections over it cost exactly what this package allocates for them.
type stubConn struct{ net.Conn }

func (stubConn) Write(p []byte) (int, error)      { return len(p), nil }
func (stubConn) Close() error                     { return nil }
func (stubConn) SetReadDeadline(time.Time) error  { return nil }
func (stubConn) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkIdleConnHeap measures what one open, idle connection costs: an
// op is one connection. heap-B/conn is the live heap it holds (the conn,
// its read buffer of the default size, no write or reassembly buffer),
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
			// A fresh reader, not getReader's pool: what the pool
			// hands out is live before it is taken.
			br := bufio.NewReaderSize(stubConn{}, DefaultReadBufferSize)
			conns[i] = newConn(stubConn{}, br, false, dialer.DefaultMaxMessageSize)
		}
		runtime.ReadMemStats(&opened)
		runtime.GC()
		runtime.ReadMemStats(&after)
		held += after.HeapAlloc - min(before.HeapAlloc, after.HeapAlloc)
		allocated += opened.TotalAlloc - before.TotalAlloc
		mallocs += opened.Mallocs - before.Mallocs
		clear(conns) // dropped, not closed: Close would pool the readers
	}
	per := float64(b.N) * n
	b.ReportMetric(float64(held)/per, "heap-B/conn")
	b.ReportMetric(float64(allocated)/per, "B/op")
	b.ReportMetric(float64(mallocs)/per, "allocs/op")
	b.ReportMetric(0, "ns/op") // the time is the collections', not a connection's
}
