package conformance

import (
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
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
	Skipf(format string, args ...any)
	Failed() bool
	Cleanup(f func())
}

// graded is the tb a case sees: its failures end with the case's rule,
// grade and source. Helper is the embedded tb's own (the method wrapper is
// not a frame of its own), so that file:line is the check's.
type graded struct {
	tb
	rule rule
}

func (g graded) Errorf(format string, args ...any) {
	g.tb.Helper()
	g.tb.Errorf("%s\n%s", fmt.Sprintf(format, args...), g.rule.describe())
}

func (g graded) Fatalf(format string, args ...any) {
	g.tb.Helper()
	g.tb.Fatalf("%s\n%s", fmt.Sprintf(format, args...), g.rule.describe())
}

// recorder is the tb of Test: it keeps what a case reports instead of
// handing it to the testing package, each failure with the file:line of
// the check that reported it, as the testing package prints it. Fatalf
// ends the case's goroutine with runtime.Goexit, as testing.T.FailNow
// does, and a panic in the case is a failure, not a crash.
type recorder struct {
	name string

	mu       sync.Mutex
	failed   bool
	log      []string
	cleanups []func()
	helpers  map[string]bool // functions that called Helper
}

func (r *recorder) Name() string { return r.name }

// Helper marks its caller as a helper, whose frames the file:line of a
// failure skips, as testing.T.Helper does.
func (r *recorder) Helper() {
	var pc [1]uintptr
	if runtime.Callers(2, pc[:]) < 1 {
		return
	}
	fn := runtime.FuncForPC(pc[0]).Name()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.helpers == nil {
		r.helpers = make(map[string]bool)
	}
	r.helpers[fn] = true
}

// caller returns the file:line of the first frame above the recorder that
// is not a helper.
func (r *recorder) caller() string {
	var pcs [64]uintptr
	n := runtime.Callers(3, pcs[:]) // above caller and the recorder's method
	frames := runtime.CallersFrames(pcs[:n])
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		f, more := frames.Next()
		if !r.helpers[f.Function] && !strings.HasPrefix(f.Function, "github.com/sipws/sipws/conformance.(*recorder).") {
			return fmt.Sprintf("%s:%d", filepath.Base(f.File), f.Line)
		}
		if !more {
			return "?"
		}
	}
}

func (r *recorder) Logf(format string, args ...any) {
	r.logLine(r.caller() + ": " + fmt.Sprintf(format, args...))
}

func (r *recorder) logLine(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log = append(r.log, line)
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	r.logLine(r.caller() + ": " + fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	r.logLine(r.caller() + ": " + fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// Skipf records why the case was skipped and ends it, as testing.T.Skipf
// does; a skipped case has not failed.
func (r *recorder) Skipf(format string, args ...any) {
	r.logLine("skipped: " + fmt.Sprintf(format, args...))
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
