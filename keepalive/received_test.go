package keepalive

import (
	"io"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-hclog"
)

// TestReceived: what Received consumes, what it answers, and what counts as
// a pong.
func TestReceived(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		started bool
		want    bool     // consumed as keepalive
		sent    []string // what Send was given
		pong    bool     // answers an outstanding ping
	}{
		{"ServerPing/AnsweredNotAPong", "\r\n\r\n", true, true, []string{"\r\n"}, false},
		{"pong/NotAnswered", "\r\n", true, true, nil, true},
		{"LoneLF/IsPong", "\n", true, true, nil, true},
		{"TripleCRLF/IsPongNotPing", "\r\n\r\n\r\n", true, true, nil, true},
		{"SIP/NotConsumed", "OPTIONS sip:a@b SIP/2.0\r\n\r\n", true, false, nil, false},
		{"Empty/NotConsumed", "", true, false, nil, false},
		{"LeadingSpace/NotConsumed", " \r\n", true, false, nil, false},
		{"NotStarted/ServerPingClassifiedOnly", "\r\n\r\n", false, true, nil, false},
		{"NotStarted/PongClassifiedOnly", "\r\n", false, true, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var sent []string
				var rtts []time.Duration
				k := New(Config{Interval: 5 * s, Debounce: 10 * s, PongTimeout: 10 * s, Rand: fixed(0),
					Send: func(p []byte) error {
						mu.Lock()
						defer mu.Unlock()
						if string(p) != "\r\n\r\n" {
							sent = append(sent, string(p))
						}
						return nil
					},
					OnRTT:     func(d time.Duration) { rtts = append(rtts, d) },
					OnFailure: func() { t.Error("OnFailure called") },
				})
				k.Start()
				time.Sleep(5 * s) // a ping went out at 4 s
				if !tt.started {
					k.Stop()
				}
				if got := k.Received([]byte(tt.in)); got != tt.want {
					t.Errorf("Received(%q) = %v, want %v", tt.in, got, tt.want)
				}
				if tt.started && tt.pong {
					time.Sleep(9500 * time.Millisecond) // past 14 s: the 4 s ping's deadline
				}
				k.Stop()
				mu.Lock()
				defer mu.Unlock()
				if !slices.Equal(sent, tt.sent) {
					t.Errorf("Send got %q, want %q", sent, tt.sent)
				}
				var wantRTT []time.Duration
				if tt.pong {
					wantRTT = []time.Duration{s}
				}
				if !slices.Equal(rtts, wantRTT) {
					t.Errorf("OnRTT got %v, want %v", rtts, wantRTT)
				}
			})
		})
	}
}

// TestReceivedServerPingIntervalZero: with keepalives off, a started Keeper
// still answers the server's pings (SPEC.md Keepalive).
func TestReceivedServerPingIntervalZero(t *testing.T) {
	var sent []string
	k := New(Config{Send: func(p []byte) error { sent = append(sent, string(p)); return nil }})
	k.Start()
	k.Received(ping)
	k.Received(pong)
	k.Received(ping)
	k.Stop()
	if want := []string{"\r\n", "\r\n"}; !slices.Equal(sent, want) {
		t.Errorf("Send got %q, want %q", sent, want)
	}
}

// TestReceivedNilCallbacks: a Config without callbacks is valid.
func TestReceivedNilCallbacks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := New(Config{Interval: 5 * s, PongTimeout: 10 * s})
		k.Start()
		time.Sleep(30 * s) // pings discarded, failure unreported
		if !k.Received(ping) || !k.Received(pong) {
			t.Error("Received(keepalive) = false, want true")
		}
		k.Stop()
	})
}

// TestReceivedAllocs: Received allocates nothing, for SIP messages, pongs
// and answered server pings alike, with a logger whose Trace is off.
func TestReceivedAllocs(t *testing.T) {
	k := New(Config{
		Send:   func([]byte) error { return nil },
		OnRTT:  func(time.Duration) {},
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: io.Discard}),
	})
	k.Start()
	defer k.Stop()
	for _, in := range []string{"OPTIONS sip:a@b SIP/2.0\r\n\r\n", "\r\n", "\r\n\r\n", "\n\n\n"} {
		p := []byte(in)
		if n := testing.AllocsPerRun(100, func() { k.Received(p) }); n != 0 {
			t.Errorf("Received(%q) allocates %v times per call, want 0", in, n)
		}
	}
}

// TestReceivedAllocsWithOutstandingPing: answering an outstanding ping
// (disarming the pong timer, reporting the RTT) allocates nothing either.
func TestReceivedAllocsWithOutstandingPing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rtts int
		k := New(Config{Interval: 5 * s, PongTimeout: 10 * s, Rand: fixed(0),
			Send: func([]byte) error { return nil }, OnRTT: func(time.Duration) { rtts++ },
			Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: io.Discard})})
		k.Start()
		defer k.Stop()
		time.Sleep(s) // off the ping instants
		// Each call, the warm-up one included, answers a fresh ping.
		allocs := testing.AllocsPerRun(5, func() {
			time.Sleep(4 * s)
			k.Received(pong)
		})
		if allocs != 0 || rtts != 6 {
			t.Errorf("%v allocations per pong, %d RTTs, want 0 and 6", allocs, rtts)
		}
	})
}

func BenchmarkReceived(b *testing.B) {
	k := New(Config{Send: func([]byte) error { return nil }})
	k.Start()
	defer k.Stop()
	for _, bc := range []struct{ name, in string }{
		{"SIP", "SIP/2.0 200 OK\r\nVia: SIP/2.0/WSS a.invalid;branch=z9hG4bK1\r\n\r\n"},
		{"pong", "\r\n"},
		{"ServerPing", "\r\n\r\n"},
	} {
		p := []byte(bc.in)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				k.Received(p)
			}
		})
	}
}
