package keepalive

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestSchedule checks when pings go out, and when the flow is declared
// failed, for servers that answer or stay silent. Rand returns 0, so an
// interval of 5 s gives a period of exactly 4 s.
func TestSchedule(t *testing.T) {
	tests := []struct {
		name     string
		rule     string
		cfg      Config
		answer   time.Duration // 0: silent server
		until    time.Duration
		pings    []time.Duration
		failures []time.Duration
	}{{
		name:  "SilentServer/Debounce",
		rule:  "SPEC.md Keepalive: interval 5 s, debounce 10 s, silent server: pings at 4 s, 16 s, 28 s",
		cfg:   Config{Interval: 5 * s, Debounce: 10 * s},
		until: 41 * s,
		pings: []time.Duration{4 * s, 16 * s, 28 * s, 40 * s},
	}, {
		name:  "SilentServer/DebounceEqualsAge",
		rule:  "a ping exactly Debounce old is no longer younger than the window: the due ping goes out",
		cfg:   Config{Interval: 5 * s, Debounce: 8 * s},
		until: 30 * s,
		pings: every(4*s, 8*s, 30*s),
	}, {
		name:  "SilentServer/NoDebounce",
		rule:  "Debounce 0 is no window: every due ping goes out",
		cfg:   Config{Interval: 5 * s},
		until: 30 * s,
		pings: every(4*s, 4*s, 30*s),
	}, {
		name:   "AnsweringServer",
		rule:   "a server that answers every ping gets a ping every period",
		cfg:    Config{Interval: 5 * s, Debounce: 10 * s, PongTimeout: 10 * s},
		answer: 50 * time.Millisecond,
		until:  61 * s,
		pings:  every(4*s, 4*s, 61*s),
	}, {
		name:   "AnsweringServer/PongJustBeforeTimeout",
		rule:   "a pong 1 ns before PongTimeout prevents the failure and clears the window",
		cfg:    Config{Interval: 5 * s, Debounce: 10 * s, PongTimeout: 10 * s},
		answer: 10*s - 1,
		until:  61 * s,
		pings:  []time.Duration{4 * s, 16 * s, 28 * s, 40 * s, 52 * s},
	}, {
		name:     "PongTimeout",
		rule:     "RFC 5626 §4.4.1: no pong PongTimeout after a ping: OnFailure once, at ping + PongTimeout, and no more pings",
		cfg:      Config{Interval: 5 * s, Debounce: 10 * s, PongTimeout: 10 * s},
		until:    120 * s,
		pings:    []time.Duration{4 * s},
		failures: []time.Duration{14 * s},
	}, {
		name:     "PongTimeout/LongerThanDebounce",
		rule:     "later pings do not move the deadline of the oldest unanswered ping",
		cfg:      Config{Interval: 5 * s, Debounce: 10 * s, PongTimeout: 30 * s},
		until:    120 * s,
		pings:    []time.Duration{4 * s, 16 * s, 28 * s},
		failures: []time.Duration{34 * s},
	}, {
		name:     "PongTimeout/NoDebounce",
		rule:     "with no window, pings go out every period until the oldest one times out",
		cfg:      Config{Interval: 5 * s, PongTimeout: 10 * s},
		until:    120 * s,
		pings:    []time.Duration{4 * s, 8 * s, 12 * s},
		failures: []time.Duration{14 * s},
	}, {
		name:  "IntervalZero",
		rule:  "Interval 0 turns keepalives off: Start arms nothing",
		cfg:   Config{Debounce: 10 * s, PongTimeout: 10 * s},
		until: 120 * s,
	}, {
		name:  "NegativeDurations",
		rule:  "negative durations count as zero (off)",
		cfg:   Config{Interval: -5 * s, Debounce: -1, PongTimeout: -1},
		until: 120 * s,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tt.cfg.Rand = fixed(0)
				f := newFlow(tt.cfg, tt.answer)
				f.k.Start()
				f.sleepUntil(tt.until)
				f.stop()
				f.check(t, tt.pings, tt.failures)
				if t.Failed() {
					t.Logf("rule: %s", tt.rule)
				}
			})
		})
	}
}

// TestPongClearsWindow: a pong answers the outstanding ping, so the next
// due ping goes out instead of waiting for the window to end.
func TestPongClearsWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFlow(Config{Interval: 5 * s, Debounce: 10 * s, Rand: fixed(0)}, 0)
		f.k.Start()
		f.sleepUntil(6 * s)
		if !f.k.Received([]byte("\r\n")) {
			t.Fatal("Received(CRLF) = false, want true")
		}
		f.sleepUntil(33 * s)
		f.stop()
		// 4 s; pong at 6 s; 8 s goes out; then silent: 20 s, 32 s.
		f.check(t, []time.Duration{4 * s, 8 * s, 20 * s, 32 * s}, nil)
		if want := []time.Duration{2 * s}; !slices.Equal(f.rtts, want) {
			t.Errorf("RTTs %v, want %v", f.rtts, want)
		}
	})
}

// TestRTT: OnRTT gets the time between the latest ping and its pong.
func TestRTT(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFlow(Config{Interval: 5 * s, Debounce: 10 * s, Rand: fixed(0)}, 150*time.Millisecond)
		f.k.Start()
		f.sleepUntil(13 * s)
		f.stop()
		f.check(t, []time.Duration{4 * s, 8 * s, 12 * s}, nil)
		want := []time.Duration{150 * time.Millisecond, 150 * time.Millisecond, 150 * time.Millisecond}
		if !slices.Equal(f.rtts, want) {
			t.Errorf("RTTs %v, want %v", f.rtts, want)
		}
		// A pong with no ping outstanding reports nothing.
		f.k.Start()
		f.k.Received(pong)
		f.k.Stop()
		if len(f.rtts) != 3 {
			t.Errorf("RTTs %v after an unsolicited pong, want 3 of them", f.rtts)
		}
	})
}

// TestSlowSend: while a ping's Send is blocked (on the connection's write
// lock, say), due pings are skipped rather than piled up.
func TestSlowSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var at []time.Duration
		release := make(chan struct{})
		k := New(Config{Interval: 5 * s, Rand: fixed(0), Send: func(p []byte) error {
			mu.Lock()
			at = append(at, time.Since(start))
			first := len(at) == 1
			mu.Unlock()
			if first {
				<-release
			}
			return nil
		}})
		k.Start()
		time.Sleep(10 * s)
		close(release) // the first Send, started at 4 s, returns at 10 s
		time.Sleep(3 * s)
		k.Stop()
		if want := []time.Duration{4 * s, 12 * s}; !slices.Equal(at, want) {
			t.Errorf("pings at %v, want %v", at, want)
		}
	})
}

// TestLateTick: the ping timer re-arms for the next multiple of the period,
// so a ping delayed by a busy Send does not shift the later ones.
func TestLateTick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFlow(Config{Interval: 5 * s, Rand: fixed(0.5)}, time.Second)
		f.k.Start()
		f.sleepUntil(46 * s)
		f.stop()
		if p := f.k.Period(); p != 4500*time.Millisecond {
			t.Fatalf("Period() = %v, want 4.5s", p)
		}
		f.check(t, every(4500*time.Millisecond, 4500*time.Millisecond, 46*s), nil)
	})
}
