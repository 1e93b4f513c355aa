package conformance

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sipws/sipws/dialer"
)

// A Grade says how strongly a rule binds a backend, as RFC 2119's key
// words do.
type Grade uint8

const (
	// Must: the contract requires it, and the transport depends on it. A
	// backend that fails a MUST case is broken.
	Must Grade = iota + 1
	// Should: recommended, for a good reason (a server's or the
	// process's resources, a clearer report), but a backend that cannot
	// do it still works. A library that makes it costly may skip the
	// group (SkipShould, or -skip 'TestConformance///SHOULD').
	Should
)

// String returns "MUST" or "SHOULD", the word of RFC 2119, which is also
// the name of the innermost subtest of each case.
func (g Grade) String() string {
	switch g {
	case Must:
		return "MUST"
	case Should:
		return "SHOULD"
	}
	return fmt.Sprintf("Grade(%d)", uint8(g))
}

// A rule is what a case checks: its grade, one sentence saying what a
// backend must (or should) do and where that is written, and the place of
// the case in this package's source, for failure reports (slogtest's
// withSource).
type rule struct {
	grade  Grade
	text   string
	source string // file:line of the case
}

// must and should make a case's rule, recording where it is written.
func must(text string) rule   { return newRule(Must, text) }
func should(text string) rule { return newRule(Should, text) }

func newRule(g Grade, text string) rule {
	_, file, line, ok := runtime.Caller(2)
	if !ok {
		panic("conformance: runtime.Caller failed")
	}
	return rule{grade: g, text: text, source: fmt.Sprintf("%s:%d", filepath.Join(filepath.Base(filepath.Dir(file)), filepath.Base(file)), line)}
}

// describe is the rule as a failure report ends with it.
func (r rule) describe() string {
	return fmt.Sprintf("%s: %s (%s)", r.grade, r.text, r.source)
}

// A testCase is one behaviour of the suite: a stable name, the rule it
// checks, and the action with its checks.
type testCase struct {
	// name is "Group/Rule". Names are API: third parties select and skip
	// cases with -run and -skip, so a name never changes once published.
	name string
	// rule is what a backend must or should do, and where that is
	// written. Every failure of the case ends with it.
	rule rule
	// run drives the backend and checks what it did.
	run func(e *env)
}

// cases is the whole suite, in the order it runs: the handshake first,
// then one connection, the optional abilities, then the transport machine
// over the backend.
var cases = slices.Concat(dialCases, connCases, readCases, closeCases, writeCases, pingerCases, transportCases)

// Cases returns the names of every case, in the order Run runs them. Each
// name is "Group/Rule" (Dial, Conn, Pinger or Transport); names are stable.
// It is safe for concurrent use.
func Cases() []string {
	names := make([]string, len(cases))
	for i, c := range cases {
		names[i] = c.name
	}
	return names
}

// GradeOf returns the grade of the named case, and false when there is no
// such case.
func GradeOf(name string) (Grade, bool) {
	i := slices.IndexFunc(cases, func(c testCase) bool { return c.name == name })
	if i < 0 {
		return 0, false
	}
	return cases[i].rule.grade, true
}

// An Option changes how Run runs the suite.
type Option func(*options)

type options struct {
	skipShould bool
}

// SkipShould makes Run skip every SHOULD case, reporting each as skipped:
// for a backend whose library cannot keep those rules, or only at a cost
// it does not want to pay. The MUST cases still all run.
func SkipShould() Option { return func(o *options) { o.skipShould = true } }

// Run runs every case as a subtest of t named after it and its grade, e.g.
// "Conn/ReadLimitCloses1009/MUST". Each case gets a fresh loopback server
// and a fresh Dialer from newDialer (called with the subtest's T), a
// deadline of its own, and cleans up every resource it made; a backend
// call that hangs fails its case, not the run. A failure reports what was
// seen, then the rule with its grade and its place in this package.
//
// Since the grade is the innermost name, go test selects and skips by it:
// -skip 'TestConformance///SHOULD' skips the SHOULD group, as SkipShould
// does.
//
// The cases check goroutine leaks against the goroutines alive when each
// case starts, so Run must not run in parallel with other tests of the same
// binary (it never calls t.Parallel itself). It must be called from the
// test's goroutine, as t.Run is.
func Run(t *testing.T, newDialer func(t *testing.T) dialer.Dialer, opts ...Option) {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Run(c.rule.grade.String(), func(t *testing.T) {
				if o.skipShould && c.rule.grade == Should {
					t.Skipf("a SHOULD case, skipped by conformance.SkipShould: %s", c.rule.text)
				}
				runCase(t, c, func() dialer.Dialer { return newDialer(t) })
			})
		})
	}
}

// ErrUnknownCase is wrapped by the error of Test when it is given a name
// that is not a case.
var ErrUnknownCase = errors.New("conformance: no such case")

// A CaseError reports one case that failed under Test.
type CaseError struct {
	Case  string   // the case's name, e.g. "Conn/ReadLimitCloses1009"
	Grade Grade    // the case's grade
	Log   []string // what the case reported, in order: each failure with the rule, then the server's log
}

func (e *CaseError) Error() string {
	var b strings.Builder
	b.WriteString("conformance: " + e.Case + " (" + e.Grade.String() + ") failed:")
	for _, line := range e.Log {
		b.WriteString("\n\t" + strings.ReplaceAll(line, "\n", "\n\t\t"))
	}
	return b.String()
}

// Test is Run without a *testing.T, for callers outside go test (a
// command that vets a backend, a health check). It runs the named cases,
// or every case when names is empty, one after the other, each exactly as
// Run does, and returns nil when all passed. Otherwise the error joins one
// *CaseError per failed case (range over its Unwrap() []error, or use
// errors.As for the first); a name that is not a case makes it return an
// error wrapping ErrUnknownCase before running anything. To run the MUST
// cases only, pass the names whose GradeOf is Must.
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
			errs = append(errs, &CaseError{Case: c.name, Grade: c.rule.grade, Log: r.lines()})
		}
	}
	return errors.Join(errs...)
}
