package transport

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/sipws/sipws/sipmsg"
)

// ErrEmptyMessage is the reason MessageDropped gives for an empty
// WebSocket message: it carries no SIP, and no keepalive either.
var ErrEmptyMessage = errors.New("transport: empty message")

// SanityError is the reason MessageDropped gives for a message that parsed
// but failed a transport sanity check (SPEC.md "Receiving").
type SanityError struct {
	Problem sipmsg.Problem
	Status  int // the status answered to a request (400, 416), or 0
}

func (e *SanityError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("transport: sanity check failed: %v (answered %d)", e.Problem, e.Status)
	}
	return "transport: sanity check failed: " + e.Problem.String()
}

// messages recycles parsed-message views: a sipmsg.Message is a few KiB of
// fixed arrays, too much to hold per idle connection, and free to reuse.
var messages = sync.Pool{New: func() any { return new(sipmsg.Message) }}

// readLoop reads until the connection ends and returns why.
func (s *session) readLoop() error {
	for {
		p, err := s.conn.ReadMessage()
		if err != nil {
			return err
		}
		s.received(p)
		s.keeper.Handled() // the pong timeout waits while a message is handled
	}
}

// received handles one incoming WebSocket message: keepalive traffic is
// consumed, SIP is parsed, checked, answered when it must be, and delivered.
func (s *session) received(p []byte) {
	b := s.b
	if s.keeper.Received(p) {
		b.stats.keepalivesIn.Add(1)
		return
	}
	if b.cfg.TraceSIP && b.log.IsTrace() {
		b.trace("received", s.server.URI, p)
	}
	if len(p) == 0 {
		b.countIn(p)
		s.drop(p, ErrEmptyMessage)
		return
	}
	m := messages.Get().(*sipmsg.Message)
	defer release(m)
	if err := m.Parse(p); err != nil {
		b.countIn(p)
		s.drop(p, err)
		return
	}
	if s.ownKeepalive(m) {
		return // the answer to the transport's own OPTIONS keepalive
	}
	b.countIn(p)
	if problem := s.check(m); problem != sipmsg.OK {
		code, reason := problem.Status()
		// ACK is never answered, whatever it fails (RFC 3261 §17.1.1.3).
		if code != 0 && m.IsRequest() && string(m.Method()) != "ACK" {
			s.answer = sipmsg.AppendResponse(s.answer[:0], m, code, reason, newTag())
			if err := s.write(context.Background(), s.answer); err != nil && b.log.IsDebug() {
				b.log.Debug("automatic answer not sent", "status", code, "error", err)
			}
		} else {
			code = 0
		}
		s.drop(p, &SanityError{Problem: problem, Status: code})
		return
	}
	if f := b.events.Load().Message; f != nil {
		f(m)
	}
}

// check runs the sanity checks of SPEC.md "Receiving", with one deviation
// from SIP.js: on a wss flow a sips: Request-URI passes the scheme check
// (Asterisk sends them over WSS; SIP.js and JsSIP answered 416 and broke
// its calls). On ws it is still answered 416.
func (s *session) check(m *sipmsg.Message) sipmsg.Problem {
	problem := sipmsg.Check(m, s.b.cfg.ViaHost)
	if problem != sipmsg.BadRequestURIScheme || !s.secure || !isSIPS(m.RequestURI()) {
		return problem
	}
	// The scheme check comes before the body check in Check: run the rest.
	if n, ok := m.ContentLength(); ok && n > len(m.Body()) {
		return sipmsg.BodyTooShort
	}
	return sipmsg.OK
}

// isSIPS reports whether uri has the sips scheme, in any case.
func isSIPS(uri []byte) bool {
	return len(uri) > 5 && uri[4] == ':' && strings.EqualFold(string(uri[:4]), "sips")
}

// countIn counts a received message that is not keepalive traffic.
func (b *Base) countIn(p []byte) {
	b.stats.messagesIn.Add(1)
	b.stats.bytesIn.Add(uint64(len(p)))
}

// release gives a parsed-message view back to the pool, first making it
// forget the buffer it points into, which would otherwise stay reachable
// (a dead connection's read buffer, say) for as long as the view is pooled.
func release(m *sipmsg.Message) {
	m.Parse(nil)
	messages.Put(m)
}

// drop reports a message that is not delivered.
func (s *session) drop(p []byte, reason error) {
	b := s.b
	b.stats.dropped.Add(1)
	if b.log.IsDebug() {
		b.log.Debug("message dropped", "server", s.server.URI, "size", len(p), "reason", reason)
	}
	if f := b.events.Load().MessageDropped; f != nil {
		f(p, reason)
	}
}

// newTag returns a random To tag for an automatic answer.
func newTag() string {
	var b [5]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
