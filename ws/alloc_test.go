package ws

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/race"
	"github.com/sipws/sipws/internal/wstest"
)

// drainServer reads and discards everything a client sends, without
// allocating, so that allocation counts are the client's.
func drainServer(t testing.TB) *wstest.Server {
	return wstest.ServeSIP(t, func(c net.Conn) {
		c.SetDeadline(time.Time{})
		buf := make([]byte, 64<<10)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	})
}

// floodServer sends msg as a text frame, again and again, without
// allocating, until the client goes away.
func floodServer(t testing.TB, msg []byte) *wstest.Server {
	one := ws.MustCompileFrame(ws.NewTextFrame(msg))
	batch := bytes.Repeat(one, max(1, 32<<10/len(one)))
	return wstest.ServeSIP(t, func(c net.Conn) {
		c.SetDeadline(time.Time{})
		for {
			if _, err := c.Write(batch); err != nil {
				return
			}
		}
	})
}

// gorilla's floor, per message once warm: NextReader allocates its
// message reader (8 B); a write allocates NextWriter's message writer and
// boxes the buffer it gives back to the pool in an interface.
const (
	readAllocs  = 1
	writeAllocs = 2
)

// TestAllocsPerMessage reports what a message costs in steady state and
// keeps it from growing beyond what gorilla itself forces.
func TestAllocsPerMessage(t *testing.T) {
	tests := []struct {
		name  string
		write bool // WriteMessage, or else ReadMessage
		size  int
		d     Dialer
		want  float64
	}{
		{name: "WriteMessage 700 B", write: true, size: 700, want: writeAllocs},
		{name: "WriteMessage 64 KiB", write: true, size: 64 << 10, want: writeAllocs},
		{name: "WriteMessage 10 KiB fragmented", write: true, size: 10 << 10, d: Dialer{WriteBufferSize: 4096}, want: writeAllocs},
		{name: "ReadMessage 700 B", size: 700, want: readAllocs},
		{name: "ReadMessage 10 KiB, buffer grown twice", size: 10 << 10, want: readAllocs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := sipRequest(tt.size)
			var op func(c *conn) error
			var srv *wstest.Server
			if tt.write {
				srv = drainServer(t)
				op = func(c *conn) error { return c.WriteMessage(msg) }
			} else {
				srv = floodServer(t, msg)
				op = func(c *conn) error {
					p, err := c.ReadMessage()
					if err == nil && len(p) != len(msg) {
						t.Errorf("ReadMessage = %d bytes, want %d", len(p), len(msg))
					}
					return err
				}
			}
			c := dialTo(t, &tt.d, srv.URL(), dialer.Options{})
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
			t.Logf("%v allocations per message", allocs)
			if allocs > tt.want {
				t.Errorf("%v allocations per message, want at most gorilla's %v", allocs, tt.want)
			}
		})
	}
}

func BenchmarkWriteMessage(b *testing.B) {
	c := dialTo(b, &Dialer{}, drainServer(b).URL(), dialer.Options{})
	msg := sipRequest(700)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.WriteMessage(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadMessage(b *testing.B) {
	msg := sipRequest(700)
	c := dialTo(b, &Dialer{}, floodServer(b, msg).URL(), dialer.Options{})
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}
