package main

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sipws/sipws/internal/race"
)

// The tests run the tools at a small N so that they cannot rot: every
// mode of the fleet benchmark for both backends, and a restart storm each
// way, with short timers. They check that the runs measure something and
// that Disconnect leaves no goroutine behind; the figures themselves mean
// nothing at this size.

func smallN() int {
	if race.Enabled {
		return 50
	}
	return 200
}

func testLog(t *testing.T) io.Writer {
	if testing.Verbose() {
		return os.Stderr
	}
	return io.Discard
}

func TestFleet(t *testing.T) {
	for _, c := range []struct{ mode, scheme string }{{"real", "ws"}, {"real", "wss"}, {"mem", "ws"}} {
		for _, b := range backends {
			cfg := fleetConfig{Mode: c.mode, Backend: b, Scheme: c.scheme, N: smallN(), Addrs: 4, Concurrency: 32,
				KeepAlive: 100 * time.Millisecond, Warmup: 120 * time.Millisecond, Steady: 200 * time.Millisecond, Rephase: true}
			if c.scheme == "wss" {
				cfg.N /= 2 // TLS handshakes are slow
			}
			t.Run(c.mode+"/"+c.scheme+"/"+b, func(t *testing.T) {
				r, err := runFleet(cfg, testLog(t))
				if err != nil {
					t.Fatal(err)
				}
				if r.leftover != 0 {
					t.Errorf("%d goroutines left above the baseline after Disconnect of all", r.leftover)
				}
				// One each, and a few keepalive timers' goroutines writing at
				// that moment.
				if got := r.opened.goroutines - r.base.goroutines; got < cfg.N || got > cfg.N+cfg.N/2 {
					t.Errorf("%d goroutines for %d OPEN transports, want one each", got, cfg.N)
				}
				if r.steadyKA == 0 {
					t.Error("no keepalive round trip in the steady window")
				}
				if r.steadyDials != 0 {
					t.Errorf("%d dials in the steady window, want 0", r.steadyDials)
				}
				if r.openDials < cfg.N {
					t.Errorf("%d dials counted for %d transports", r.openDials, cfg.N)
				}
				checkLine(t, cfg.name(), r.metrics(), "rss-B/tr", "heap-B/tr", "stack-B/tr", "goroutines/tr", "cpu-us/ka", "open/s")
			})
		}
	}
}

func TestStorm(t *testing.T) {
	for _, c := range []struct {
		backend string
		jitter  float64
	}{{"wsgobwas", -1}, {"ws", 0}} {
		cfg := stormConfig{Backend: c.backend, N: smallN() / 2, Jitter: c.jitter, Delay: 100 * time.Millisecond,
			Reconnect: 200 * time.Millisecond, Concurrency: 32, Timeout: 5 * time.Second}
		t.Run(cfg.name(), func(t *testing.T) {
			r, err := runStorm(cfg, testLog(t))
			if err != nil {
				t.Fatal(err)
			}
			if r.allOpen == 0 {
				t.Fatalf("not all OPEN again within %v", cfg.Timeout)
			}
			if len(r.accepts) < cfg.N {
				t.Errorf("the restarted server saw %d accepts, want at least %d", len(r.accepts), cfg.N)
			}
			if len(r.dials) <= cfg.N {
				t.Errorf("%d dials after the kill, want more than %d (the retries against the dead port)", len(r.dials), cfg.N)
			}
			if r.up <= r.kill {
				t.Errorf("the restart (%d) is not after the kill (%d)", r.up, r.kill)
			}
			if r.leftover != 0 {
				t.Errorf("%d goroutines left above the baseline after Disconnect of all", r.leftover)
			}
			var tl strings.Builder
			r.timeline(&tl)
			if !strings.Contains(tl.String(), "accepts") {
				t.Errorf("timeline: %q", tl.String())
			}
			checkLine(t, cfg.name(), r.metrics(), "allopen-s", "acc-peak10ms", "dial-peak10ms", "synretrans")
		})
	}
}

// checkLine checks that the result line reads back with the units given.
func checkLine(t *testing.T, name string, ms []metric, units ...string) {
	t.Helper()
	line := benchLine(name, ms)
	set := parseResults(strings.NewReader("goos: linux\n" + line + "\n"))
	if len(set) != 1 || set[0].name != name {
		t.Fatalf("%q read back as %+v", line, set)
	}
	for _, u := range units {
		if v := set[0].vals[u]; len(v) != 1 {
			t.Errorf("%s: %v in %q", u, v, line)
		}
	}
}

// TestMemConnDeadline: a read deadline wakes a blocked Read, as on a
// socket; the backends' Close relies on it.
func TestMemConnDeadline(t *testing.T) {
	c := newMemConn()
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	select {
	case err := <-done:
		if !os.IsTimeout(err) {
			t.Errorf("Read: %v, want a timeout", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still blocked 5 s after its deadline")
	}
	c.Close()
}

func TestTable(t *testing.T) {
	in := "BenchmarkX/n=1 1 10 a-B/tr 1 b\nBenchmarkX/n=1 1 30 a-B/tr 3 b\nBenchmarkX/n=1 1 20 a-B/tr 2 b\n"
	var out strings.Builder
	printTable(&out, []string{"before"}, [][]*series{parseResults(strings.NewReader(in))})
	if !strings.Contains(out.String(), "20 [10–30] ×3") {
		t.Errorf("table:\n%s", out.String())
	}
}
