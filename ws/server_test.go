package ws

import (
	"context"
	"errors"
	"net"
	"sync"
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

// closeReceived waits for the client's close frame on sc.
func closeReceived(t testing.TB, s *sipserver.Server, sc *sipserver.Conn) (int, string) {
	t.Helper()
	waitFor(t, s, "the client's close frame", func() bool { _, _, ok := sc.CloseReceived(); return ok })
	code, reason, _ := sc.CloseReceived()
	return code, reason
}

// recorder is a NetDial that keeps every socket it opens, so a test can
// check that Dial closed the one it gave up on.
type recorder struct {
	mu    sync.Mutex
	conns []net.Conn
	setup func(c *net.TCPConn) // optional, applied to each new socket
}

func (r *recorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if r.setup != nil {
		r.setup(c.(*net.TCPConn))
	}
	r.mu.Lock()
	r.conns = append(r.conns, c)
	r.mu.Unlock()
	return c, nil
}

// allClosed fails the test unless every recorded socket is closed.
func (r *recorder) allClosed(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.conns) == 0 {
		t.Fatal("no socket was opened")
	}
	for i, c := range r.conns {
		if _, err := c.Write([]byte{0}); !errors.Is(err, net.ErrClosed) {
			t.Errorf("socket %d: write = %v, want net.ErrClosed: Dial must close it", i, err)
		}
	}
}

// sipRequest returns an OPTIONS request that sipserver answers with 200,
// padded with a header to exactly n bytes when n is larger.
func sipRequest(n int) []byte {
	head := "OPTIONS sip:127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n" +
		"From: <sip:alice@127.0.0.1>;tag=1928301774\r\n" +
		"To: <sip:127.0.0.1>\r\n" +
		"Call-ID: a84b4c76e66710\r\n" +
		"CSeq: 1 OPTIONS\r\n"
	tail := "Content-Length: 0\r\n\r\n"
	if pad := n - len(head) - len(tail) - len("X-Pad: \r\n"); pad > 0 {
		b := make([]byte, pad)
		for i := range b {
			b[i] = 'x'
		}
		head += "X-Pad: " + string(b) + "\r\n"
	}
	return []byte(head + tail)
}
