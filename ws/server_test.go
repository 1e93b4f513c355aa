package ws

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
)

// wait bounds every wait of a real-network test.
const wait = 5 * time.Second

// testContext returns a context that ends with the test or after wait.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), wait)
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
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := d.Dial(ctx, url, o)
	if err != nil {
		t.Fatalf("Dial(%s) = %v, want a connection", url, err)
	}
	t.Cleanup(func() { c.Close(dialer.CloseNormalClosure, "") })
	return c.(*conn)
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

// waitFor waits until cond holds on s, failing the test after wait.
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

// sipUpgrader is the server side of a handshake that selects "sip", for the
// raw servers below.
var sipUpgrader = ws.Upgrader{Protocol: func(p []byte) bool { return string(p) == dialer.Subprotocol }}

// rawServer is a loopback TCP server for what sipserver cannot script: each
// connection is handed to handle as it is, handshake included; cleanup
// closes every connection and waits for every handler.
type rawServer struct {
	ln  net.Listener
	url string

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func serveRaw(t testing.TB, handle func(c net.Conn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, url: "ws://" + ln.Addr().String() + "/"}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

// serveUpgraded is serveRaw for connections upgraded with sipUpgrader.
func serveUpgraded(t testing.TB, handle func(c net.Conn)) *rawServer {
	return serveRaw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(wait))
		if _, err := sipUpgrader.Upgrade(c); err != nil {
			return
		}
		handle(c)
	})
}

func (s *rawServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// readClose reads client frames until a close frame and returns its code
// (1005 for none) and reason.
func readClose(r io.Reader) (code int, reason string, err error) {
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			return 0, "", err
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(r, p); err != nil {
			return 0, "", err
		}
		ws.Cipher(p, h.Mask, 0)
		if h.OpCode != ws.OpClose {
			continue
		}
		if len(p) < 2 {
			return dialer.CloseNoStatus, "", nil
		}
		return int(binary.BigEndian.Uint16(p)), string(p[2:]), nil
	}
}

// result is what a call in a goroutine returned.
type result struct {
	p   []byte
	err error
}

// readAsync calls ReadMessage in a goroutine; the message is copied.
func readAsync(c dialer.Conn) <-chan result {
	ch := make(chan result, 1)
	go func() {
		p, err := c.ReadMessage()
		ch <- result{append([]byte(nil), p...), err}
	}()
	return ch
}

// await returns the next value of ch, failing the test after wait.
func await[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

// closeError returns err's *dialer.CloseError, or fails.
func closeError(t testing.TB, err error) *dialer.CloseError {
	t.Helper()
	var ce *dialer.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want a *dialer.CloseError", err, err)
	}
	return ce
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
