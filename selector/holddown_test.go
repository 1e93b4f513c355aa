package selector

import (
	"bytes"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-hclog"
)

// TestHoldDown: a mark expires once it is the hold-down old, and marking
// again restarts it; without a hold-down marks last until Reset.
func TestHoldDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := mustParse(t, map[string]int{"ws://a": 2, "ws://b": 1}, "ws://a", "ws://b")
		s := New(ss)
		s.SetHoldDown(30 * time.Second)
		s.MarkError(ss[0])
		if got, _ := s.Next(); got.URI != ss[1].URI {
			t.Fatalf("Next = %v right after the mark, want %v", got, ss[1])
		}
		time.Sleep(29 * time.Second)
		s.MarkError(ss[1])
		if s.Available() {
			t.Fatal("Available with both marked, at 29 s")
		}
		time.Sleep(time.Second)
		if got, ok := s.Next(); !ok || got.URI != ss[0].URI {
			t.Fatalf("Next = %v, %v at 30 s, want %v: its mark expired", got, ok, ss[0])
		}
		s.MarkError(ss[0]) // again: a fresh 30 s
		time.Sleep(29 * time.Second)
		if got, ok := s.Next(); !ok || got.URI != ss[1].URI {
			t.Fatalf("Next = %v, %v at 59 s, want %v (marked at 29 s)", got, ok, ss[1])
		}
		time.Sleep(time.Second)
		if got, _ := s.Next(); got.URI != ss[0].URI {
			t.Errorf("Next = %v at 60 s, want %v", got, ss[0])
		}

		s = New(ss) // no hold-down
		s.MarkError(ss[0])
		time.Sleep(time.Hour)
		if got, _ := s.Next(); got.URI != ss[1].URI {
			t.Errorf("without a hold-down the mark expired: Next = %v", got)
		}
	})
}

// TestBetter: the failback candidates, highest weight first, marked ones
// included, equals in random order.
func TestBetter(t *testing.T) {
	ss := mustParse(t, map[string]int{"ws://low": 1, "ws://mid1": 5, "ws://mid2": 5, "ws://top": 9}, "ws://low", "ws://mid1", "ws://mid2", "ws://top", "ws://zero")
	s := NewWithRand(ss, func(n int) int { return n - 1 })
	got := s.Better(1)
	var uris []string
	for _, srv := range got {
		uris = append(uris, strings.TrimPrefix(srv.URI, "ws://"))
	}
	if len(uris) != 3 || uris[0] != "top:80" || !slices.Contains(uris[1:], "mid1:80") || !slices.Contains(uris[1:], "mid2:80") {
		t.Errorf("Better(1) = %q, want top, then mid1 and mid2", uris)
	}
	s.MarkError(ss[3])
	if got := s.Better(5); len(got) != 1 || got[0].URI != ss[3].URI {
		t.Errorf("Better(5) with top marked = %v, want top: a probe tells whether it is back", got)
	}
	if got := s.Better(9); got != nil {
		t.Errorf("Better(9) = %v, want nil", got)
	}
	seen := map[string]bool{}
	r := New(ss)
	for range 200 {
		seen[r.Better(1)[1].URI] = true
	}
	if len(seen) != 2 {
		t.Errorf("among equals Better always puts %v second, want both in turn", seen)
	}
	if w, ok := s.MaxWeight(); !ok || w != 9 {
		t.Errorf("MaxWeight = %d, %v, want 9 (marks aside)", w, ok)
	}
	if _, ok := New(nil).MaxWeight(); ok {
		t.Error("MaxWeight of no servers reports one")
	}
}

// TestSelectorLogger: marks, expiries and resets are logged at Debug.
func TestSelectorLogger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		var mu sync.Mutex
		ss := mustParse(t, nil, "ws://a")
		s := New(ss)
		s.SetLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: lockedBuffer{&mu, &buf}}))
		s.SetHoldDown(time.Second)
		s.MarkError(ss[0])
		time.Sleep(time.Second)
		s.Next()
		s.Reset()
		mu.Lock()
		defer mu.Unlock()
		for _, want := range []string{"server marked in error", "error mark expired", "error marks reset"} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("log lacks %q:\n%s", want, buf.String())
			}
		}
	})
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
