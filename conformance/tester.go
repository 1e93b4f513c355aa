package conformance

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
)

// tb is what a case needs of its test: the methods of *testing.T the suite
// calls. *testing.T satisfies it for Run and a recorder for Test, so the
// cases are written once. Every method but Fatalf may be called from any
// goroutine while the case runs; Fatalf only from the case's own.
type tb interface {
	Helper()
	Name() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Failed() bool
	Cleanup(f func())
}

// recorder is the tb of Test: it keeps what a case reports instead of
// handing it to the testing package. Fatalf ends the case's goroutine with
// runtime.Goexit, as testing.T.FailNow does, and a panic in the case is a
// failure, not a crash.
type recorder struct {
	name string

	mu       sync.Mutex
	failed   bool
	log      []string
	cleanups []func()
}

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, fmt.Sprintf(format, args...))
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	r.Logf(format, args...)
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

// lines returns a copy of everything logged so far.
func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.log)
}

// run runs f as the testing package runs a test: on a goroutine of its
// own, then the cleanups, last registered first, each on its own goroutine
// so that a Fatalf in one does not skip the others. It returns once all of
// them have ended.
func (r *recorder) run(f func(tb)) {
	r.guarded(func() { f(r) })
	for {
		r.mu.Lock()
		n := len(r.cleanups)
		if n == 0 {
			r.mu.Unlock()
			return
		}
		c := r.cleanups[n-1]
		r.cleanups = r.cleanups[:n-1]
		r.mu.Unlock()
		r.guarded(c)
	}
}

// guarded runs f on a new goroutine and waits for it; a panic is recorded
// as a failure with its stack.
func (r *recorder) guarded(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		returned := false
		defer func() {
			if returned {
				return
			}
			// runtime.Goexit (Fatalf) also lands here, with nothing to recover.
			if p := recover(); p != nil {
				r.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		f()
		returned = true
	}()
	<-done
}
