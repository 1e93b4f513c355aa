package sipserver

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/ws"

	"github.com/sipws/sipws/dialer"
)

// A HandshakeMode is what the server does with an upgrade attempt. Each
// mode exists for the client behaviour named in its comment.
type HandshakeMode int

const (
	// HandshakeAccept answers 101 and selects "sip" when the client offers
	// it (RFC 7118 §4). A client that offers no "sip" gets a 101 without
	// a subprotocol, as a generic WebSocket server would answer.
	HandshakeAccept HandshakeMode = iota

	// HandshakeRefuse answers with an HTTP error status (503, or the one
	// given to SetRefuseStatus): the case for a *dialer.HandshakeError
	// and for failover after a refused attempt.
	HandshakeRefuse

	// HandshakeStall reads the upgrade request and never answers, until
	// the mode changes (the handshake then proceeds in the new mode) or
	// the server closes: the case for the connection timeout, which must
	// close the socket it gave up on (SIP.js issue 706).
	HandshakeStall

	// HandshakeOmitSubprotocol answers 101 without Sec-WebSocket-Protocol:
	// the case for dialer.ErrSubprotocol (RFC 7118 §4).
	HandshakeOmitSubprotocol

	// HandshakeCloseTCP closes the TCP connection as soon as it is accepted,
	// before TLS or HTTP: the case for a server that is down (a failed
	// attempt without an HTTP status) and for the reconnection schedule.
	HandshakeCloseTCP
)

// String returns the mode's name without its prefix, e.g. "Stall".
func (m HandshakeMode) String() string {
	switch m {
	case HandshakeAccept:
		return "Accept"
	case HandshakeRefuse:
		return "Refuse"
	case HandshakeStall:
		return "Stall"
	case HandshakeOmitSubprotocol:
		return "OmitSubprotocol"
	case HandshakeCloseTCP:
		return "CloseTCP"
	}
	return "HandshakeMode(" + strconv.Itoa(int(m)) + ")"
}

// errAbandoned ends a handshake without an answer (closed server, or the
// mode turned to CloseTCP while it was stalled).
var errAbandoned = ws.RejectConnectionError(ws.RejectionStatus(http.StatusServiceUnavailable),
	ws.RejectionReason("sipserver: handshake abandoned"))

// handshake runs the upgrade on raw in the current mode and returns the
// open connection, or nil when there is none.
func (s *Server) handshake(id int, raw net.Conn) *Conn {
	s.mu.Lock()
	mode := s.mode
	s.mu.Unlock()
	if mode == HandshakeCloseTCP {
		s.logf("conn %d: closing TCP at once (%v)", id, mode)
		return nil
	}
	nc := raw
	if s.tls != nil {
		nc = tls.Server(raw, s.tls)
	}

	req := Request{Header: make(http.Header)}
	u := ws.Upgrader{
		OnRequest: func(uri []byte) error { req.URI = string(uri); return nil },
		OnHost:    func(host []byte) error { req.Header.Add("Host", string(host)); return nil },
		OnHeader:  func(k, v []byte) error { req.Header.Add(string(k), string(v)); return nil },
		// Record the offer only: the answer depends on the mode, which is
		// known once the whole request has been read (OnBeforeUpgrade).
		ProtocolCustom: func(v []byte) (string, bool) {
			req.Header.Add("Sec-WebSocket-Protocol", string(v))
			return "", true
		},
		OnBeforeUpgrade: func() (ws.HandshakeHeader, error) { return s.decide(id, raw, &req) },
	}
	if _, err := u.Upgrade(nc); err != nil {
		s.logf("conn %d: handshake: %v", id, err)
		return nil
	}
	c := &Conn{s: s, id: id, raw: raw, nc: nc, req: req, done: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.conns = append(s.conns, c)
	s.notify()
	s.logf("conn %d: open %s", id, req.URI)
	return c
}

// decide answers an upgrade request that has been read whole, in the
// current mode; a stalled request waits here.
func (s *Server) decide(id int, raw net.Conn, req *Request) (ws.HandshakeHeader, error) {
	s.mu.Lock()
	s.requests = append(s.requests, Request{URI: req.URI, Header: req.Header.Clone()})
	s.notify()
	s.mu.Unlock()
	for {
		s.mu.Lock()
		mode, release, status := s.mode, s.stallRelease, s.refuseStatus
		s.mu.Unlock()
		switch mode {
		case HandshakeStall:
			s.logf("conn %d: stalling the handshake", id)
			hungUp, stop := watchHangup(raw)
			select {
			case <-release:
				if stop() {
					s.logf("conn %d: client hung up during the stalled handshake", id)
					return nil, errAbandoned
				}
				continue
			case <-s.done:
				stop()
				return nil, errAbandoned
			case <-hungUp:
				stop()
				s.logf("conn %d: client hung up during the stalled handshake", id)
				return nil, errAbandoned
			}
		case HandshakeRefuse:
			s.logf("conn %d: refusing with %d", id, status)
			return nil, ws.RejectConnectionError(ws.RejectionStatus(status),
				ws.RejectionReason("sipserver: refused"))
		case HandshakeCloseTCP:
			raw.Close()
			return nil, errAbandoned
		case HandshakeOmitSubprotocol:
			return ws.HandshakeHeaderBytes(nil), nil
		default:
			if offers(req.Header.Values("Sec-WebSocket-Protocol"), dialer.Subprotocol) {
				return ws.HandshakeHeaderBytes("Sec-WebSocket-Protocol: " + dialer.Subprotocol + "\r\n"), nil
			}
			return ws.HandshakeHeaderBytes(nil), nil
		}
	}
}

// watchHangup watches raw while its handshake is stalled, so that a client
// that gives up (its connection timeout) is seen closing the socket: the
// case for a client that must not leak the sockets it abandons (SIP.js
// issue 706). A client sends nothing before the answer, so a read that
// returns, with EOF, a reset, a TLS alert or any byte, means the client
// hung up. hungUp is closed when the read returns; stop ends the watch
// without consuming anything more, waits for the reading goroutine, and
// reports whether the client hung up.
func watchHangup(raw net.Conn) (hungUp <-chan struct{}, stop func() bool) {
	done := make(chan struct{})
	var gone bool
	go func() {
		defer close(done)
		var b [1]byte
		_, err := raw.Read(b[:])
		gone = !errors.Is(err, os.ErrDeadlineExceeded)
	}()
	return done, func() bool {
		raw.SetReadDeadline(time.Now()) // wakes the read, which then reports a timeout
		<-done
		raw.SetReadDeadline(time.Time{})
		return gone
	}
}

// offers reports whether the Sec-WebSocket-Protocol values list proto
// (tokens are case-sensitive, RFC 6455 §4.1).
func offers(values []string, proto string) bool {
	for _, v := range values {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(tok) == proto {
				return true
			}
		}
	}
	return false
}
