package sipgows

import (
	"io"
	"testing"
	"testing/synctest"

	gws "github.com/gobwas/ws"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// TestAllocs: once warm, the bridge allocates nothing per message either
// way: a message from the transport is one pooled frame (from the bridge's
// own free list, so this holds under the race detector too), read by sipgo
// from it; a message from sipgo is unmasked into the pipe's own buffer and
// sent. What sipgo and the transport allocate is theirs.
func TestAllocs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(transport.Config{ViaHost: testViaHost})
		f.onSend = func([]byte) {} // count nothing, copy nothing
		b, err := New(Config{Transport: f})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		c, _ := dialPipe(t, b, Destination)
		var m sipmsg.Message
		if err := m.Parse([]byte(options)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		in := testing.AllocsPerRun(200, func() {
			b.onMessage(&m)
			if _, err := io.ReadAtLeast(c, buf, len(options)+2); err != nil {
				t.Fatal(err)
			}
		})
		fr := maskedFrame(gws.OpText, true, options)
		out := testing.AllocsPerRun(200, func() {
			if _, err := c.Write(fr[:6]); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(fr[6:]); err != nil {
				t.Fatal(err)
			}
		})
		if in != 0 || out != 0 {
			t.Errorf("allocations per message: %v from the transport to sipgo, %v from sipgo to the transport; want 0 and 0", in, out)
		}
	})
}
