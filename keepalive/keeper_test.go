package keepalive

import (
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestPeriod: Start draws the period uniform in [0.8, 1.0) × Interval.
func TestPeriod(t *testing.T) {
	const iv = 5 * s
	tests := []struct {
		name     string
		interval time.Duration
		r        float64
		want     time.Duration
	}{
		{"Zero", iv, 0, 4 * s},
		{"Half", iv, 0.5, 4500 * time.Millisecond},
		{"JustUnderOne", iv, 0.999, 4999 * time.Millisecond},
		{"LargestBelowOne", iv, math.Nextafter(1, 0), iv - 1},
		{"OutOfRange/One", iv, 1, iv - 1},
		{"OutOfRange/Above", iv, 7, iv - 1},
		{"OutOfRange/Negative", iv, -3, 4 * s},
		{"OutOfRange/NaN", iv, math.NaN(), 4 * s},
		{"TinyInterval", 1, 0, 1},
		{"IntervalZero", 0, 0.5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				k := New(Config{Interval: tt.interval, Rand: fixed(tt.r)})
				for range 100 { // many runs: the same draw each time
					k.Start()
					if got := k.Period(); got != tt.want {
						t.Fatalf("Period() = %v with Rand %v, want %v", got, tt.r, tt.want)
					}
					k.Stop()
				}
			})
		})
	}

	t.Run("DefaultSource", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			k := New(Config{Interval: iv})
			lo, hi := iv, time.Duration(0)
			for range 2000 {
				k.Start()
				p := k.Period()
				k.Stop()
				if p < 4*s || p >= iv {
					t.Fatalf("Period() = %v, want in [4s, 5s)", p)
				}
				lo, hi = min(lo, p), max(hi, p)
			}
			// 2000 uniform draws cover most of the 1 s range.
			if lo > 4100*time.Millisecond || hi < 4900*time.Millisecond {
				t.Errorf("periods span [%v, %v], want most of [4s, 5s)", lo, hi)
			}
		})
	})

	t.Run("BeforeStart", func(t *testing.T) {
		if got := New(Config{Interval: iv}).Period(); got != 0 {
			t.Errorf("Period() before Start = %v, want 0", got)
		}
	})
}

// TestStartTwice: Start while started changes nothing: no new draw, no
// second schedule.
func TestStartTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var draws atomic.Int32
		rnd := func() float64 { draws.Add(1); return 0 }
		f := newFlow(Config{Interval: 5 * s, Rand: rnd}, 0)
		f.k.Start()
		f.sleepUntil(2 * s)
		f.k.Start()
		f.sleepUntil(9 * s)
		f.stop()
		f.check(t, []time.Duration{4 * s, 8 * s}, nil)
		if n := draws.Load(); n != 1 {
			t.Errorf("Rand called %d times, want 1", n)
		}
	})
}

// TestStopTwice: Stop is idempotent, also before any Start.
func TestStopTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFlow(Config{Interval: 5 * s, PongTimeout: 10 * s, Rand: fixed(0)}, 0)
		f.k.Stop()
		f.k.Start()
		f.sleepUntil(5 * s)
		f.k.Stop()
		f.k.Stop()
		f.sleepUntil(60 * s)
		f.stop()
		f.check(t, []time.Duration{4 * s}, nil)
	})
}

// TestStopPendingPing: Stop while a ping waits for its pong: no OnFailure,
// no further Send.
func TestStopPendingPing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFlow(Config{Interval: 5 * s, Debounce: 10 * s, PongTimeout: 10 * s, Rand: fixed(0)}, 0)
		f.k.Start()
		f.sleepUntil(13 * s) // ping at 4 s, its deadline at 14 s
		f.k.Stop()
		f.sleepUntil(120 * s)
		f.check(t, []time.Duration{4 * s}, nil)
		// A late pong after Stop is still keepalive traffic, and reports nothing.
		if !f.k.Received(pong) {
			t.Error("Received(CRLF) after Stop = false, want true")
		}
		f.stop()
		if len(f.rtts) != 0 {
			t.Errorf("RTTs %v after Stop, want none", f.rtts)
		}
	})
}

// TestStopWaitsForSend: Stop called while a ping's Send is blocked returns
// only after Send returns; nothing is sent after that.
func TestStopWaitsForSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sends int
		release := make(chan struct{})
		k := New(Config{Interval: 5 * s, PongTimeout: 10 * s, Rand: fixed(0),
			OnFailure: func() { t.Error("OnFailure called after Stop") },
			Send: func(p []byte) error {
				mu.Lock()
				sends++
				mu.Unlock()
				<-release
				return nil
			}})
		k.Start()
		time.Sleep(5 * s) // the ping at 4 s is blocked in Send

		var stopped atomic.Bool
		done := make(chan struct{})
		go func() {
			k.Stop()
			stopped.Store(true)
			close(done)
		}()
		time.Sleep(30 * s) // past the pong deadline and several due pings
		synctest.Wait()
		if stopped.Load() {
			t.Fatal("Stop returned while Send was blocked, want it to wait")
		}
		close(release)
		<-done
		time.Sleep(60 * s)
		mu.Lock()
		defer mu.Unlock()
		if sends != 1 {
			t.Errorf("Send called %d times, want 1", sends)
		}
	})
}

// TestStopWaitsForOnFailure: Stop waits for a running OnFailure; and the
// supported way to stop from inside OnFailure, on another goroutine, works.
func TestStopWaitsForOnFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inside := make(chan struct{})
		release := make(chan struct{})
		k := New(Config{Interval: 5 * s, PongTimeout: 10 * s, Rand: fixed(0),
			OnFailure: func() { close(inside); <-release }})
		k.Start()
		<-inside // at 14 s
		var stopped atomic.Bool
		done := make(chan struct{})
		go func() { k.Stop(); stopped.Store(true); close(done) }()
		time.Sleep(time.Minute)
		synctest.Wait()
		if stopped.Load() {
			t.Fatal("Stop returned while OnFailure was running, want it to wait")
		}
		close(release)
		<-done
	})

	synctest.Test(t, func(t *testing.T) {
		var k *Keeper
		stopped := make(chan time.Duration, 1)
		start := time.Now()
		k = New(Config{Interval: 5 * s, PongTimeout: 10 * s, Rand: fixed(0),
			OnFailure: func() {
				go func() { k.Stop(); stopped <- time.Since(start) }()
			}})
		k.Start()
		if at := <-stopped; at != 14*s {
			t.Errorf("stopped from OnFailure at %v, want 14s", at)
		}
	})
}

// TestRestart: Start after Stop begins a fresh run: a new period, the first
// ping one new period later, and a failed flow pings again.
func TestRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := 0.0
		f := newFlow(Config{Interval: 5 * s, Debounce: 10 * s, PongTimeout: 10 * s,
			Rand: func() float64 { return r }}, 0)
		f.k.Start()
		f.sleepUntil(30 * s) // ping at 4 s, failure at 14 s
		f.k.Stop()
		r = 0.5
		f.k.Start() // period 4.5 s
		if p := f.k.Period(); p != 4500*time.Millisecond {
			t.Errorf("Period() after restart = %v, want 4.5s", p)
		}
		f.sleepUntil(50 * s) // ping at 34.5 s, failure at 44.5 s
		f.stop()
		f.check(t, []time.Duration{4 * s, 34500 * time.Millisecond},
			[]time.Duration{14 * s, 44500 * time.Millisecond})
	})

	synctest.Test(t, func(t *testing.T) {
		// Restart with a ping outstanding: the new run does not inherit it.
		f := newFlow(Config{Interval: 5 * s, Debounce: 10 * s, PongTimeout: 10 * s, Rand: fixed(0)}, 0)
		f.k.Start()
		f.sleepUntil(5 * s) // ping at 4 s outstanding
		f.k.Stop()
		f.k.Start()
		f.sleepUntil(10 * s) // the new run's first ping at 9 s goes out
		f.stop()
		f.check(t, []time.Duration{4 * s, 9 * s}, nil)
	})
}

// TestConcurrentUse: Received, Start, Stop and Period from many goroutines
// while timers fire (run with -race).
func TestConcurrentUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFlow(Config{Interval: 50 * time.Millisecond, Debounce: 20 * time.Millisecond,
			PongTimeout: 30 * time.Millisecond}, 10*time.Millisecond)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				for j := range 200 {
					switch (i + j) % 4 {
					case 0:
						f.k.Start()
					case 1:
						f.k.Received(ping)
					case 2:
						f.k.Received(pong)
						f.k.Period()
					case 3:
						if j%16 == 3 {
							f.k.Stop()
						}
					}
					time.Sleep(time.Duration(j%7) * 3 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		f.stop()
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.pings) == 0 || len(f.pongs) == 0 {
			t.Errorf("%d pings and %d pongs sent, want some of each", len(f.pings), len(f.pongs))
		}
	})
}
