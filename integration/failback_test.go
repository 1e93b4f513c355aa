package integration

import (
	"errors"
	"testing"
	"time"

	"github.com/sipws/sipws/transport"
)

// TestKamailioFailback: two real Kamailio instances, weights 10 and 1. The
// transport fails over to the backup when the preferred instance stops,
// and, with FailbackInterval, moves back to the preferred one within
// FailbackInterval + 1 s of its restart, make-before-break: status never
// leaves OPEN, Disconnected(backup, ErrFailback) comes before
// Connected(preferred), and a REGISTER sent on Connected gets its 200 there
// (SPEC.md "Reconnection at fleet scale", failback).
func TestKamailioFailback(t *testing.T) {
	k := needKamailio(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			k.up(t, 1)
			k.up(t, 2)
			preferred := k.server(t, 1, "ws", 10)
			backup := k.server(t, 2, "ws", 1)
			cfg := k.config(t, "ws", backup, preferred)
			cfg.MaxReconnectionAttempts = 1
			cfg.FailbackInterval = time.Second
			alice := newUA(t, b, "alice", "ws", cfg)
			alice.connect(t)
			alice.wantServer(t, preferred)
			alice.register(t)

			from := len(alice.eventsSnapshot())
			k.down(t, 1)
			_, i := alice.awaitEvent(t, "Connected to the backup", from, wait, isEvent("connected", backup.URI))
			alice.wantServer(t, backup)
			alice.register(t)

			from = i + 1
			k.up(t, 1)
			restarted := time.Now() // start.sh returns once the ws port serves
			con, j := alice.awaitEvent(t, "Connected to the preferred server", from,
				cfg.FailbackInterval+slack+time.Second, isEvent("connected", preferred.URI))
			t.Logf("%s: back on the preferred server %v after its restart",
				b.name, con.at.Sub(restarted).Round(time.Millisecond))
			within(t, "failing back", con.at.Sub(restarted), cfg.FailbackInterval+time.Second)
			// Between the two, exactly the backup's Disconnected, with
			// ErrFailback.
			evs := alice.eventsSnapshot()[from:j]
			if len(evs) != 1 || evs[0].kind != "disconnected" || evs[0].server != backup.URI || !errors.Is(evs[0].err, transport.ErrFailback) {
				t.Errorf("events before Connected(preferred) = %v, want exactly Disconnected(backup, ErrFailback)", evs)
			}
			if st := alice.tr.Status(); st != transport.StatusOpen {
				t.Errorf("status %v after failback, want OPEN", st)
			}
			alice.wantServer(t, preferred)
			alice.register(t) // the re-REGISTER a SIP stack sends on Connected
			if st := alice.tr.Stats(); st.Failbacks != 1 {
				t.Errorf("Failbacks = %d, want 1", st.Failbacks)
			}
			alice.logEvents(t)
		})
	}
}
