package keepalive

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

const s = time.Second

// flow is the far end of a connection, and the record of everything a
// Keeper did to it, in virtual time since the flow was made.
type flow struct {
	start time.Time
	k     *Keeper

	// answer, when > 0, makes the server pong each ping that long after
	// receiving it; zero is a silent server.
	answer time.Duration

	done     chan struct{} // closed by stop: pending answers are dropped
	wg       sync.WaitGroup
	mu       sync.Mutex
	pings    []time.Duration
	pongs    []time.Duration // Pongs the Keeper sent (answers to server pings)
	failures []time.Duration
	rtts     []time.Duration
}

// newFlow returns a flow and a Keeper wired to it. cfg's Send, OnFailure
// and OnRTT are replaced by the flow's recorders; call it inside the bubble.
func newFlow(cfg Config, answer time.Duration) *flow {
	f := &flow{start: time.Now(), answer: answer, done: make(chan struct{})}
	cfg.Send = f.send
	cfg.OnFailure = f.fail
	cfg.OnRTT = f.rtt
	f.k = New(cfg)
	return f
}

func (f *flow) since() time.Duration { return time.Since(f.start) }

func (f *flow) send(p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch string(p) {
	case "\r\n\r\n":
		f.pings = append(f.pings, f.since())
		if f.answer > 0 {
			f.wg.Go(func() {
				select {
				case <-time.After(f.answer):
					f.k.Received(pong)
				case <-f.done:
				}
			})
		}
	case "\r\n":
		f.pongs = append(f.pongs, f.since())
	default:
		panic(fmt.Sprintf("Send(%q): not a ping or a pong", p))
	}
	return nil
}

func (f *flow) fail() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, f.since())
}

func (f *flow) rtt(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rtts = append(f.rtts, d)
}

// stop stops the Keeper and ends the server's pending answers, so that
// the bubble can end.
func (f *flow) stop() {
	f.k.Stop()
	close(f.done)
	f.wg.Wait()
}

// sleepUntil advances virtual time to at since the flow was made.
func (f *flow) sleepUntil(at time.Duration) {
	time.Sleep(at - f.since())
}

// check compares the pings and failures recorded so far.
func (f *flow) check(t *testing.T, pings, failures []time.Duration) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Equal(f.pings, pings) {
		t.Errorf("pings at %v, want %v", f.pings, pings)
	}
	if !slices.Equal(f.failures, failures) {
		t.Errorf("OnFailure at %v, want %v", f.failures, failures)
	}
}

// every returns first, first+step, ... up to and including last.
func every(first, step, last time.Duration) []time.Duration {
	var out []time.Duration
	for at := first; at <= last; at += step {
		out = append(out, at)
	}
	return out
}

// fixed is a Rand that always returns r.
func fixed(r float64) func() float64 { return func() float64 { return r } }
