package selector

import (
	"math/rand/v2"
	"sync"
)

// Selector picks the server to try next: the highest weight among the
// servers not marked in error, at random among equals. It keeps no other
// state; the transport decides when a server is in error.
//
// A Selector is safe for concurrent use by multiple goroutines. The zero
// value is a Selector with no servers.
type Selector struct {
	mu      sync.Mutex
	servers Servers
	failed  []bool // failed[i]: servers[i] is marked in error
	intn    func(n int) int
}

// New returns a Selector over a copy of s, choosing among equals with
// math/rand/v2. It never panics and does not validate: pass a list from
// Parse, Normalize or UnmarshalJSON. An empty list gives a Selector whose
// Next always reports false.
func New(s Servers) *Selector { return NewWithRand(s, nil) }

// NewWithRand is New with an injected random source: intn(n) must return a
// number in [0, n); a value outside is reduced into it, so a faulty source
// cannot make Next panic. intn is called only when two or more servers
// tie, with n their number, and always under the Selector's lock, so it
// need not be safe for concurrent use unless shared with other code. A nil
// intn means math/rand/v2's IntN.
func NewWithRand(s Servers, intn func(n int) int) *Selector {
	return &Selector{
		servers: append(Servers(nil), s...),
		failed:  make([]bool, len(s)),
		intn:    intn,
	}
}

// Next returns the server to try next and true, or false when every server
// is marked in error (or there are none). Among the available servers it
// picks the highest weight, and among those one uniformly at random. Next
// marks nothing, and does not allocate.
func (s *Selector) Next() (Server, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	best, ties := 0, 0
	for i := range s.servers {
		if s.failed[i] {
			continue
		}
		switch w := s.servers[i].Weight; {
		case ties == 0 || w > best:
			best, ties = w, 1
		case w == best:
			ties++
		}
	}
	if ties == 0 {
		return Server{}, false
	}
	k := 0
	if ties > 1 {
		k = s.pick(ties)
	}
	for i := range s.servers {
		if s.failed[i] || s.servers[i].Weight != best {
			continue
		}
		if k == 0 {
			return s.servers[i], true
		}
		k--
	}
	panic("unreachable: selector lost count of its candidates")
}

// pick returns a number in [0, n).
func (s *Selector) pick(n int) int {
	if s.intn == nil {
		return rand.IntN(n)
	}
	k := s.intn(n) % n
	if k < 0 {
		k += n
	}
	return k
}

// MarkError marks every entry whose URI equals srv.URI as in error, so Next
// skips it until Reset. Only the URI matters. A URI that matches nothing as
// given is normalised and tried again, so "ws://H" marks "ws://h:80"; a URI
// that still matches nothing is ignored.
func (s *Selector) MarkError(srv Server) {
	if s.mark(srv.URI) {
		return
	}
	if u, err := parseURI(srv.URI); err == nil {
		s.mark(u.normalized())
	}
}

func (s *Selector) mark(uri string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	found := false
	for i := range s.servers {
		if s.servers[i].URI == uri {
			s.failed[i] = true
			found = true
		}
	}
	return found
}

// Reset clears every error mark.
func (s *Selector) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.failed)
}

// Available reports whether Next would return a server.
func (s *Selector) Available() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.failed {
		if !f {
			return true
		}
	}
	return false
}

// Servers returns a copy of the list, in its original order, marks aside.
func (s *Selector) Servers() Servers {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(Servers(nil), s.servers...)
}
