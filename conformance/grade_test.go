package conformance

import (
	"strings"
	"sync"
	"testing"

	"github.com/sipws/sipws/dialer"
)

// withCases runs f with the suite replaced by cs.
func withCases(t *testing.T, cs []testCase, f func()) {
	saved := cases
	cases = cs
	defer func() { cases = saved }()
	f()
}

// TestRunGrades checks that Run nests each case under its grade, so that
// -run and -skip select by it, and that SkipShould skips the SHOULD ones
// and nothing else.
func TestRunGrades(t *testing.T) {
	var mu sync.Mutex
	ran := map[string]string{} // case name -> the subtest's name
	record := func(name string) func(e *env) {
		return func(e *env) {
			mu.Lock()
			ran[name] = e.t.Name()
			mu.Unlock()
		}
	}
	cs := []testCase{
		{name: "Fake/MustRule", rule: must("a must rule"), run: record("Fake/MustRule")},
		{name: "Fake/ShouldRule", rule: should("a should rule"), run: record("Fake/ShouldRule")},
	}
	newDialer := func(*testing.T) dialer.Dialer { return nil }
	withCases(t, cs, func() {
		t.Run("all", func(t *testing.T) { Run(t, newDialer) })
		if !strings.HasSuffix(ran["Fake/MustRule"], "/all/Fake/MustRule/MUST") ||
			!strings.HasSuffix(ran["Fake/ShouldRule"], "/all/Fake/ShouldRule/SHOULD") {
			t.Errorf("subtests ran as %q; want Group/Rule/GRADE", ran)
		}
		clear(ran)
		t.Run("skip", func(t *testing.T) { Run(t, newDialer, SkipShould()) })
		if _, ok := ran["Fake/ShouldRule"]; ok || ran["Fake/MustRule"] == "" {
			t.Errorf("with SkipShould, ran %q; want the MUST case alone", ran)
		}
	})
}

func TestGradeOf(t *testing.T) {
	for _, tt := range []struct {
		name string
		want Grade
		ok   bool
	}{
		{"Conn/ReadLimitBeforePayload", Should, true},
		{"Conn/ReadLimitCloses1009", Must, true},
		{"Conn/NoSuchRule", 0, false},
	} {
		if g, ok := GradeOf(tt.name); g != tt.want || ok != tt.ok {
			t.Errorf("GradeOf(%q) = %v, %v; want %v, %v", tt.name, g, ok, tt.want, tt.ok)
		}
	}
	if Must.String() != "MUST" || Should.String() != "SHOULD" || Grade(9).String() != "Grade(9)" {
		t.Errorf("Grade strings: %v %v %v", Must, Should, Grade(9))
	}
	musts := 0
	for _, c := range cases {
		if c.rule.grade == Must {
			musts++
		}
		if c.rule.grade != Must && c.rule.grade != Should {
			t.Errorf("case %s has no grade", c.name)
		}
		if !strings.HasPrefix(c.rule.source, "conformance/cases_") {
			t.Errorf("case %s has its rule at %q; want the case's own file", c.name, c.rule.source)
		}
	}
	if musts < len(cases)/2 {
		t.Errorf("%d of %d cases are MUST; the contract is mostly MUST", musts, len(cases))
	}
}

// TestSkipfUnderTest: a case skipped under Test has not failed.
func TestSkipfUnderTest(t *testing.T) {
	cs := []testCase{{name: "Fake/Skipped", rule: must("skipped"), run: func(e *env) {
		e.t.Skipf("not here")
		e.t.Errorf("ran on after Skipf")
	}}}
	withCases(t, cs, func() {
		if err := Test(func() dialer.Dialer { return nil }); err != nil {
			t.Errorf("Test of a skipped case = %v; want nil", err)
		}
	})
}
