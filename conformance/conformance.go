package conformance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sipws/sipws/dialer"
)

// A testCase is one behaviour of the suite: a stable name, the rule it
// checks with the rule's source, and the action with its checks.
type testCase struct {
	// name is "Group/Rule". Names are API: third parties select and skip
	// cases with -run and -skip, so a name never changes once published.
	name string
	// rule is one sentence: what a backend must do, and where that is
	// written. It is logged when the case fails.
	rule string
	// run drives the backend and checks what it did.
	run func(e *env)
}

// cases is the whole suite, in the order it runs: the handshake first,
// then one connection, then the transport machine over the backend.
var cases = slices.Concat(dialCases, connCases, transportCases)

// Cases returns the names of every case, in the order Run runs them. Each
// name is "Group/Rule" (Dial, Conn or Transport); names are stable. It is
// safe for concurrent use.
func Cases() []string {
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.name
	}
	return names
}

// Run runs every case as a subtest of t named after it, e.g.
// "Conn/ReadLimitCloses1009". Each case gets a fresh loopback server and a
// fresh Dialer from newDialer (called with the subtest's T), a deadline of
// its own, and cleans up every resource it made; a backend call that hangs
// fails its case, not the run.
//
// The cases check goroutine leaks against the goroutines alive when each
// case starts, so Run must not run in parallel with other tests of the same
// binary (it never calls t.Parallel itself). It must be called from the
// test's goroutine, as t.Run is.
func Run(t *testing.T, newDialer func(t *testing.T) dialer.Dialer) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runCase(t, c, func() dialer.Dialer { return newDialer(t) })
		})
	}
}

// ErrUnknownCase is wrapped by the error of Test when it is given a name
// that is not a case.
var ErrUnknownCase = errors.New("conformance: no such case")

// A CaseError reports one case that failed under Test.
type CaseError struct {
	Case string   // the case's name, e.g. "Conn/ReadLimitCloses1009"
	Log  []string // what the case reported, in order: failures, the rule, the server's log
}

func (e *CaseError) Error() string {
	return "conformance: " + e.Case + " failed:\n\t" + strings.Join(e.Log, "\n\t")
}

// Test is Run without a *testing.T, for callers outside go test (a
// command that vets a backend, a health check). It runs the named cases,
// or every case when names is empty, one after the other, each exactly as
// Run does, and returns nil when all passed. Otherwise the error joins one
// *CaseError per failed case (range over its Unwrap() []error, or use
// errors.As for the first); a name that is not a case makes it return an
// error wrapping ErrUnknownCase before running anything.
//
// newDialer is called once per case. Like Run, Test must not run
// concurrently with other code that starts goroutines in the process, or
// the leak checks see them.
func Test(newDialer func() dialer.Dialer, names ...string) error {
	selected := cases
	if len(names) > 0 {
		selected = nil
		for _, name := range names {
			i := slices.IndexFunc(cases, func(c testCase) bool { return c.name == name })
			if i < 0 {
				return fmt.Errorf("%w: %q", ErrUnknownCase, name)
			}
			selected = append(selected, cases[i])
		}
	}
	var errs []error
	for _, c := range selected {
		r := &recorder{name: c.name}
		r.run(func(t tb) { runCase(t, c, newDialer) })
		if r.Failed() {
			errs = append(errs, &CaseError{Case: c.name, Log: r.lines()})
		}
	}
	return errors.Join(errs...)
}
