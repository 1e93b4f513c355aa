package keepalive

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestClock: every ping goes out at the first instant of the keepalive
// clock (a multiple of Tick since the Unix epoch) at or after it falls due,
// so the pings of many connections coalesce; a negative Tick keeps exact
// instants; Tick never exceeds a tenth of the period.
func TestClock(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tick     time.Duration
		interval time.Duration
		grid     time.Duration // the grid pings must fall on; 0: exact
	}{
		{"Default", 0, 5 * s, DefaultTick},
		{"Coarse", 250 * time.Millisecond, 5 * s, 250 * time.Millisecond},
		{"CappedAtTenthOfPeriod", time.Second, 500 * time.Millisecond, 0}, // period in [400, 500) ms: tick at most 40-50 ms
		{"Exact", -1, 5 * s, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				if start.UnixNano()%int64(time.Second) != 0 {
					t.Fatalf("the bubble starts at %v, off the clock: the test assumes a whole second", start)
				}
				type rec struct {
					period time.Duration
					at     []time.Duration
				}
				const n = 50
				recs := make([]*rec, n)
				var mu sync.Mutex
				keepers := make([]*Keeper, n)
				for i := range n {
					r := &rec{}
					recs[i] = r
					keepers[i] = New(Config{Interval: tc.interval, Tick: tc.tick, Rand: fixed(float64(i) / n),
						Send: func(p []byte) error {
							mu.Lock()
							r.at = append(r.at, time.Since(start))
							mu.Unlock()
							return nil
						}})
					keepers[i].Start()
					r.period = keepers[i].Period()
				}
				time.Sleep(3*tc.interval + time.Second)
				for _, k := range keepers {
					k.Stop()
				}
				instants := map[time.Duration]bool{}
				for i, r := range recs {
					if len(r.at) < 3 {
						t.Fatalf("keeper %d: pings %v, want at least 3", i, r.at)
					}
					maxDelay := tc.grid
					if tc.name == "CappedAtTenthOfPeriod" {
						maxDelay = r.period / 10
					}
					for j, at := range r.at[:3] {
						due := time.Duration(j+1) * r.period
						delay := at - due
						if delay < 0 || (maxDelay == 0 && delay != 0) || (maxDelay > 0 && delay >= maxDelay) {
							t.Errorf("keeper %d ping %d at %v, due at %v: delay %v, want in [0, %v)", i, j, at, due, delay, maxDelay)
						}
						if tc.grid > 0 && at%tc.grid != 0 {
							t.Errorf("keeper %d ping %d at %v, off the %v clock", i, j, at, tc.grid)
						}
						instants[at] = true
					}
				}
				if tc.grid > 0 {
					// Ping j of 50 falls due in [0.8(j+1), j+1) intervals:
					// over 1.2 intervals in all, at most one instant per
					// tick of them, for 150 pings.
					if max := int(12*tc.interval/10/tc.grid) + 3; len(instants) > max {
						t.Errorf("%d distinct ping instants, want at most %d: pings did not coalesce", len(instants), max)
					}
				} else if tc.name == "Exact" && len(instants) != 150 {
					t.Errorf("%d distinct instants with an exact clock, want 150", len(instants))
				}
			})
		})
	}
}

// TestClockPongTimeout: the pong deadline falls on the clock too, never
// before PongTimeout has passed.
func TestClockPongTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFlow(Config{Interval: 5 * s, PongTimeout: 2050 * time.Millisecond, Rand: fixed(0)}, 0)
		f.k.Start()
		time.Sleep(7 * s)
		f.stop()
		// The ping at 4 s; its deadline 6.05 s rounds up to 6.1 s.
		f.check(t, []time.Duration{4 * s}, []time.Duration{6100 * time.Millisecond})
	})
}

// TestPongTimeoutLifeSigns: the flow fails only when nothing was read
// since the ping and the owner is not busy with a message. A message read
// after the ping moves the deadline PongTimeout on; an owner still inside
// a message (a slow callback: not reading) keeps the flow from failing
// until it is done, and the deadline then moves on from the next expiry.
func TestPongTimeoutLifeSigns(t *testing.T) {
	msg := []byte("SIP/2.0 200 OK\r\n\r\n")
	t.Run("MessageAfterPing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFlow(Config{Interval: 5 * s, PongTimeout: 2 * s, Debounce: time.Minute, Rand: fixed(0)}, 0) // silent about pings
			f.k.Start()
			time.Sleep(5 * s) // the ping at 4 s; its deadline at 6 s
			f.k.Received(msg)
			f.k.Handled()
			time.Sleep(4 * s)
			f.stop()
			// At 6 s the message read at 5 s moves the deadline to 8 s,
			// when nothing new has been read: the flow fails.
			f.check(t, []time.Duration{4 * s}, []time.Duration{8 * s})
		})
	})
	t.Run("BusyOwner", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFlow(Config{Interval: 5 * s, PongTimeout: 2 * s, Debounce: time.Minute, Rand: fixed(0)}, 0)
			f.k.Start()
			time.Sleep(3 * s)
			f.k.Received(msg) // read at 3 s, before the ping; handled at 11 s
			time.Sleep(8 * s)
			f.k.Handled()
			time.Sleep(10 * s)
			f.stop()
			// Deadlines at 6, 8, 10 s find the owner busy; at 12 s it is
			// idle with nothing new: the flow fails.
			f.check(t, []time.Duration{4 * s}, []time.Duration{12 * s})
		})
	})
	t.Run("NothingRead", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			f := newFlow(Config{Interval: 5 * s, PongTimeout: 2 * s, Rand: fixed(0)}, 0)
			f.k.Start()
			time.Sleep(3 * s)
			f.k.Received(msg) // before the ping, and handled: no life sign after it
			f.k.Handled()
			time.Sleep(4 * s)
			f.stop()
			f.check(t, []time.Duration{4 * s}, []time.Duration{6 * s})
		})
	})
}
