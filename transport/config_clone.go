package transport

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"sync"
	"weak"
)

// clone returns a deep copy of c: the server list, Dial.Header and
// Dial.TLSConfig (with its certificate pools and slices) are copied, so
// that neither side can change the other's afterwards. Callbacks, the
// logger and the back-off factory are shared, as values that are not
// state.
func (c Config) clone() Config { return c.copyWith(clonePool) }

// snapshot is clone for NewBase, except that a certificate pool that has
// not changed since the previous NewBase copied it is shared with that
// copy instead of copied again: a fleet whose transports come from one
// tls.Config then holds one copy of its private roots, not one per
// transport (0.8 KB each, measured with one root). A shared copy is never
// changed: nothing in the transport adds to a pool, and Config() hands
// out a copy of its own.
func (c Config) snapshot() Config { return c.copyWith(sharedPool) }

func (c Config) copyWith(pool func(*x509.CertPool) *x509.CertPool) Config {
	c.Servers = slices.Clone(c.Servers)
	c.Dial.Header = c.Dial.Header.Clone()
	c.Dial.TLSConfig = cloneTLS(c.Dial.TLSConfig, pool)
	return c
}

// cloneTLS is tls.Config.Clone, which is shallow, made deep for what a
// client reads: the root and client pools (through pool) and the slices.
func cloneTLS(t *tls.Config, pool func(*x509.CertPool) *x509.CertPool) *tls.Config {
	if t == nil {
		return nil
	}
	t = t.Clone()
	t.RootCAs = pool(t.RootCAs)
	t.ClientCAs = pool(t.ClientCAs)
	t.Certificates = slices.Clone(t.Certificates)
	t.NextProtos = slices.Clone(t.NextProtos)
	t.CipherSuites = slices.Clone(t.CipherSuites)
	t.CurvePreferences = slices.Clone(t.CurvePreferences)
	return t
}

func clonePool(p *x509.CertPool) *x509.CertPool {
	if p == nil {
		return nil
	}
	return p.Clone()
}

// lastPools remembers the pools sharedPool copied last, by the caller's
// pool they came from (held weakly, so that a caller's pool is never kept
// alive by it).
var lastPools struct {
	sync.Mutex
	entries [2]pooled // RootCAs and ClientCAs of one tls.Config, typically
	next    int
}

type pooled struct {
	src  weak.Pointer[x509.CertPool]
	copy *x509.CertPool
}

// sharedPool returns the copy of p made last time when it is the same pool
// and holds the same certificates: a CertPool only grows (no method
// removes a certificate, and adding one it holds changes nothing, its
// constraint included), so an Equal pool at the same address is unchanged.
// Otherwise it copies p and remembers the copy.
func sharedPool(p *x509.CertPool) *x509.CertPool {
	if p == nil {
		return nil
	}
	lastPools.Lock()
	defer lastPools.Unlock()
	for _, e := range lastPools.entries {
		if e.copy != nil && e.src.Value() == p && e.copy.Equal(p) {
			return e.copy
		}
	}
	c := p.Clone()
	lastPools.entries[lastPools.next] = pooled{weak.Make(p), c}
	lastPools.next = (lastPools.next + 1) % len(lastPools.entries)
	return c
}
