package ws

import (
	"testing"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

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
		want  float64
	}{
		{name: "WriteMessage 700 B", write: true, size: 700, want: writeAllocs},
		{name: "WriteMessage 64 KiB", write: true, size: 64 << 10, want: writeAllocs},
		{name: "ReadMessage 700 B", size: 700, want: readAllocs},
		{name: "ReadMessage 10 KiB, buffer grown twice", size: 10 << 10, want: readAllocs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := sipRequest(tt.size)
			var op func(c *conn) error
			var srv *wstest.Server
			if tt.write {
				srv = wstest.DrainServer(t)
				op = func(c *conn) error { return c.WriteMessage(msg) }
			} else {
				srv = wstest.FloodServer(t, ws.MustCompileFrame(ws.NewTextFrame(msg)))
				op = func(c *conn) error {
					p, err := c.ReadMessage()
					if err == nil && len(p) != len(msg) {
						t.Errorf("ReadMessage = %d bytes, want %d", len(p), len(msg))
					}
					return err
				}
			}
			c := dialTo(t, &Dialer{}, srv.URL(), dialer.Options{})
			allocs := wstest.AllocsPerOp(t, func() error { return op(c) })
			t.Logf("%v allocations per message", allocs)
			if allocs > tt.want {
				t.Errorf("%v allocations per message, want at most gorilla's %v", allocs, tt.want)
			}
		})
	}
}

func BenchmarkMessages(b *testing.B) { wstest.BenchMessages(b, &Dialer{}, sipRequest(700)) }

// sipRequest returns an OPTIONS request that sipserver answers with 200,
// padded with a header to exactly n bytes when n is larger.
func sipRequest(n int) []byte {
	head := "OPTIONS sip:127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n" +
		"From: <sip:alice@127.0.0.1>;tag=1928301774\r\n" +
		"To: <sip:127.0.0.1>\r\n" +
		"Call-ID: a84b4c76e66710\r\n" +
		"CSeq: 1 OPTIONS\r\n"
	tail := "Content-Length: 0\r\n\r\n"
	if pad := n - len(head) - len(tail) - len("X-Pad: \r\n"); pad > 0 {
		b := make([]byte, pad)
		for i := range b {
			b[i] = 'x'
		}
		head += "X-Pad: " + string(b) + "\r\n"
	}
	return []byte(head + tail)
}
