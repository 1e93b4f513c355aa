package selector

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Selector picks the server to try next: the highest weight among the
// servers not marked in error, at random among equals. It keeps no other
// state; the transport decides when a server is in error. A mark lasts
// until Reset, or, with a hold-down (SetHoldDown), until it is that old.
//
// A Selector is safe for concurrent use by multiple goroutines. The zero
// value is a Selector with no servers.
type Selector struct {
	mu       sync.Mutex
	servers  Servers
	marked   []time.Time // marked[i]: when servers[i] was marked in error; zero: not marked
	holdDown time.Duration
	intn     func(n int) int
	log      hclog.Logger
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
		marked:  make([]time.Time, len(s)),
		intn:    intn,
	}
}

// SetHoldDown makes every error mark, present and future, expire once it is
// d old: the server is then available again without a Reset. Zero or
// negative (the default) keeps marks until Reset, as SIP.js does. Marks age
// in the time of the time package, so testing/synctest's virtual time
// applies.
func (s *Selector) SetHoldDown(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holdDown = max(d, 0)
}

// SetLogger makes the Selector log marks, expiries and resets at Debug
// level through l. Nil means no logging.
func (s *Selector) SetLogger(l hclog.Logger) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = l
}

// debug reports whether Debug logs are on. s.mu is held.
func (s *Selector) debug() bool { return s.log != nil && s.log.IsDebug() }

// inError reports whether servers[i] is marked in error now, clearing a
// mark that has expired. s.mu is held.
func (s *Selector) inError(i int, now time.Time) bool {
	at := s.marked[i]
	if at.IsZero() {
		return false
	}
	if s.holdDown > 0 && now.Sub(at) >= s.holdDown {
		s.marked[i] = time.Time{}
		if s.debug() {
			s.log.Debug("error mark expired", "server", s.servers[i].URI, "after", s.holdDown)
		}
		return false
	}
	return true
}

// now returns the time marks are compared with; it reads the clock only
// when a hold-down is set. s.mu is held.
func (s *Selector) now() time.Time {
	if s.holdDown > 0 {
		return time.Now()
	}
	return time.Time{}
}

// Next returns the server to try next and true, or false when every server
// is marked in error (or there are none). Among the available servers it
// picks the highest weight, and among those one uniformly at random. Next
// marks nothing, and does not allocate.
func (s *Selector) Next() (Server, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	best, ties := 0, 0
	for i := range s.servers {
		if s.inError(i, now) {
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
		if !s.marked[i].IsZero() || s.servers[i].Weight != best {
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
// skips it until Reset or until the mark expires (SetHoldDown); marking a
// marked server again restarts its hold-down. Only the URI matters. A URI that matches nothing as
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
	now := time.Now()
	for i := range s.servers {
		if s.servers[i].URI == uri {
			s.marked[i] = now
			found = true
		}
	}
	if found && s.debug() {
		s.log.Debug("server marked in error", "server", uri, "hold-down", s.holdDown)
	}
	return found
}

// Reset clears every error mark.
func (s *Selector) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.marked)
	if s.debug() {
		s.log.Debug("error marks reset")
	}
}

// Available reports whether Next would return a server.
func (s *Selector) Available() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for i := range s.servers {
		if !s.inError(i, now) {
			return true
		}
	}
	return false
}

// Better returns the servers whose weight is above weight, highest weight
// first, in random order among equals: the candidates of a failback from a
// server of that weight. Servers marked in error are included: probing one
// is how a transport on a backup learns that it is back, without waiting
// for its mark to expire. It allocates only when there are some.
func (s *Selector) Better(weight int) Servers {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out Servers
	for i := range s.servers {
		if s.servers[i].Weight > weight {
			out = append(out, s.servers[i])
		}
	}
	for i := len(out) - 1; i > 0; i-- { // shuffle, then a stable sort keeps it among equals
		j := s.pick(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	slices.SortStableFunc(out, func(a, b Server) int { return cmp.Compare(b.Weight, a.Weight) })
	return out
}

// MaxWeight returns the highest weight of any server, marked or not, and
// false when there is none.
func (s *Selector) MaxWeight() (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.servers) == 0 {
		return 0, false
	}
	w := s.servers[0].Weight
	for _, srv := range s.servers[1:] {
		w = max(w, srv.Weight)
	}
	return w, true
}

// Servers returns a copy of the list, in its original order, marks aside.
func (s *Selector) Servers() Servers {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(Servers(nil), s.servers...)
}
