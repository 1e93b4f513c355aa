package selector

import (
	"math/rand/v2"
	"sync"
	"testing"
)

func mustParse(t testing.TB, weights map[string]int, uris ...string) Servers {
	t.Helper()
	var ss Servers
	for _, u := range uris {
		s, err := ParseServer(u, weights[u])
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	return ss
}

func TestNextIsUniformAmongEquals(t *testing.T) {
	ss := mustParse(t, nil, "ws://a", "ws://b", "ws://c")
	sel := NewWithRand(ss, rand.New(rand.NewPCG(1, 2)).IntN)
	counts := map[string]int{}
	for range 3000 {
		s, ok := sel.Next()
		if !ok {
			t.Fatal("Next reported no server")
		}
		counts[s.URI]++
	}
	for _, s := range ss {
		if n := counts[s.URI]; n < 850 || n > 1150 {
			t.Errorf("%s picked %d times in 3000 draws, want 1000 ± 15%% (counts %v)", s.URI, n, counts)
		}
	}
}

func TestNextUniformWithDefaultSource(t *testing.T) {
	// The default source is math/rand/v2's; with 3000 draws the chance that
	// a fair draw leaves ±25% is below 1e-15.
	ss := mustParse(t, nil, "ws://a", "ws://b", "ws://c")
	sel := New(ss)
	counts := map[string]int{}
	for range 3000 {
		s, _ := sel.Next()
		counts[s.URI]++
	}
	for _, s := range ss {
		if n := counts[s.URI]; n < 750 || n > 1250 {
			t.Errorf("%s picked %d times in 3000 draws, want about 1000 (counts %v)", s.URI, n, counts)
		}
	}
}

func TestNextDelegatesTheChoice(t *testing.T) {
	w := map[string]int{"ws://low": 1, "ws://a": 5, "ws://b": 5, "ws://c": 5}
	ss := mustParse(t, w, "ws://low", "ws://a", "ws://b", "ws://c")
	var calls []int
	answer := 0
	sel := NewWithRand(ss, func(n int) int { calls = append(calls, n); return answer })
	for answer = range 3 {
		s, ok := sel.Next()
		if want := ss[1+answer].URI; !ok || s.URI != want {
			t.Errorf("intn answered %d: Next = %q, %v; want %q (the %d-th of the tied servers, in list order)", answer, s.URI, ok, want, answer)
		}
	}
	if len(calls) != 3 || calls[0] != 3 || calls[1] != 3 || calls[2] != 3 {
		t.Errorf("intn called with %v, want [3 3 3]: n is the number of tied servers", calls)
	}

	calls = nil
	sel.MarkError(ss[1])
	sel.MarkError(ss[2])
	if s, _ := sel.Next(); s.URI != "ws://c:80" || len(calls) != 0 {
		t.Errorf("single candidate: Next = %q, intn calls %v; want ws://c:80 and no call", s.URI, calls)
	}
}

func TestNextToleratesAFaultySource(t *testing.T) {
	ss := mustParse(t, nil, "ws://a", "ws://b", "ws://c")
	for _, v := range []int{-1, 3, 4, -7, 1 << 40} {
		sel := NewWithRand(ss, func(int) int { return v })
		if _, ok := sel.Next(); !ok {
			t.Errorf("intn returning %d: Next found no server", v)
		}
	}
}

func TestNextPrefersHigherWeight(t *testing.T) {
	w := map[string]int{"ws://hi1": 10, "ws://hi2": 10, "ws://mid": 5, "ws://lo": 0}
	ss := mustParse(t, w, "ws://lo", "ws://hi1", "ws://mid", "ws://hi2")
	sel := NewWithRand(ss, rand.New(rand.NewPCG(3, 4)).IntN)
	steps := []struct {
		mark    string
		allowed map[string]bool
	}{
		{"", map[string]bool{"ws://hi1:80": true, "ws://hi2:80": true}},
		{"ws://hi1:80", map[string]bool{"ws://hi2:80": true}},
		{"ws://hi2:80", map[string]bool{"ws://mid:80": true}},
		{"ws://mid:80", map[string]bool{"ws://lo:80": true}},
	}
	for _, st := range steps {
		if st.mark != "" {
			sel.MarkError(Server{URI: st.mark})
		}
		seen := map[string]bool{}
		for range 500 {
			s, ok := sel.Next()
			if !ok || !st.allowed[s.URI] {
				t.Fatalf("after marking %q: Next = %q, %v; want one of %v", st.mark, s.URI, ok, st.allowed)
			}
			seen[s.URI] = true
		}
		if len(seen) != len(st.allowed) {
			t.Errorf("after marking %q: saw %v in 500 draws, want every one of %v", st.mark, seen, st.allowed)
		}
	}
}

func TestMarkErrorResetAndExhaustion(t *testing.T) {
	ss := mustParse(t, map[string]int{"ws://a": 2, "wss://b": 1}, "ws://a", "wss://b")
	sel := New(ss)
	if !sel.Available() {
		t.Fatal("fresh selector: Available() = false")
	}
	if s, ok := sel.Next(); !ok || s != ss[0] {
		t.Fatalf("Next = %+v, %v; want %+v", s, ok, ss[0])
	}
	if s, _ := sel.Next(); s != ss[0] {
		t.Fatalf("Next marked something: second Next = %+v, want %+v", s, ss[0])
	}
	sel.MarkError(ss[0])
	if s, ok := sel.Next(); !ok || s != ss[1] {
		t.Fatalf("after MarkError(a): Next = %+v, %v; want %+v", s, ok, ss[1])
	}
	sel.MarkError(Server{URI: "ws://unknown:80"})
	if !sel.Available() {
		t.Fatal("marking an unknown URI made the selector empty")
	}
	sel.MarkError(ss[1])
	if sel.Available() {
		t.Error("every server marked: Available() = true")
	}
	if s, ok := sel.Next(); ok || s != (Server{}) {
		t.Errorf("every server marked: Next = %+v, %v; want zero, false", s, ok)
	}
	sel.MarkError(ss[1]) // marking twice is harmless
	sel.Reset()
	if !sel.Available() {
		t.Error("after Reset: Available() = false")
	}
	if s, ok := sel.Next(); !ok || s != ss[0] {
		t.Errorf("after Reset: Next = %+v, %v; want %+v", s, ok, ss[0])
	}
}

func TestMarkErrorMatchesByURI(t *testing.T) {
	ss := mustParse(t, map[string]int{"ws://dup": 5}, "ws://dup", "ws://other", "ws://dup")
	ss[2].Weight = 1 // a copy of the URI with another weight

	tests := []struct {
		name string
		mark Server
	}{
		{"exact URI, other fields ignored", Server{URI: "ws://dup:80", Weight: 99}},
		{"unnormalised URI", Server{URI: "WS://DUP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel := New(ss)
			sel.MarkError(tt.mark)
			for range 20 {
				s, ok := sel.Next()
				if !ok || s.URI != "ws://other:80" {
					t.Fatalf("MarkError(%+v): Next = %+v, %v; want every copy of ws://dup:80 marked", tt.mark, s, ok)
				}
			}
		})
	}
	sel := New(ss)
	sel.MarkError(Server{URI: "not a uri"})
	sel.MarkError(Server{})
	if s, _ := sel.Next(); s.URI != "ws://dup:80" {
		t.Errorf("MarkError of an invalid URI changed the choice: %+v", s)
	}
}

func TestEmptySelector(t *testing.T) {
	for name, sel := range map[string]*Selector{"New(nil)": New(nil), "zero value": {}} {
		if s, ok := sel.Next(); ok || s != (Server{}) {
			t.Errorf("%s: Next = %+v, %v; want zero, false", name, s, ok)
		}
		if sel.Available() {
			t.Errorf("%s: Available() = true", name)
		}
		sel.MarkError(Server{URI: "ws://a:80"})
		sel.Reset()
		if got := sel.Servers(); len(got) != 0 {
			t.Errorf("%s: Servers() = %v", name, got)
		}
	}
}

func TestSelectorCopiesItsList(t *testing.T) {
	ss := mustParse(t, nil, "ws://a", "ws://b")
	sel := New(ss)
	ss[0].URI, ss[1].URI = "ws://changed:80", "ws://changed:80"
	got := sel.Servers()
	if got[0].URI != "ws://a:80" || got[1].URI != "ws://b:80" {
		t.Fatalf("New kept the caller's slice: Servers() = %v", got)
	}
	got[0].URI = "ws://mutated:80"
	if again := sel.Servers(); again[0].URI != "ws://a:80" {
		t.Errorf("Servers() returned the internal slice: %v", again)
	}
}

func TestNextDoesNotAllocate(t *testing.T) {
	ss := mustParse(t, map[string]int{"ws://c": 1}, "ws://a", "ws://b", "ws://c", "ws://d")
	for name, sel := range map[string]*Selector{
		"default source":  New(ss),
		"injected source": NewWithRand(ss, rand.New(rand.NewPCG(5, 6)).IntN),
	} {
		sel.MarkError(ss[2]) // leaves three tied servers
		allocs := testing.AllocsPerRun(1000, func() {
			if _, ok := sel.Next(); !ok {
				t.Fatal("no server")
			}
		})
		if allocs != 0 {
			t.Errorf("%s: Next allocates %v times per call, want 0", name, allocs)
		}
	}
}

func TestSelectorConcurrentUse(t *testing.T) {
	ss := mustParse(t, map[string]int{"ws://a": 3, "ws://b": 2}, "ws://a", "ws://b", "ws://c", "ws://d")
	sel := New(ss)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				switch (g + i) % 7 {
				case 0:
					sel.MarkError(ss[i%len(ss)])
				case 1:
					sel.Reset()
				case 2:
					sel.Available()
				case 3:
					if got := sel.Servers(); len(got) != len(ss) {
						t.Errorf("Servers() has %d entries, want %d", len(got), len(ss))
						return
					}
				default:
					if s, ok := sel.Next(); ok && s.URI == "" {
						t.Errorf("Next returned an empty server with ok")
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	sel.Reset()
	if s, ok := sel.Next(); !ok || s != ss[0] {
		t.Errorf("after the storm and Reset: Next = %+v, %v; want %+v", s, ok, ss[0])
	}
}

func BenchmarkNext(b *testing.B) {
	ss := mustParse(b, nil, "ws://a", "ws://b", "ws://c", "ws://d", "ws://e")
	sel := New(ss)
	b.ReportAllocs()
	for b.Loop() {
		sel.Next()
	}
}
