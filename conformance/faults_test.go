package conformance_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/wsgobwas"
)

// This file holds the broken backends of the self-test: a correct backend
// (wsgobwas) with exactly one bug injected, by wrapping its Dialer, its
// Conn, or the socket under it (rewriter.go). Each is what a plausible
// mistake in a backend looks like from outside.

// correct returns the backend the faults are injected into.
func correct() dialer.Dialer { return &wsgobwas.Dialer{} }

// dialFunc adapts a function to dialer.Dialer.
type dialFunc func(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error)

func (f dialFunc) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	return f(ctx, url, o)
}

// editOptions returns a backend that changes the options (or the URL)
// before dialing with them.
func editOptions(edit func(url *string, o *dialer.Options)) func() dialer.Dialer {
	return func() dialer.Dialer {
		inner := correct()
		return dialFunc(func(ctx context.Context, u string, o dialer.Options) (dialer.Conn, error) {
			edit(&u, &o)
			return inner.Dial(ctx, u, o)
		})
	}
}

// wrapConns returns a backend whose connections are wrapped by wrap.
func wrapConns(wrap func(c dialer.Conn) dialer.Conn) func() dialer.Dialer {
	return func() dialer.Dialer {
		inner := correct()
		return dialFunc(func(ctx context.Context, u string, o dialer.Options) (dialer.Conn, error) {
			c, err := inner.Dial(ctx, u, o)
			if err != nil {
				return nil, err
			}
			return wrap(c), nil
		})
	}
}

// ignoresContext dials with a context that never ends.
func ignoresContext() dialer.Dialer {
	inner := correct()
	return dialFunc(func(_ context.Context, u string, o dialer.Options) (dialer.Conn, error) {
		return inner.Dial(context.Background(), u, o)
	})
}

// flattensErrors loses the type and the chain of every dial error.
func flattensErrors() dialer.Dialer {
	inner := correct()
	return dialFunc(func(ctx context.Context, u string, o dialer.Options) (dialer.Conn, error) {
		c, err := inner.Dial(ctx, u, o)
		if err != nil {
			return nil, errors.New(err.Error())
		}
		return c, nil
	})
}

// retriesDial retries a failed dial three times, half a second apart:
// the retry loop that belongs to the Base, duplicated in a backend.
func retriesDial() dialer.Dialer {
	inner := correct()
	return dialFunc(func(ctx context.Context, u string, o dialer.Options) (dialer.Conn, error) {
		var err error
		for range 3 {
			var c dialer.Conn
			if c, err = inner.Dial(ctx, u, o); err == nil {
				return c, nil
			}
			select {
			case <-time.After(500 * time.Millisecond):
			case <-ctx.Done():
				return nil, err
			}
		}
		return nil, err
	})
}

// cachesDialError remembers its first failure and returns it for ever.
func cachesDialError() dialer.Dialer {
	inner := correct()
	var mu sync.Mutex
	var cached error
	return dialFunc(func(ctx context.Context, u string, o dialer.Options) (dialer.Conn, error) {
		mu.Lock()
		defer mu.Unlock()
		if cached != nil {
			return nil, cached
		}
		c, err := inner.Dial(ctx, u, o)
		cached = err
		return c, err
	})
}

// leaksGoroutine starts, on every dial, a goroutine that outlives Close;
// it ends when release is closed, so the test binary's own leak check
// still passes.
func leaksGoroutine(release <-chan struct{}) func() dialer.Dialer {
	return func() dialer.Dialer {
		inner := correct()
		return dialFunc(func(ctx context.Context, u string, o dialer.Options) (dialer.Conn, error) {
			go func() { <-release }()
			return inner.Dial(ctx, u, o)
		})
	}
}

// keepsStalledSocket never closes a socket on which no byte was read: a
// dialer that abandons a stalled handshake but leaks its socket.
func keepsStalledSocket() dialer.Dialer {
	return &wsgobwas.Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := new(net.Dialer).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &stickySocket{Conn: nc}, nil
	}}
}

type stickySocket struct {
	net.Conn
	mu   sync.Mutex
	read bool
}

func (s *stickySocket) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if n > 0 {
		s.mu.Lock()
		s.read = true
		s.mu.Unlock()
	}
	return n, err
}

func (s *stickySocket) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.read {
		return nil
	}
	return s.Conn.Close()
}

// The connection-level faults.

// swallowsCloseCodes reports every end of the connection as 1006.
type swallowsCloseCodes struct{ dialer.Conn }

func (c swallowsCloseCodes) ReadMessage() ([]byte, error) {
	p, err := c.Conn.ReadMessage()
	if err != nil {
		return nil, &dialer.CloseError{Code: dialer.CloseAbnormal}
	}
	return p, nil
}

// hidesAbnormalClose keeps ReadMessage blocked after the stream dropped,
// until Close: the flow looks alive.
type hidesAbnormalClose struct {
	dialer.Conn
	once   sync.Once
	closed chan struct{}
}

func newHidesAbnormalClose(c dialer.Conn) dialer.Conn {
	return &hidesAbnormalClose{Conn: c, closed: make(chan struct{})}
}

func (c *hidesAbnormalClose) ReadMessage() ([]byte, error) {
	p, err := c.Conn.ReadMessage()
	var ce *dialer.CloseError
	if errors.As(err, &ce) && ce.Code == dialer.CloseAbnormal {
		<-c.closed
	}
	return p, err
}

func (c *hidesAbnormalClose) Close(code int, reason string) error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close(code, reason)
}

// closeIgnoresCode always closes with 1000 and no reason.
type closeIgnoresCode struct{ dialer.Conn }

func (c closeIgnoresCode) Close(int, string) error {
	return c.Conn.Close(dialer.CloseNormalClosure, "")
}

// modifiesInput flips a bit of every byte of p after writing it.
type modifiesInput struct{ dialer.Conn }

func (c modifiesInput) WriteMessage(p []byte) error {
	err := c.Conn.WriteMessage(p)
	for i := range p {
		p[i] ^= 0x01
	}
	return err
}

// defersWrite returns at once and writes p with the next call: it keeps
// the caller's slice after returning.
type defersWrite struct {
	dialer.Conn
	mu      sync.Mutex
	pending []byte
}

func (c *defersWrite) WriteMessage(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	prev := c.pending
	c.pending = p
	if prev != nil {
		return c.Conn.WriteMessage(prev)
	}
	return nil
}

func (c *defersWrite) Close(code int, reason string) error {
	c.mu.Lock()
	if c.pending != nil {
		c.Conn.WriteMessage(c.pending)
		c.pending = nil
	}
	c.mu.Unlock()
	return c.Conn.Close(code, reason)
}

// closeDoesNothing forgets to close the socket: Close returns at once and
// a pending ReadMessage stays blocked.
type closeDoesNothing struct{ dialer.Conn }

func (closeDoesNothing) Close(int, string) error { return nil }

// closePanicsTwice closes a channel on every Close: the second panics.
type closePanicsTwice struct {
	dialer.Conn
	closed chan struct{}
}

func (c *closePanicsTwice) Close(code int, reason string) error {
	close(c.closed)
	return c.Conn.Close(code, reason)
}

// writeAfterCloseSucceeds drops writes after Close and returns nil.
type writeAfterCloseSucceeds struct {
	dialer.Conn
	mu     sync.Mutex
	closed bool
}

func (c *writeAfterCloseSucceeds) WriteMessage(p []byte) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil
	}
	return c.Conn.WriteMessage(p)
}

func (c *writeAfterCloseSucceeds) Close(code int, reason string) error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return c.Conn.Close(code, reason)
}

// panicsOnWriteDuringClose crashes when Close interrupts a write, as a
// backend that frees its write buffer in Close would. From the 21st
// message on, a write is slow (it lasts until Close, as against a peer
// that stopped reading), so a case closing after 20 messages always
// interrupts one.
type panicsOnWriteDuringClose struct {
	dialer.Conn
	mu      sync.Mutex
	writes  int
	closing chan struct{}
	once    sync.Once
}

func newPanicsOnWriteDuringClose(c dialer.Conn) dialer.Conn {
	return &panicsOnWriteDuringClose{Conn: c, closing: make(chan struct{})}
}

func (c *panicsOnWriteDuringClose) WriteMessage(p []byte) error {
	select {
	case <-c.closing:
		panic("write on a closed connection: buffer already freed")
	default:
	}
	c.mu.Lock()
	c.writes++
	slow := c.writes > 20
	c.mu.Unlock()
	err := c.Conn.WriteMessage(p)
	if slow {
		select {
		case <-c.closing:
			panic("write interrupted by Close: buffer freed under it")
		case <-time.After(5 * time.Second):
		}
	}
	return err
}

func (c *panicsOnWriteDuringClose) Close(code int, reason string) error {
	c.once.Do(func() { close(c.closing) })
	return c.Conn.Close(code, reason)
}

// truncatesMessages loses the last byte of every message.
type truncatesMessages struct{ dialer.Conn }

func (c truncatesMessages) ReadMessage() ([]byte, error) {
	p, err := c.Conn.ReadMessage()
	if len(p) > 1 {
		p = p[:len(p)-1]
	}
	return p, err
}

// duplicatesMessages returns every message twice.
type duplicatesMessages struct {
	dialer.Conn
	again []byte
}

func (c *duplicatesMessages) ReadMessage() ([]byte, error) {
	if c.again != nil {
		p := c.again
		c.again = nil
		return p, nil
	}
	p, err := c.Conn.ReadMessage()
	if err == nil {
		c.again = append([]byte(nil), p...)
	}
	return p, err
}

// Option faults.

func dropsHeaders(_ *string, o *dialer.Options)     { o.Header = nil }
func ignoresTLSConfig(_ *string, o *dialer.Options) { o.TLSConfig = nil }
func ignoresTimeout(_ *string, o *dialer.Options)   { o.HandshakeTimeout = 0 }
func ignoresLimit(_ *string, o *dialer.Options)     { o.MaxMessageSize = 1 << 30 }

func dropsQuery(u *string, _ *dialer.Options) {
	*u, _, _ = strings.Cut(*u, "?")
}

func skipsVerification(_ *string, o *dialer.Options) {
	cfg := new(tls.Config)
	if o.TLSConfig != nil {
		cfg = o.TLSConfig.Clone()
	}
	cfg.InsecureSkipVerify = true
	o.TLSConfig = cfg
}

// modifiesOptions writes into the caller's header map and TLS config.
func modifiesOptions(u *string, o *dialer.Options) {
	if o.Header != nil {
		o.Header.Set("X-Injected", "by the backend")
	}
	if o.TLSConfig != nil && o.TLSConfig.ServerName == "" {
		if pu, err := url.Parse(*u); err == nil {
			o.TLSConfig.ServerName = pu.Hostname()
		}
	}
}

// Wire faults, made by rewriting what wsgobwas writes (see rewriter.go).

func dropsPongs(f *frame) []frame {
	if f.op == ws.OpPong {
		return nil
	}
	return []frame{*f}
}

func dropsCloseFrames(f *frame) []frame {
	if f.op == ws.OpClose {
		return nil
	}
	return []frame{*f}
}

func fixedMaskKey(f *frame) []frame {
	f.key = [4]byte{0x11, 0x22, 0x33, 0x44}
	return []frame{*f}
}

func unmasked(f *frame) []frame {
	f.masked = false
	return []frame{*f}
}

func swapsTextBinary(f *frame) []frame {
	switch f.op {
	case ws.OpText:
		f.op = ws.OpBinary
	case ws.OpBinary:
		f.op = ws.OpText
	}
	return []frame{*f}
}

func fragmentsWrites(f *frame) []frame {
	if f.op.IsControl() || len(f.payload) < 2 {
		return []frame{*f}
	}
	half := len(f.payload) / 2
	first, rest := *f, *f
	first.fin, first.payload = false, f.payload[:half]
	rest.op, rest.payload = ws.OpContinuation, f.payload[half:]
	return []frame{first, rest}
}

// omitsSipOffer removes "sip" from the upgrade request.
func omitsSipOffer(req []byte) []byte {
	lines := strings.Split(string(req), "\r\n")
	out := lines[:0]
	for _, l := range lines {
		name, _, _ := strings.Cut(l, ":")
		if !strings.EqualFold(strings.TrimSpace(name), "Sec-WebSocket-Protocol") {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, "\r\n"))
}
