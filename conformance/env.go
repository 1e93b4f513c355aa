package conformance

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"go.uber.org/goleak"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
)

// The suite's time bounds. Everything happens on loopback, so they are
// generous even under the race detector on a busy machine, and short
// enough that a backend that never does a thing fails in seconds.
const (
	// caseTimeout is the deadline of one case: a backend call still
	// running then fails the case, whatever it was waiting for.
	caseTimeout = 15 * time.Second

	// patience bounds the wait for anything that should happen at once on
	// loopback: a message, a close frame, a call returning. Where a broken
	// backend makes something else happen instead (a message where a
	// close was due, a connection ending without a close frame), the wait
	// ends with that, so that a fault fails at once rather than at the
	// end of the wait.
	patience = 2 * time.Second

	// settle bounds the wait for what a correct backend has already done
	// when its call returned, or does the moment the peer acts, and whose
	// absence nothing else reveals: a socket closed before Dial returned,
	// a read woken by the peer's hang-up. The peer has only to notice.
	settle = 500 * time.Millisecond

	// fast bounds what must not wait at all, such as a dial to a closed
	// port.
	fast = settle
)

// env is one case's world: its test, its deadline, its Dialer, the servers
// it started and the backend calls still running. Every resource it makes
// is released by the test's cleanups.
type env struct {
	t         tb
	ctx       context.Context // ends at the case's deadline
	began     time.Time
	newDialer func() dialer.Dialer
	d         dialer.Dialer // made on first use: one per case
	baseline  goleak.Option // the goroutines alive when the case began

	mu      sync.Mutex
	running map[string]int // backend calls in flight, by description
	changed chan struct{}  // closed and replaced when a call ends
	servers []*sipserver.Server
	log     []string // the servers' and the transport's logs
}

// runCase runs one case on t with a fresh env.
func runCase(raw tb, c testCase, newDialer func() dialer.Dialer) {
	raw.Helper()
	t := graded{raw, c.rule}
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	e := &env{
		t:         t,
		ctx:       ctx,
		began:     time.Now(),
		newDialer: newDialer,
		baseline:  goleak.IgnoreCurrent(),
		running:   make(map[string]int),
		changed:   make(chan struct{}),
	}
	// Registered first, so it runs last, once every connection, transport
	// and server of the case is closed: by then every call must have
	// returned.
	t.Cleanup(func() {
		cancel()
		if left := e.awaitCalls(patience); len(left) > 0 {
			t.Errorf("backend calls still running after the case ended and its sockets were closed: %s",
				strings.Join(left, ", "))
		}
		if t.Failed() {
			if log := e.logText(); log != "" {
				t.Logf("log of the test servers and the transport:\n%s", log)
			}
		}
	})
	c.run(e)
}

// dialer returns the case's Dialer, made by newDialer on first use.
func (e *env) dialer() dialer.Dialer {
	e.t.Helper()
	if e.d == nil {
		e.d = e.newDialer()
		if e.d == nil {
			e.t.Fatalf("newDialer returned a nil dialer.Dialer")
		}
	}
	return e.d
}

// logf records one line of the servers' or the transport's log, shown
// only if the case fails. It may be called from any goroutine.
func (e *env) logf(format string, args ...any) {
	line := fmt.Sprintf("%7.3fs %s", time.Since(e.began).Seconds(), fmt.Sprintf(format, args...))
	e.mu.Lock()
	e.log = append(e.log, strings.TrimRight(line, "\n"))
	e.mu.Unlock()
}

// Write lets the transport's hclog logger write into the case's log.
func (e *env) Write(p []byte) (int, error) {
	e.logf("%s", p)
	return len(p), nil
}

func (e *env) logText() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.log, "\n")
}

// server starts a loopback server, closed by the case's cleanup.
func (e *env) server(o sipserver.Options) *sipserver.Server {
	e.t.Helper()
	o.Logf = e.logf
	s, err := sipserver.Start(o)
	if err != nil {
		e.t.Fatalf("starting the test server: %v", err)
	}
	e.mu.Lock()
	e.servers = append(e.servers, s)
	e.mu.Unlock()
	e.t.Cleanup(func() {
		if err := s.Close(); err != nil {
			e.t.Errorf("closing the test server: %v", err)
		}
	})
	return s
}

// closeServers closes every server of the case now, which cuts every
// connection to them; the cleanup's Close then does nothing.
func (e *env) closeServers() {
	e.mu.Lock()
	servers := e.servers
	e.mu.Unlock()
	for _, s := range servers {
		if err := s.Close(); err != nil {
			e.t.Errorf("closing the test server: %v", err)
		}
	}
}

// waitFor waits until cond holds on s, at most d, and reports whether it
// did. The caller reports what it saw.
func (e *env) waitFor(s *sipserver.Server, d time.Duration, cond func() bool) bool {
	ctx, cancel := context.WithTimeout(e.ctx, d)
	defer cancel()
	return s.Wait(ctx, cond) == nil
}

// noLeaks fails the case if a goroutine that did not exist when the case
// began is still running (goleak retries for a while, so goroutines on
// their way out are not reported). The case closes what it made first.
func (e *env) noLeaks(when string) {
	e.t.Helper()
	if left := e.awaitCalls(patience); len(left) > 0 {
		e.t.Errorf("%s, backend calls are still running: %s", when, strings.Join(left, ", "))
		return
	}
	if err := goleak.Find(e.baseline); err != nil {
		e.t.Errorf("%s, goroutines started during the case are still running "+
			"(a Conn must not start goroutines that outlive Close): %v", when, err)
	}
}

// A future is a call into the backend running on a goroutine of its own,
// so that the case can bound it: a call that hangs fails the case, and
// the goroutine is accounted for until it returns.
type future[T any] struct {
	e     *env
	what  string
	done  chan struct{}
	v     T
	panic any
	stack []byte
}

// start runs f on a new goroutine. what describes the call in failure
// messages, e.g. "Close(1000, \"\")".
func start[T any](e *env, what string, f func() T) *future[T] {
	fu := &future[T]{e: e, what: what, done: make(chan struct{})}
	e.mu.Lock()
	e.running[what]++
	e.mu.Unlock()
	go func() {
		defer e.callEnded(what)
		defer close(fu.done)
		defer func() {
			if p := recover(); p != nil {
				fu.panic, fu.stack = p, debug.Stack()
			}
		}()
		fu.v = f()
	}()
	return fu
}

// within runs f and returns its result, failing the case if f does not
// return within d or panics.
func within[T any](e *env, what string, d time.Duration, f func() T) T {
	e.t.Helper()
	return start(e, what, f).wait(d)
}

// wait returns the call's result, failing the case if the call does not
// return within d (or by the case's deadline) or panicked.
func (fu *future[T]) wait(d time.Duration) T {
	fu.e.t.Helper()
	v, ok := fu.poll(d)
	if !ok {
		fu.e.t.Fatalf("%s did not return within %v", fu.what, d)
	}
	return v
}

// poll is wait without failing on a timeout: ok is false if the call is
// still running after d. A panic still fails the case.
func (fu *future[T]) poll(d time.Duration) (v T, ok bool) {
	fu.e.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-fu.done:
		if fu.panic != nil {
			fu.e.t.Fatalf("%s panicked: %v\n%s", fu.what, fu.panic, fu.stack)
		}
		return fu.v, true
	case <-timer.C:
		return v, false
	case <-fu.e.ctx.Done():
		fu.e.t.Fatalf("%s had not returned at the case's deadline (%v)", fu.what, caseTimeout)
		return v, false
	}
}

// settle is wait for cleanups: it waits at most d, whatever the case's
// deadline, reports a panic or a timeout with Errorf (a cleanup must not
// end its goroutine), and reports whether the call returned normally.
func (fu *future[T]) settle(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-fu.done:
		if fu.panic != nil {
			fu.e.t.Errorf("%s panicked: %v\n%s", fu.what, fu.panic, fu.stack)
			return false
		}
		return true
	case <-timer.C:
		fu.e.t.Errorf("%s did not return within %v", fu.what, d)
		return false
	}
}

func (e *env) callEnded(what string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running[what]--; e.running[what] == 0 {
		delete(e.running, what)
	}
	close(e.changed)
	e.changed = make(chan struct{})
}

// awaitCalls waits at most d for every call in flight to return, and
// returns the ones still running.
func (e *env) awaitCalls(d time.Duration) []string {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		e.mu.Lock()
		var left []string
		for what, n := range e.running {
			if n > 1 {
				what = fmt.Sprintf("%s (x%d)", what, n)
			}
			left = append(left, what)
		}
		changed := e.changed
		e.mu.Unlock()
		if len(left) == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-timer.C:
			return left
		}
	}
}
