package sipserver

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// timeout bounds every real-network wait of the tests.
const timeout = 5 * time.Second

// start starts a server closed by the test's cleanup, which fails the test
// if a goroutine outlives Close.
func start(t *testing.T, o Options) *Server {
	t.Helper()
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	s, err := Start(o)
	if err != nil {
		t.Fatalf("Start(%+v): %v", o, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// dial opens a gorilla client offering "sip", closed by the test's cleanup.
func dial(t *testing.T, s *Server, url string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{
		Subprotocols:     []string{"sip"},
		HandshakeTimeout: timeout,
		TLSClientConfig:  s.ClientTLSConfig(),
	}
	c, resp, err := d.DialContext(testContext(t), url, hdr)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

func mustDial(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	c, _, err := dial(t, s, s.URL(), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", s.URL(), err)
	}
	return c
}

func write(t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(timeout))
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatalf("write %q: %v", msg, err)
	}
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(timeout))
	_, p, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(p)
}

// readErr reads until the connection fails and returns the error.
func readErr(t *testing.T, c *websocket.Conn) error {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(timeout))
	for {
		if _, p, err := c.ReadMessage(); err != nil {
			return err
		} else {
			t.Logf("client read %q before the error", p)
		}
	}
}
