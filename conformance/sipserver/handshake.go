package sipserver

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

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

// errAbandoned ends a handshake without an answer: the server is closing,
// the client hung up during a stall, or the mode turned to CloseTCP.
var errAbandoned = errors.New("sipserver: handshake abandoned")

// websocketGUID is the key suffix of RFC 6455 §1.3.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// An answer is what the server sends back to an upgrade request.
type answer struct {
	status   int         // 101, or the refusal's status
	protocol string      // the selected subprotocol, for a 101; "" for none
	header   http.Header // a persona's own header lines
}

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
	br, rc := s.frameReader(nc)
	req, key, err := readUpgrade(br)
	if err != nil {
		s.logf("conn %d: handshake: %v", id, err)
		if req != nil {
			writeAnswer(nc, answer{status: http.StatusBadRequest}, "", s.responseHeader(), nil)
		}
		return nil
	}
	a, err := s.decide(id, raw, req)
	if err != nil {
		s.logf("conn %d: handshake: %v", id, err)
		return nil
	}
	if a.status != http.StatusSwitchingProtocols {
		if err := writeAnswer(nc, a, key, s.responseHeader(), nil); err != nil {
			s.logf("conn %d: handshake: %v", id, err)
		}
		s.logf("conn %d: refused with %d", id, a.status)
		return nil
	}
	// The connection is listed before the client has its 101, so that a
	// client's Dial never returns ahead of it; its writes wait for the
	// answer to be out.
	c := &Conn{s: s, id: id, raw: raw, nc: nc, br: br, req: *req, done: make(chan struct{}), cut: make(chan struct{})}
	c.rc, c.activity = rc, make(chan struct{}, 1)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.conns = append(s.conns, c)
	s.notify()
	s.mu.Unlock()
	if err := writeAnswer(nc, a, key, s.responseHeader(), s.earlyBytes()); err != nil {
		s.logf("conn %d: handshake: %v", id, err)
		c.end()
		return nil
	}
	s.logf("conn %d: open %s", id, req.URI)
	return c
}

// readUpgrade reads an upgrade request from br and returns it with its
// Sec-WebSocket-Key. It returns a nil Request when nothing that looks
// like an HTTP request arrived, and an error with the Request when the
// request is not a WebSocket upgrade (RFC 6455 §4.2.1).
func readUpgrade(br *bufio.Reader) (*Request, string, error) {
	hr, err := http.ReadRequest(br)
	if err != nil {
		return nil, "", err
	}
	req := &Request{URI: hr.RequestURI, Header: make(http.Header, len(hr.Header)+1)}
	req.Header.Set("Host", hr.Host)
	for k, v := range hr.Header {
		switch k {
		case "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version":
		default:
			req.Header[k] = v
		}
	}
	key := hr.Header.Get("Sec-Websocket-Key")
	switch {
	case hr.Method != http.MethodGet:
		return req, "", fmt.Errorf("method %s, not GET", hr.Method)
	case !hasToken(hr.Header.Values("Upgrade"), "websocket"):
		return req, "", errors.New("no Upgrade: websocket")
	case !hasToken(hr.Header.Values("Connection"), "upgrade"):
		return req, "", errors.New("no Connection: Upgrade")
	case hr.Header.Get("Sec-Websocket-Version") != "13":
		return req, "", fmt.Errorf("Sec-WebSocket-Version %q, not 13", hr.Header.Get("Sec-Websocket-Version"))
	case len(key) != 24: // 16 bytes in base64
		return req, "", fmt.Errorf("bad Sec-WebSocket-Key %q", key)
	}
	return req, key, nil
}

// hasToken reports whether the comma-separated values hold tok, ignoring
// case (RFC 9110 §7.8).
func hasToken(values []string, tok string) bool {
	for _, v := range values {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), tok) {
				return true
			}
		}
	}
	return false
}

// writeAnswer writes the answer to an upgrade request, with the extra
// header lines and, for a 101, the early bytes, all in one Write.
func writeAnswer(w io.Writer, a answer, key string, extra http.Header, early []byte) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", a.status, http.StatusText(a.status))
	if a.status == http.StatusSwitchingProtocols {
		sum := sha1.Sum([]byte(key + websocketGUID))
		b.WriteString("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
		b.WriteString(base64.StdEncoding.EncodeToString(sum[:]))
		b.WriteString("\r\n")
		if a.protocol != "" {
			b.WriteString("Sec-WebSocket-Protocol: " + a.protocol + "\r\n")
		}
	}
	extra.Write(&b)
	a.header.Write(&b)
	if a.status != http.StatusSwitchingProtocols {
		b.WriteString("Content-Length: 0\r\nConnection: close\r\n")
	}
	b.WriteString("\r\n")
	b.Write(early)
	_, err := w.Write(b.Bytes())
	return err
}

// decide answers an upgrade request that has been read whole, in the
// current mode; a stalled request waits here.
func (s *Server) decide(id int, raw net.Conn, req *Request) (answer, error) {
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
					return answer{}, errAbandoned
				}
				continue
			case <-s.done:
				stop()
				return answer{}, errAbandoned
			case <-hungUp:
				stop()
				s.logf("conn %d: client hung up during the stalled handshake", id)
				return answer{}, errAbandoned
			}
		case HandshakeRefuse:
			s.logf("conn %d: refusing with %d", id, status)
			return answer{status: status}, nil
		case HandshakeCloseTCP:
			raw.Close()
			return answer{}, errAbandoned
		case HandshakeOmitSubprotocol:
			return answer{status: http.StatusSwitchingProtocols}, nil
		default:
			if a, ok := s.personaAnswer(req); ok {
				return a, nil
			}
			a := answer{status: http.StatusSwitchingProtocols}
			if req.Offers(dialer.Subprotocol) {
				a.protocol = dialer.Subprotocol
			}
			return a, nil
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
