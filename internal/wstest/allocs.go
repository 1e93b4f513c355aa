package wstest

import (
	"testing"

	"github.com/gobwas/ws"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/race"
)

// AllocsPerOp returns the allocations one call of op costs once warm: ten
// calls warm the pools, then testing.AllocsPerRun counts 500. An error of
// op fails the test. Under -race, where sync.Pool drops items at random,
// the calls still run, for the race detector, and the test is then skipped
// rather than given a count: allocations are counted without -race. Call
// it from the test's goroutine.
func AllocsPerOp(t *testing.T, op func() error) float64 {
	t.Helper()
	for range 10 {
		if err := op(); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	allocs := testing.AllocsPerRun(500, func() {
		if e := op(); e != nil && err == nil {
			err = e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if race.Enabled {
		t.Skip("sync.Pool drops items under -race; allocations are counted without -race")
	}
	return allocs
}

// BenchMessages benchmarks one connection of d writing msg to a server
// that drains it, and reading msg from a server that floods it, with the
// allocations of each.
func BenchMessages(b *testing.B, d dialer.Dialer, msg []byte) {
	b.Run("Write", func(b *testing.B) {
		c := Dial(b, d, DrainServer(b).URL(), dialer.Options{})
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for b.Loop() {
			if err := c.WriteMessage(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Read", func(b *testing.B) {
		c := Dial(b, d, FloodServer(b, ws.MustCompileFrame(ws.NewTextFrame(msg))).URL(), dialer.Options{})
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.ReadMessage(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
