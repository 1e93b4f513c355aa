package conformance_test

import (
	"bytes"
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

// retriesDial retries a failed dial three times, 200 ms apart:
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
			case <-time.After(200 * time.Millisecond):
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
		s := &stickySocket{Conn: nc}
		stuckSockets.hold(s)
		return s, nil
	}}
}

// stuckSockets keeps every socket keepsStalledSocket makes reachable until
// the self-test ends. An unreachable net.Conn is closed by the garbage
// collector's finalizer, which would close the "leaked" socket within the
// case's wait whenever a collection ran (seen once in about 20 runs of
// .ci/test), so the fault would seem fixed and the cases that catch it pass.
var stuckSockets heldSockets

type heldSockets struct {
	mu    sync.Mutex
	conns []*stickySocket
}

func (h *heldSockets) hold(c *stickySocket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns = append(h.conns, c)
}

// closeAll closes the sockets underneath, which their holders never do.
func (h *heldSockets) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.conns {
		c.Conn.Close()
	}
	h.conns = nil
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

// writeAfterCloseSucceeds drops writes after Close, or after the
// connection ended, and returns nil.
type writeAfterCloseSucceeds struct {
	dialer.Conn
	mu     sync.Mutex
	closed bool
}

func (c *writeAfterCloseSucceeds) ReadMessage() ([]byte, error) {
	p, err := c.Conn.ReadMessage()
	if err != nil {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
	}
	return p, err
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

// The faults of the second round: the rules that moved into the suite from
// the backends' own tests.

func noOrigin(_ *string, o *dialer.Options)         { o.NoOrigin, o.Origin = true, "" }
func ignoresNoOrigin(_ *string, o *dialer.Options)  { o.NoOrigin = false }
func ignoresSendLimit(_ *string, o *dialer.Options) { o.MaxSendSize = 1 << 30 }

// limitOffByOne refuses a message of exactly the limit.
func limitOffByOne(_ *string, o *dialer.Options) { o.MaxMessageSize = o.ReadLimit() - 1 }

// fixesOptions makes bad Options good instead of refusing them, and dials.
func fixesOptions(_ *string, o *dialer.Options) {
	o.MaxMessageSize = max(o.MaxMessageSize, 0)
	o.MaxSendSize = max(o.MaxSendSize, 0)
	if o.Check() != nil {
		o.Header, o.Origin = nil, ""
	}
}

// offersMore offers another subprotocol and an extension besides sip.
func offersMore(req []byte) []byte {
	req = bytes.Replace(req, []byte("Sec-WebSocket-Protocol: sip\r\n"), []byte("Sec-WebSocket-Protocol: sip, chat\r\n"), 1)
	return bytes.Replace(req, []byte("\r\n\r\n"), []byte("\r\nSec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\r\n"), 1)
}

// followsRedirects dials the Location of a 3xx refusal.
func followsRedirects() dialer.Dialer {
	inner := correct()
	return dialFunc(func(ctx context.Context, u string, o dialer.Options) (dialer.Conn, error) {
		for range 3 {
			c, err := inner.Dial(ctx, u, o)
			var he *dialer.HandshakeError
			if !errors.As(err, &he) || he.StatusCode/100 != 3 || he.Header.Get("Location") == "" {
				return c, err
			}
			u = he.Header.Get("Location")
		}
		return nil, errors.New("too many redirects")
	})
}

// bareHandshakeErrors keeps the status code of a refusal and nothing else.
func bareHandshakeErrors() dialer.Dialer {
	inner := correct()
	return dialFunc(func(ctx context.Context, u string, o dialer.Options) (dialer.Conn, error) {
		c, err := inner.Dial(ctx, u, o)
		var he *dialer.HandshakeError
		if errors.As(err, &he) {
			return nil, &dialer.HandshakeError{StatusCode: he.StatusCode}
		}
		return c, err
	})
}

// acceptsAnyKey puts the right Sec-WebSocket-Accept in every 101, as a
// client that never checks it would see it.
func acceptsAnyKey(req, answer, behind []byte) ([]byte, []byte) {
	lines := strings.Split(string(answer), "\r\n")
	for i, l := range lines {
		if name, _, ok := strings.Cut(l, ":"); ok && strings.EqualFold(name, "Sec-WebSocket-Accept") {
			lines[i] = "Sec-WebSocket-Accept: " + acceptKey(req)
		}
	}
	return []byte(strings.Join(lines, "\r\n")), behind
}

// dropsEarlyFrames loses what came in the same read as the 101.
func dropsEarlyFrames(_, answer, _ []byte) ([]byte, []byte) { return answer, nil }

// pongsAsText turns the server's pongs into text messages.
func pongsAsText(f *frame) []frame {
	if f.op == ws.OpPong {
		f.op = ws.OpText
	}
	return []frame{*f}
}

// closesWith1000 sends every close frame with code 1000, the echo of a
// server's close included.
func closesWith1000(f *frame) []frame {
	if f.op == ws.OpClose && len(f.payload) >= 2 {
		f.payload = append([]byte{0x03, 0xe8}, f.payload[2:]...)
	}
	return []frame{*f}
}

// givesReservedCodesABody sends a close frame without a body as 1005 on the
// wire.
func givesReservedCodesABody(f *frame) []frame {
	if f.op == ws.OpClose && len(f.payload) == 0 {
		f.payload = []byte{0x03, 0xed}
	}
	return []frame{*f}
}

// badCloseReason makes every close reason invalid UTF-8.
func badCloseReason(f *frame) []frame {
	if f.op == ws.OpClose && len(f.payload) >= 2 {
		f.payload = append(f.payload, 0xff)
	}
	return []frame{*f}
}

// interleaver holds the second half of every data frame back until the
// next frame, which goes out in the middle: a pong, a ping or a close
// frame lands inside a data frame, as with a backend that writes a frame
// in pieces without holding its write lock throughout.
type interleaver struct {
	mu   sync.Mutex
	rest []byte // the held-back end of the last data frame, encoded
}

func (iv *interleaver) edit(f *frame) []frame {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	out := []frame{*f}
	if rest := iv.rest; rest != nil {
		iv.rest = nil
		out = append(out, frame{raw: rest})
	}
	if !f.op.IsControl() && len(f.payload) >= 1000 {
		b := f.encode()
		cut := len(b) / 2
		iv.rest = b[cut:]
		out[0] = frame{raw: b[:cut]}
	}
	return out
}

func interleaves() dialer.Dialer {
	iv := new(interleaver)
	return rewriting(iv.edit, nil)()
}

// skipsKeepalives swallows empty and CRLF-only messages, as a backend that
// thinks keepalives its business would.
type skipsKeepalives struct{ dialer.Conn }

func (c skipsKeepalives) ReadMessage() ([]byte, error) {
	for {
		p, err := c.Conn.ReadMessage()
		if err != nil || len(bytes.Trim(p, "\r\n")) > 0 {
			return p, err
		}
	}
}

// rejectsNewCloseCodes fails the connection on the codes IANA registered
// after RFC 6455 (1012–1014), as gorilla's table once did for 1014.
type rejectsNewCloseCodes struct{ dialer.Conn }

func (c rejectsNewCloseCodes) ReadMessage() ([]byte, error) {
	p, err := c.Conn.ReadMessage()
	var ce *dialer.CloseError
	if errors.As(err, &ce) && 1012 <= ce.Code && ce.Code <= 1014 {
		return nil, &dialer.CloseError{Code: dialer.CloseProtocolError, Reason: "bad close code"}
	}
	return p, err
}

// forgetsReadError returns an empty message, then blocks no more, after
// its first error: the error is not permanent.
type forgetsReadError struct {
	dialer.Conn
	failed bool
}

func (c *forgetsReadError) ReadMessage() ([]byte, error) {
	if c.failed {
		return []byte{}, nil
	}
	p, err := c.Conn.ReadMessage()
	c.failed = err != nil
	return p, err
}

// flattensConnErrors loses the type and chain of every read and write
// error.
type flattensConnErrors struct{ dialer.Conn }

func (c flattensConnErrors) ReadMessage() ([]byte, error) {
	p, err := c.Conn.ReadMessage()
	if err != nil {
		return nil, errors.New(err.Error())
	}
	return p, nil
}

func (c flattensConnErrors) WriteMessage(p []byte) error {
	if err := c.Conn.WriteMessage(p); err != nil {
		return errors.New(err.Error())
	}
	return nil
}

// cutsReasonBytewise cuts a long reason at 123 bytes, splitting a
// character; the backend under it then drops the reason as not UTF-8.
type cutsReasonBytewise struct{ dialer.Conn }

func (c cutsReasonBytewise) Close(code int, reason string) error {
	if len(reason) > 60 && strings.ContainsRune(reason, 'é') {
		reason = reason[:61] // inside a 2-byte character
	}
	return c.Conn.Close(code, reason)
}

// slowClose waits 800 ms before closing: Close then takes 1.8 s with a
// write blocked, and a pong timeout is reported 800 ms late.
type slowClose struct{ dialer.Conn }

func (c slowClose) Close(code int, reason string) error {
	time.Sleep(800 * time.Millisecond) // the fault itself: a Close that dawdles
	return c.Conn.Close(code, reason)
}

// masksInPlace masks p in place and restores it before writing: from
// outside p looks untouched, but it was modified for a moment.
type masksInPlace struct{ dialer.Conn }

func (c masksInPlace) WriteMessage(p []byte) error {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for i := range p {
		p[i] ^= key[i&3]
	}
	for i := range p {
		p[i] ^= key[i&3]
	}
	return c.Conn.WriteMessage(p)
}

// The Pinger faults keep the ability, so that the Pinger cases run.

// pingDoesNothing returns nil from Ping without writing.
type pingDoesNothing struct{ dialer.Pinger }

func (pingDoesNothing) Ping([]byte) error { return nil }

// ignoresPongHandler never calls the pong handler.
type ignoresPongHandler struct{ dialer.Pinger }

func (ignoresPongHandler) SetPongHandler(func([]byte)) {}

// pingTruncates sends the first 125 bytes of a longer payload.
type pingTruncates struct{ dialer.Pinger }

func (c pingTruncates) Ping(p []byte) error { return c.Pinger.Ping(p[:min(len(p), 125)]) }

// wrapPingers is wrapConns for faults of the Pinger ability.
func wrapPingers(wrap func(p dialer.Pinger) dialer.Conn) func() dialer.Dialer {
	return wrapConns(func(c dialer.Conn) dialer.Conn { return wrap(c.(dialer.Pinger)) })
}

// ignoresExtensions never sees the extension a server selected.
func ignoresExtensions(_, answer, behind []byte) ([]byte, []byte) {
	lines := strings.Split(string(answer), "\r\n")
	out := lines[:0]
	for _, l := range lines {
		if name, _, _ := strings.Cut(l, ":"); !strings.EqualFold(strings.TrimSpace(name), "Sec-WebSocket-Extensions") {
			out = append(out, l)
		}
	}
	return []byte(strings.Join(out, "\r\n")), behind
}

// tolerant repairs every frame from the server that breaks RFC 6455 before
// the client reads it, as a backend that shrugs at protocol errors would
// see them: the connection goes on where it must fail.
type tolerant struct {
	inMsg bool

	mu  sync.Mutex
	bad *dialer.CloseError // the invalid close frame it let through, as it came
}

func (tl *tolerant) edit(f *frame) []frame {
	f.masked = false // and the RSV bits, which frame does not keep, are cleared
	switch {
	case f.op > ws.OpBinary && f.op < ws.OpClose:
		f.op = ws.OpText
	case f.op > ws.OpPong:
		return nil
	}
	if f.op.IsControl() {
		f.fin = true
		f.payload = f.payload[:min(len(f.payload), 125)]
	} else {
		switch {
		case f.op == ws.OpContinuation && !tl.inMsg:
			f.op = ws.OpText
		case f.op != ws.OpContinuation && tl.inMsg:
			f.op = ws.OpContinuation
		}
		tl.inMsg = !f.fin
	}
	if f.op == ws.OpClose {
		switch code, _, fail := dialer.ParseCloseBody(f.payload); {
		case len(f.payload) == 1:
			f.payload = nil
		case fail != 0:
			tl.mu.Lock()
			tl.bad = &dialer.CloseError{Code: code, Reason: string(f.payload[2:])}
			tl.mu.Unlock()
			f.payload = []byte{0x03, 0xe8}
		}
	}
	return []frame{*f}
}

// reports is the Conn of a tolerant reader: it reports an invalid close
// frame it let through as the server sent it.
type reports struct {
	dialer.Conn
	tl *tolerant
}

func (c reports) ReadMessage() ([]byte, error) {
	p, err := c.Conn.ReadMessage()
	c.tl.mu.Lock()
	defer c.tl.mu.Unlock()
	if err != nil && c.tl.bad != nil {
		return nil, c.tl.bad
	}
	return p, err
}

func toleratesProtocolErrors() dialer.Dialer {
	return dialFunc(func(ctx context.Context, u string, o dialer.Options) (dialer.Conn, error) {
		tl := new(tolerant)
		c, err := rewritingBoth(nil, nil, tl.edit, nil)().Dial(ctx, u, o)
		if err != nil {
			return nil, err
		}
		return reports{c, tl}, nil
	})
}
