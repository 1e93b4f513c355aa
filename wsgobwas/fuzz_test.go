package wsgobwas

import (
	"context"
	"errors"
	"testing"

	gobwas "github.com/gobwas/ws"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

// FuzzReadMessage feeds the frame reader whatever a lying server could send
// after a good handshake: it never panics and never hangs, every message it
// returns is within the read limit, and the connection always ends with a
// *dialer.CloseError.
func FuzzReadMessage(f *testing.F) {
	frame := func(op gobwas.OpCode, fin bool, p []byte) []byte {
		return gobwas.MustCompileFrame(gobwas.NewFrame(op, fin, p))
	}
	f.Add(frame(gobwas.OpText, true, []byte("SIP/2.0 200 OK\r\n\r\n")))
	f.Add(append(frame(gobwas.OpBinary, false, []byte("frag")), frame(gobwas.OpContinuation, true, []byte("ment"))...))
	f.Add(append(frame(gobwas.OpPing, true, []byte("p")), frame(gobwas.OpClose, true, []byte{0x0f, 0xa1, 'b', 'y', 'e'})...))
	f.Add(frame(gobwas.OpText, true, make([]byte, 2000)))                                               // above the limit
	f.Add([]byte{0x81, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0})                                                // 64-bit length, top bit set
	f.Add([]byte{0x83, 0x00, 0x89, 0x7e, 0x00, 0x01})                                                   // reserved opcode; control over 125
	f.Add(append(frame(gobwas.OpText, false, []byte("a")), frame(gobwas.OpText, true, []byte("b"))...)) // no continuation
	f.Fuzz(func(t *testing.T, stream []byte) {
		const limit = 1024
		d := &Dialer{NetDial: wstest.ScriptedDial(stream)}
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
