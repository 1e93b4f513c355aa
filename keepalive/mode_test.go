package keepalive

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-hclog"
)

func TestModeText(t *testing.T) {
	for _, tt := range []struct {
		m    Mode
		text string
	}{{CRLF, "crlf"}, {WebSocketPing, "ws-ping"}, {Options, "options"}} {
		b, err := json.Marshal(tt.m)
		if err != nil || string(b) != `"`+tt.text+`"` {
			t.Errorf("Marshal(%v) = %s, %v", tt.m, b, err)
		}
		var m Mode
		if err := json.Unmarshal(b, &m); err != nil || m != tt.m {
			t.Errorf("Unmarshal(%s) = %v, %v", b, m, err)
		}
		if tt.m.String() != tt.text {
			t.Errorf("String() = %q, want %q", tt.m.String(), tt.text)
		}
	}
	var m Mode = WebSocketPing
	if err := m.UnmarshalText(nil); err != nil || m != CRLF {
		t.Errorf("empty name: %v, %v; want CRLF, the default", m, err)
	}
	for _, bad := range []string{"CRLF", "ws_ping", "ping", "Options", " crlf"} {
		if err := m.UnmarshalText([]byte(bad)); !errors.Is(err, ErrMode) || !strings.Contains(err.Error(), bad) {
			t.Errorf("UnmarshalText(%q) = %v, want ErrMode naming it", bad, err)
		}
	}
	if _, err := Mode(9).MarshalText(); !errors.Is(err, ErrMode) {
		t.Errorf("MarshalText(Mode(9)) = %v, want ErrMode", err)
	}
	if Mode(9).Valid() || Mode(9).String() != "Mode(9)" {
		t.Errorf("Mode(9): Valid %v, String %q", Mode(9).Valid(), Mode(9).String())
	}
}

// modeFlow is a server for a Keeper in a mode other than CRLF: each Ping is
// answered after delay with Keeper.Pong (zero: never), and it answers the
// Keeper's CRLF pings with CRLF as a CRLF server would.
type modeFlow struct {
	start time.Time
	k     *Keeper
	delay time.Duration

	mu       sync.Mutex
	wg       sync.WaitGroup
	done     chan struct{}
	pings    []time.Duration
	sent     []string // what went through Send
	failures []time.Duration
}

func newModeFlow(cfg Config, delay time.Duration) *modeFlow {
	f := &modeFlow{start: time.Now(), delay: delay, done: make(chan struct{})}
	cfg.Ping = func() error {
		f.mu.Lock()
		f.pings = append(f.pings, time.Since(f.start))
		f.mu.Unlock()
		if f.delay > 0 {
			f.wg.Go(func() {
				select {
				case <-time.After(f.delay):
					f.k.Pong()
				case <-f.done:
				}
			})
		}
		return nil
	}
	cfg.Send = func(p []byte) error {
		f.mu.Lock()
		f.sent = append(f.sent, string(p))
		f.mu.Unlock()
		return nil
	}
	cfg.OnFailure = func() {
		f.mu.Lock()
		f.failures = append(f.failures, time.Since(f.start))
		f.mu.Unlock()
	}
	f.k = New(cfg)
	return f
}

func (f *modeFlow) stop() { f.k.Stop(); close(f.done); f.wg.Wait() }

// TestModePingAndPong: in ws-ping and options modes the schedule is the
// same as in CRLF mode, pings go through Ping, and the pong is what the
// owner reports with Pong.
func TestModePingAndPong(t *testing.T) {
	for _, mode := range []Mode{WebSocketPing, Options} {
		t.Run(mode.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newModeFlow(Config{Mode: mode, Interval: 5 * s, Debounce: 10 * s, PongTimeout: 2 * s, Rand: fixed(0)}, 100*time.Millisecond)
				f.k.Start()
				time.Sleep(13 * s)
				f.stop()
				if want := []time.Duration{4 * s, 8 * s, 12 * s}; !slices.Equal(f.pings, want) {
					t.Errorf("pings at %v, want %v", f.pings, want)
				}
				if len(f.failures) != 0 || len(f.sent) != 0 {
					t.Errorf("failures %v, Send calls %q: want none", f.failures, f.sent)
				}
			})
		})
	}
}

// TestModeCRLFIsNotAPong: outside CRLF mode a CRLF message is consumed but
// does not answer the ping: a server that only answers CRLF (the wrong
// mode for it) fails the flow at the pong timeout (moved on once, since the
// CRLF was a sign of life).
func TestModeCRLFIsNotAPong(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rtts := 0
		f := newModeFlow(Config{Mode: WebSocketPing, Interval: 5 * s, PongTimeout: 2 * s, Rand: fixed(0),
			OnRTT: func(time.Duration) { rtts++ }}, 0)
		f.k.Start()
		time.Sleep(4*s + time.Millisecond)
		if !f.k.Received([]byte(CRLFPong)) {
			t.Error("a CRLF pong is not keepalive traffic")
		}
		f.k.Handled()
		time.Sleep(5 * s)
		f.stop()
		if want := []time.Duration{8 * s}; !slices.Equal(f.failures, want) || rtts != 0 {
			t.Errorf("failures at %v, %d RTTs; want %v and none: a CRLF message must not count as a ws-ping pong", f.failures, rtts, want)
		}
	})
}

// TestModeServerPingAnswered: a server's CRLF ping is answered with CRLF in
// every mode.
func TestModeServerPingAnswered(t *testing.T) {
	for _, mode := range []Mode{CRLF, WebSocketPing, Options} {
		synctest.Test(t, func(t *testing.T) {
			f := newModeFlow(Config{Mode: mode}, 0)
			f.k.Start()
			f.k.Received([]byte(CRLFPing))
			f.stop()
			if want := []string{CRLFPong}; !slices.Equal(f.sent, want) {
				t.Errorf("mode %v: sent %q, want %q", mode, f.sent, want)
			}
		})
	}
}

// TestModePongWithoutPing: Pong with no ping outstanding, before Start or
// after Stop changes nothing and calls nothing.
func TestModePongWithoutPing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rtts := 0
		k := New(Config{Mode: Options, Interval: 5 * s, Rand: fixed(0), OnRTT: func(time.Duration) { rtts++ }, Ping: func() error { return nil }})
		k.Pong()
		k.Start()
		k.Pong()
		time.Sleep(5 * s)
		k.Pong() // answers the ping at 4 s..5 s
		k.Pong() // nothing outstanding any more
		k.Stop()
		k.Pong()
		if rtts != 1 {
			t.Errorf("OnRTT called %d times, want 1", rtts)
		}
	})
}

// TestLogger: pings, pongs and answered server pings are logged at Trace,
// a pong timeout at Debug; nothing at Info.
func TestLogger(t *testing.T) {
	for _, level := range []hclog.Level{hclog.Trace, hclog.Info} {
		synctest.Test(t, func(t *testing.T) {
			var buf bytes.Buffer
			var mu sync.Mutex
			log := hclog.New(&hclog.LoggerOptions{Level: level, Output: writerFunc(func(p []byte) (int, error) {
				mu.Lock()
				defer mu.Unlock()
				return buf.Write(p)
			})})
			f := newFlow(Config{Interval: 5 * s, PongTimeout: 2 * s, Rand: fixed(0), Logger: log}, 100*time.Millisecond)
			f.k.Start()
			time.Sleep(5 * s)
			f.k.Received([]byte(CRLFPing))
			f.stop()
			f = newFlow(Config{Interval: 5 * s, PongTimeout: 2 * s, Rand: fixed(0), Logger: log}, 0) // silent
			f.k.Start()
			time.Sleep(7 * s)
			f.stop()
			mu.Lock()
			out := buf.String()
			mu.Unlock()
			for _, line := range []string{"ping sent", "pong", "server ping answered", "pong timeout"} {
				if got := strings.Contains(out, line); got != (level == hclog.Trace) {
					t.Errorf("level %v: %q logged = %v\n%s", level, line, got, out)
				}
			}
		})
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
