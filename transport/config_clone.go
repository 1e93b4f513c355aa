package transport

import (
	"crypto/tls"
	"slices"
)

// clone returns a deep copy of c: the server list, Dial.Header and
// Dial.TLSConfig (with its certificate pools and slices) are copied, so
// that neither side can change the other's afterwards. Callbacks, the
// logger and the back-off factory are shared, as values that are not
// state.
func (c Config) clone() Config {
	c.Servers = slices.Clone(c.Servers)
	c.Dial.Header = c.Dial.Header.Clone()
	c.Dial.TLSConfig = cloneTLS(c.Dial.TLSConfig)
	return c
}

// cloneTLS is tls.Config.Clone, which is shallow, made deep for what a
// client reads: the root and client pools and the slices.
func cloneTLS(t *tls.Config) *tls.Config {
	if t == nil {
		return nil
	}
	t = t.Clone()
	if t.RootCAs != nil {
		t.RootCAs = t.RootCAs.Clone()
	}
	if t.ClientCAs != nil {
		t.ClientCAs = t.ClientCAs.Clone()
	}
	t.Certificates = slices.Clone(t.Certificates)
	t.NextProtos = slices.Clone(t.NextProtos)
	t.CipherSuites = slices.Clone(t.CipherSuites)
	t.CurvePreferences = slices.Clone(t.CurvePreferences)
	return t
}
