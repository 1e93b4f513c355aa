package wstest

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/gobwas/ws"

	"github.com/sipws/sipws/dialer"
)

// NetDial is the shape of the backends' Dialer.NetDial field.
type NetDial = func(ctx context.Context, network, addr string) (net.Conn, error)

// FuzzReadMessage is a backend's frame-reader fuzz target: newDialer
// returns the backend's Dialer over the given NetDial, which the fuzzer
// points at a ScriptedDial server sending whatever a lying server could
// send after a good handshake. Nothing may panic or hang, no message may
// exceed the read limit, and the connection must end with a
// *dialer.CloseError. A backend's test calls it from its own Fuzz function.
func FuzzReadMessage(f *testing.F, newDialer func(NetDial) dialer.Dialer) {
	frame := func(op ws.OpCode, fin bool, p []byte) []byte {
		return ws.MustCompileFrame(ws.NewFrame(op, fin, p))
	}
	f.Add(frame(ws.OpText, true, []byte("SIP/2.0 200 OK\r\n\r\n")))
	f.Add(append(frame(ws.OpBinary, false, []byte("frag")), frame(ws.OpContinuation, true, []byte("ment"))...))
	f.Add(append(frame(ws.OpPing, true, []byte("p")), frame(ws.OpClose, true, []byte{0x0f, 0xa1, 'b', 'y', 'e'})...))
	f.Add(frame(ws.OpText, true, make([]byte, 2000)))                                           // above the limit
	f.Add([]byte{0x81, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0})                                        // 64-bit length, top bit set
	f.Add([]byte{0x83, 0x00, 0x89, 0x7e, 0x00, 0x01})                                           // reserved opcode; control over 125
	f.Add(append(frame(ws.OpText, false, []byte("a")), frame(ws.OpText, true, []byte("b"))...)) // no continuation
	f.Fuzz(func(t *testing.T, stream []byte) {
		const limit = 1024
		d := newDialer(ScriptedDial(stream))
		c, err := d.Dial(context.Background(), "ws://scripted.invalid/", dialer.Options{MaxMessageSize: limit})
		if err != nil {
			t.Fatalf("Dial over a good handshake: %v", err)
		}
		defer c.Close(dialer.CloseNormalClosure, "")
		// Every message takes at least a 2-byte frame header, so the
		// stream ends within this many reads.
		for range len(stream)/2 + 2 {
			p, err := c.ReadMessage()
			if err != nil {
				var ce *dialer.CloseError
				if !errors.As(err, &ce) {
					t.Fatalf("ReadMessage = %v, want a *dialer.CloseError", err)
				}
				return
			}
			if len(p) > limit {
				t.Fatalf("a message of %d bytes, above the %d-byte limit", len(p), limit)
			}
		}
		t.Fatalf("ReadMessage did not end a %d-byte stream", len(stream))
	})
}
