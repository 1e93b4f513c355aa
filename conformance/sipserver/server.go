package sipserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// DefaultReadLimit is the largest message a Server accepts when
// Options.ReadLimit is zero: 1 MiB, well above any client's own limit, so
// tests can send big messages.
const DefaultReadLimit = 1 << 20

// closeTimeout bounds how long Close waits for the server's goroutines.
// They all end as soon as their sockets close, so reaching it is a bug.
const closeTimeout = 5 * time.Second

// ErrClosed is returned by the Wait methods once the server is closed and
// the condition can no longer become true.
var ErrClosed = errors.New("sipserver: server closed")

// Options configure a Server. The zero value is a plain ws server.
type Options struct {
	// TLS makes a wss server with a self-signed ECDSA certificate for
	// 127.0.0.1, ::1 and localhost.
	TLS bool

	// Name labels the server in logs (the demo runs two).
	Name string

	// Logf, if set, receives one line per event (accept, handshake,
	// close...). It is called from the server's goroutines, never after
	// Close returns.
	Logf func(format string, args ...any)

	// ReadLimit is the largest message, in bytes, the server accepts; a
	// larger one is answered with close 1009. Zero means DefaultReadLimit;
	// negative is an error.
	ReadLimit int64

	// Persona makes the server behave as Kamailio, Asterisk, FreeSWITCH or
	// OpenSIPS does (see Persona); zero is the neutral server.
	Persona Persona

	// PersonaOptions are the persona's thresholds; zero fields mean the
	// real server's defaults.
	PersonaOptions PersonaOptions
}

// A Request is an upgrade request as the server read it.
type Request struct {
	URI    string      // the request target, e.g. "/sip?KEY=1234"
	Header http.Header // every header except Upgrade, Connection and Sec-WebSocket-Key/Version
}

// Offers reports whether the request offered the subprotocol proto in its
// Sec-WebSocket-Protocol headers (tokens are case-sensitive, RFC 6455
// §4.1).
func (r Request) Offers(proto string) bool {
	return offers(r.Header.Values("Sec-WebSocket-Protocol"), proto)
}

// A Server is a loopback SIP-over-WebSocket server. All its methods are safe
// for concurrent use.
type Server struct {
	opts  Options
	ln    net.Listener
	url   string
	tls   *tls.Config    // nil for ws
	roots *x509.CertPool // nil for ws
	done  chan struct{}  // closed by Close
	wg    sync.WaitGroup // the accept loop and one per connection

	closeOnce sync.Once
	closeErr  error

	mu           sync.Mutex // guards everything below, and the recorded state of every Conn
	mode         HandshakeMode
	refuseStatus int
	answerPings  bool
	answerSIP    bool
	stallRelease chan struct{}         // closed when the mode leaves HandshakeStall
	respHeader   http.Header           // extra header lines of every answer
	early        []byte                // frames sent with the 101, encoded
	changed      chan struct{}         // closed and replaced on every recorded event
	raw          map[net.Conn]struct{} // every accepted TCP connection still open
	conns        []*Conn               // open WebSocket connections, in accept order
	received     [][]byte
	requests     []Request
	handshakes   int
	closed       bool
}

// Start starts a server on 127.0.0.1 on a free port. The caller must Close
// it.
func Start(o Options) (*Server, error) {
	if o.ReadLimit < 0 {
		return nil, fmt.Errorf("sipserver: negative ReadLimit %d", o.ReadLimit)
	}
	if o.ReadLimit == 0 {
		o.ReadLimit = DefaultReadLimit
	}
	po, err := o.Persona.withDefaults(o.PersonaOptions)
	if err != nil {
		return nil, err
	}
	o.PersonaOptions = po
	s := &Server{
		opts:         o,
		done:         make(chan struct{}),
		mode:         HandshakeAccept,
		refuseStatus: http.StatusServiceUnavailable,
		answerPings:  true,
		answerSIP:    true,
		stallRelease: make(chan struct{}),
		changed:      make(chan struct{}),
		raw:          make(map[net.Conn]struct{}),
	}
	scheme := "ws"
	if o.TLS {
		cert, roots, err := newCert(o.Name)
		if err != nil {
			return nil, fmt.Errorf("sipserver: certificate: %w", err)
		}
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.roots = roots
		scheme = "wss"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sipserver: %w", err)
	}
	s.ln = ln
	s.url = scheme + "://" + ln.Addr().String() + "/"
	s.wg.Add(1)
	go s.acceptLoop()
	s.logf("listening on %s", s.url)
	return s, nil
}

// URL returns the server's URL, ws://127.0.0.1:PORT/ or wss://127.0.0.1:PORT/.
func (s *Server) URL() string { return s.url }

// Addr returns the listening address, 127.0.0.1:PORT.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// RootCAs returns a pool that trusts a wss server's certificate, or nil
// for a ws server. Each call returns a new pool the caller may modify.
func (s *Server) RootCAs() *x509.CertPool {
	if s.roots == nil {
		return nil
	}
	return s.roots.Clone()
}

// ClientTLSConfig returns a new client configuration that trusts a wss
// server's certificate (with full verification: the certificate names
// 127.0.0.1, ::1 and localhost), or nil for a ws server.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.roots == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.RootCAs(), MinVersion: tls.VersionTLS12}
}

// Close stops accepting, cuts every connection (without close frames, and
// stalled handshakes included), and returns once every goroutine the
// server started has ended. It is idempotent; later calls return the first
// call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.done)
		raws := make([]net.Conn, 0, len(s.raw))
		for nc := range s.raw {
			raws = append(raws, nc)
		}
		s.notify()
		s.mu.Unlock()

		err := s.ln.Close()
		for _, nc := range raws {
			nc.Close()
		}
		ended := make(chan struct{})
		go func() { s.wg.Wait(); close(ended) }()
		select {
		case <-ended:
		case <-time.After(closeTimeout):
			err = errors.Join(err, fmt.Errorf("sipserver: goroutines still running %v after Close", closeTimeout))
		}
		s.closeErr = err
		s.logf("closed")
	})
	return s.closeErr
}

// SetHandshake sets what the server does with the next upgrade attempts
// (HandshakeAccept initially). Leaving HandshakeStall releases the stalled
// handshakes, which then proceed in the new mode.
func (s *Server) SetHandshake(m HandshakeMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mode == HandshakeStall && m != HandshakeStall {
		close(s.stallRelease)
		s.stallRelease = make(chan struct{})
	}
	s.mode = m
}

// SetRefuseStatus sets the HTTP status of HandshakeRefuse (503 initially).
func (s *Server) SetRefuseStatus(code int) {
	s.mu.Lock()
	s.refuseStatus = code
	s.mu.Unlock()
}

// SetResponseHeader sets header lines that every answer to an upgrade
// request carries from now on, a 101 or a refusal (none initially; nil
// clears them). It is how a test makes a server answer what a client must
// refuse, such as an extension it never offered
// ("Sec-WebSocket-Extensions: permessage-deflate") or, with HandshakeOmitSubprotocol,
// another subprotocol than "sip", and how a refusal carries a Location
// (a redirect, which a client must not follow) or a Retry-After. h is
// copied.
func (s *Server) SetResponseHeader(h http.Header) {
	s.mu.Lock()
	s.respHeader = h.Clone()
	s.mu.Unlock()
}

func (s *Server) responseHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.respHeader
}

// SetEarlyFrames sets frames that every accepted handshake sends from now
// on right behind its 101 answer, in the same write (so in the same TCP
// segment, or TLS record): the case for a client that must not lose what
// arrived with the handshake's answer. Each frame goes out exactly as
// WriteFrame would send it; none initially, nil clears them.
func (s *Server) SetEarlyFrames(frames ...Frame) {
	var b []byte
	for _, f := range frames {
		b = appendFrame(b, f)
	}
	s.mu.Lock()
	s.early = b
	s.mu.Unlock()
}

func (s *Server) earlyBytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.early
}

// SetAnswerPings sets whether a "\r\n\r\n" message (a CRLF keepalive ping)
// is answered with "\r\n" (on initially). Off makes the server a black hole
// for keepalives: the case for a client's pong timeout.
func (s *Server) SetAnswerPings(on bool) {
	s.mu.Lock()
	s.answerPings = on
	s.mu.Unlock()
}

// SetAnswerSIP sets whether SIP requests other than ACK are answered with
// 200 OK (on initially). Off makes a server that accepts connections and
// stays silent: the case for transaction timeouts above the transport.
func (s *Server) SetAnswerSIP(on bool) {
	s.mu.Lock()
	s.answerSIP = on
	s.mu.Unlock()
}

// DropAll cuts every open TCP connection, upgraded or still in its
// handshake, without a close frame: the case for an abnormal closure
// (1006) and for reconnection after a lost server. A stalled handshake's
// handler stays parked until the mode changes or Close.
func (s *Server) DropAll() {
	s.mu.Lock()
	raws := make([]net.Conn, 0, len(s.raw))
	for nc := range s.raw {
		raws = append(raws, nc)
	}
	conns := slices.Clone(s.conns)
	s.mu.Unlock()
	for _, c := range conns {
		c.markCut()
	}
	for _, nc := range raws {
		nc.Close()
	}
}

// CloseAll sends a close frame with code and reason on every open
// connection, then closes each once the client echoes it (or after a short
// wait): the case for a server-initiated close, whose code and reason the
// client reports.
func (s *Server) CloseAll(code int, reason string) {
	for _, c := range s.Conns() {
		c.CloseWith(code, reason)
	}
}

// Conns returns the open connections, in accept order.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.conns)
}

// Received returns a copy of every data message received so far on any
// connection, in arrival order, CRLF keepalives included.
func (s *Server) Received() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneAll(s.received)
}

// Requests returns every upgrade request read so far, in arrival order,
// including refused and stalled ones.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = Request{URI: r.URI, Header: r.Header.Clone()}
	}
	return out
}

// Handshakes returns the number of upgrade attempts so far: every accepted
// TCP connection counts, whatever the handshake mode did with it.
func (s *Server) Handshakes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handshakes
}

// OpenTCP returns the number of accepted TCP connections still open:
// upgraded, refused but not yet hung up, or in their handshake. A stalled
// handshake notices when the client closes its socket, so a test can check
// that a client that gave up on a handshake closed the socket it opened.
func (s *Server) OpenTCP() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.raw)
}

// Wait returns nil once cond reports true, ctx's error when ctx ends first,
// and ErrClosed when the server is closed first. cond is evaluated at once
// and after every recorded event (a handshake, a connection opening or
// ending, a TCP connection closing, a frame); it is called without locks held, so it may call any
// method of the Server or of its Conns.
func (s *Server) Wait(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		changed, closed := s.changed, s.closed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitConns waits until at least n connections are open and returns them.
func (s *Server) WaitConns(ctx context.Context, n int) ([]*Conn, error) {
	var conns []*Conn
	err := s.Wait(ctx, func() bool { conns = s.Conns(); return len(conns) >= n })
	if err != nil {
		return conns, fmt.Errorf("sipserver: %d of %d connections open: %w", len(conns), n, err)
	}
	return conns, nil
}

// WaitReceived waits until at least n data messages have been received and
// returns a copy of all of them, as Received does.
func (s *Server) WaitReceived(ctx context.Context, n int) ([][]byte, error) {
	count := func() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.received) }
	err := s.Wait(ctx, func() bool { return count() >= n })
	got := s.Received()
	if err != nil {
		return got, fmt.Errorf("sipserver: %d of %d messages received: %w", len(got), n, err)
	}
	return got, nil
}

// notify wakes every Wait. s.mu must be held.
func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf == nil {
		return
	}
	if s.opts.Name != "" {
		format = "sipserver " + s.opts.Name + ": " + format
	} else {
		format = "sipserver: " + format
	}
	s.opts.Logf(format, args...)
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
			default:
				s.logf("accept: %v", err)
			}
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.raw[nc] = struct{}{}
		s.handshakes++
		id := s.handshakes
		s.notify()
		s.wg.Add(1) // under mu, checked against closed: no Add after Close's Wait
		s.mu.Unlock()
		go s.serve(id, nc)
	}
}

// serve runs one TCP connection: the handshake, then the read loop.
func (s *Server) serve(id int, raw net.Conn) {
	defer s.wg.Done()
	defer func() {
		raw.Close()
		s.mu.Lock()
		delete(s.raw, raw)
		s.notify()
		s.mu.Unlock()
	}()
	c := s.handshake(id, raw)
	if c == nil {
		return
	}
	c.startPersona()
	c.readLoop()
}

func cloneAll(in [][]byte) [][]byte {
	out := make([][]byte, len(in))
	for i, p := range in {
		out[i] = slices.Clone(p)
	}
	return out
}
