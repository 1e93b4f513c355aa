package ws

import (
	"context"
	"testing"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

// testContext returns a context that ends with the test or after
// wstest.Wait.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), wstest.Wait)
	t.Cleanup(cancel)
	return ctx
}

// startServer starts a sipserver closed at cleanup.
func startServer(t testing.TB, o sipserver.Options) *sipserver.Server {
	t.Helper()
	s, err := sipserver.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("sipserver Close: %v", err)
		}
	})
	return s
}

// tlsOptions returns the dial options that trust s (nil TLSConfig for ws).
func tlsOptions(s *sipserver.Server) dialer.Options {
	return dialer.Options{TLSConfig: s.ClientTLSConfig()}
}

// dialTo opens a client connection to url with o, closed at cleanup.
func dialTo(t testing.TB, d *Dialer, url string, o dialer.Options) *conn {
	t.Helper()
	return wstest.Dial(t, d, url, o).(*conn)
}

// dialServer opens a client connection to s and returns it with the
// server's side of it.
func dialServer(t testing.TB, s *sipserver.Server, d *Dialer) (*conn, *sipserver.Conn) {
	t.Helper()
	c := dialTo(t, d, s.URL(), tlsOptions(s))
	conns, err := s.WaitConns(testContext(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	return c, conns[len(conns)-1]
}

// waitFor waits until cond holds on s, failing the test after wstest.Wait.
func waitFor(t testing.TB, s *sipserver.Server, what string, cond func() bool) {
	t.Helper()
	if err := s.Wait(testContext(t), cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}
