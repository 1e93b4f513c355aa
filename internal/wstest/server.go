package wstest

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
)

// SIPUpgrader returns the server side of a handshake that selects the
// "sip" subprotocol (RFC 7118 §4) when the client offers it. Each call
// returns a new value, so a test may set its callbacks without touching
// another test's.
func SIPUpgrader() ws.Upgrader {
	return ws.Upgrader{Protocol: func(p []byte) bool { return string(p) == dialer.Subprotocol }}
}

// Server is a loopback TCP server for what conformance/sipserver cannot
// script. It hands each accepted connection to a handler in a goroutine of
// its own; a connection is closed when its handler returns, or by Close.
// Each connection starts with a deadline Wait away, so that a handler
// blocked on it ends by itself; a handler that needs longer clears it.
type Server struct {
	ln  net.Listener
	url string

	mu     sync.Mutex
	conns  []net.Conn // open or not: Close closes each again, harmlessly
	closed bool
	wg     sync.WaitGroup // the accept loop and every handler
}

// ServeRaw starts a Server on 127.0.0.1 that hands each TCP connection to
// handle as it is, handshake included, and closes the server when the
// test ends. handle runs concurrently with the test and with the other
// connections' handlers; it must not call t.Fatal. Call ServeRaw from
// the test's goroutine, as t.Fatal requires.
func ServeRaw(t testing.TB, handle func(c net.Conn)) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln, url: "ws://" + ln.Addr().String() + "/"}
	s.wg.Add(1)
	go s.accept(handle)
	t.Cleanup(s.Close)
	return s
}

// ServeUpgraded is ServeRaw for connections upgraded with up first: handle
// gets each connection whose upgrade succeeded, positioned at its first
// frame. up's callbacks run in the connections' goroutines.
func ServeUpgraded(t testing.TB, up ws.Upgrader, handle func(c net.Conn)) *Server {
	t.Helper()
	return ServeRaw(t, func(c net.Conn) {
		if _, err := up.Upgrade(c); err != nil {
			return
		}
		handle(c)
	})
}

// ServeSIP is ServeUpgraded with SIPUpgrader: a WebSocket server that
// selects "sip".
func ServeSIP(t testing.TB, handle func(c net.Conn)) *Server {
	t.Helper()
	return ServeUpgraded(t, SIPUpgrader(), handle)
}

// URL returns the server's ws:// URL, ws://127.0.0.1:PORT/. It is safe
// from any goroutine.
func (s *Server) URL() string { return s.url }

// Close stops accepting, closes every connection and returns once every
// handler has returned. It is safe from any goroutine and more than once,
// but not from a handler, which it would wait for. ServeRaw calls it when
// the test ends.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	s.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	s.wg.Wait()
}

func (s *Server) accept(handle func(c net.Conn)) {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		c.SetDeadline(time.Now().Add(Wait))
		s.mu.Lock()
		if s.closed {
			// Accepted as Close ran: it will not see this one.
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns = append(s.conns, c)
		s.wg.Add(1) // under mu: a Close that follows waits for it
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer c.Close()
			handle(c)
		}()
	}
}

// DrainServer starts a SIP server that reads and discards everything a
// client sends, without allocating, so that allocation counts are the
// client's.
func DrainServer(t testing.TB) *Server {
	t.Helper()
	return ServeSIP(t, func(c net.Conn) {
		c.SetDeadline(time.Time{})
		discard(c)
	})
}

// FloodServer starts a SIP server that sends stream (frames, compiled once)
// again and again, without allocating, until the client goes away; what
// the client sends meanwhile (pongs) is read and discarded.
func FloodServer(t testing.TB, stream []byte) *Server {
	t.Helper()
	batch := bytes.Repeat(stream, max(1, 32<<10/len(stream)))
	return ServeSIP(t, func(c net.Conn) {
		c.SetDeadline(time.Time{})
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			discard(c)
		}()
		for {
			if _, err := c.Write(batch); err != nil {
				break
			}
		}
		c.Close()
		<-drained
	})
}

// discard reads c until it fails, into one buffer.
func discard(c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
