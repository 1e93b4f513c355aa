package transport

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/keepalive"
	"github.com/sipws/sipws/sipmsg"
)

// ErrKeepAliveMode is wrapped by the error of a Connect whose keepalive
// mode the backend cannot do: keepalive.WebSocketPing over a connection
// that is not a dialer.Pinger. It is permanent: the transport stops, and
// never falls back to another mode.
var ErrKeepAliveMode = errors.New("transport: keepalive mode not supported by the backend")

// modeError says which mode the backend could not do.
type modeError struct{ mode keepalive.Mode }

func (e *modeError) Error() string {
	return fmt.Sprintf("%v: %q needs connections that implement dialer.Pinger (both shipped backends do)", ErrKeepAliveMode, e.mode)
}
func (e *modeError) Unwrap() error { return ErrKeepAliveMode }

// checkMode reports whether conn can carry the configured keepalive mode.
func (b *Base) checkMode(conn dialer.Conn) error {
	if b.cfg.KeepAliveMode == keepalive.WebSocketPing {
		if _, ok := conn.(dialer.Pinger); !ok {
			return &modeError{b.cfg.KeepAliveMode}
		}
	}
	return nil
}

// newKeeper makes the keepalive schedule of s in the configured mode.
func (s *session) newKeeper() *keepalive.Keeper {
	b := s.b
	cfg := keepalive.Config{
		Mode:        b.cfg.KeepAliveMode,
		Interval:    b.cfg.KeepAliveInterval,
		Debounce:    b.cfg.KeepAliveDebounce,
		PongTimeout: b.cfg.KeepAlivePongTimeout,
		Send:        s.sendKeepalive,
		OnFailure:   s.pongTimeout,
		OnRTT:       b.stats.observeRTT,
		Logger:      b.kaLog,
	}
	switch cfg.Mode {
	case keepalive.WebSocketPing:
		if p, ok := s.conn.(dialer.Pinger); ok {
			s.pinger = p
			cfg.Ping = s.pingWS
			p.SetPongHandler(s.pongWS)
		}
	case keepalive.Options:
		s.kaCallID = "sipws-keepalive-" + randomHex(8)
		cfg.Ping = s.pingOptions
	}
	return keepalive.New(cfg)
}

// pingWS sends a WebSocket Ping with a fresh payload: the session's salt
// plus a sequence number, so that only the Pong echoing this very ping
// answers it. It runs on the keepalive's timer, one at a time.
func (s *session) pingWS() error {
	v := s.pingSalt + s.pingSeq.Add(1)
	s.lastPing.Store(v)
	binary.BigEndian.PutUint64(s.pingBuf[:], v)
	err := s.locked(func() error { return s.pinger.Ping(s.pingBuf[:]) })
	if err == nil {
		s.b.stats.keepalivesOut.Add(1)
	}
	return err
}

// pongWS is the backend's pong handler: a Pong echoing the latest ping is
// the keepalive's pong. It runs on the reading goroutine.
func (s *session) pongWS(payload []byte) {
	if len(payload) == 8 && binary.BigEndian.Uint64(payload) == s.lastPing.Load() {
		s.b.stats.keepalivesIn.Add(1)
		s.keeper.Pong()
	}
}

// pingOptions sends the keepalive OPTIONS request: the session's own
// Call-ID, a new CSeq and branch each time.
func (s *session) pingOptions() error {
	s.kaCSeq++
	s.kaBuf = s.appendOptions(s.kaBuf[:0])
	if s.b.cfg.TraceSIP && s.b.log.IsTrace() {
		s.b.trace("sending", s.server.URI, s.kaBuf)
	}
	return s.sendKeepalive(s.kaBuf)
}

// appendOptions appends the keepalive OPTIONS to dst:
//
//	OPTIONS sip:HOST[:PORT];transport=ws SIP/2.0
//	Via: SIP/2.0/WS(S) VIAHOST;branch=z9hG4bK...
//	Max-Forwards: 70
//	To: <sip:HOST[:PORT]>
//	From: <sip:keepalive@VIAHOST>;tag=...
//	Call-ID: sipws-keepalive-...
//	CSeq: N OPTIONS
//	Content-Length: 0
//
// VIAHOST is Config.ViaHost, so that the response passes the Via check,
// or a random ".invalid" host as SIP.js uses.
func (s *session) appendOptions(dst []byte) []byte {
	target := strings.TrimSuffix(strings.TrimPrefix(s.server.SIPURI, "<"), ";lr>")
	host := strings.TrimSuffix(strings.TrimPrefix(target, "sip:"), ";transport=ws")
	proto := "WS"
	if s.secure {
		proto = "WSS"
	}
	dst = append(dst, "OPTIONS "...)
	dst = append(dst, target...)
	dst = append(dst, " SIP/2.0\r\nVia: SIP/2.0/"...)
	dst = append(dst, proto...)
	dst = append(dst, ' ')
	dst = append(dst, s.b.viaHost...)
	dst = append(dst, ";branch=z9hG4bK"...)
	dst = append(dst, s.kaCallID[len(s.kaCallID)-16:]...)
	dst = strconv.AppendUint(dst, s.kaCSeq, 10)
	dst = append(dst, "\r\nMax-Forwards: 70\r\nTo: <sip:"...)
	dst = append(dst, host...)
	dst = append(dst, ">\r\nFrom: <sip:keepalive@"...)
	dst = append(dst, s.b.viaHost...)
	dst = append(dst, ">;tag="...)
	dst = append(dst, s.kaCallID[len(s.kaCallID)-8:]...)
	dst = append(dst, "\r\nCall-ID: "...)
	dst = append(dst, s.kaCallID...)
	dst = append(dst, "\r\nCSeq: "...)
	dst = strconv.AppendUint(dst, s.kaCSeq, 10)
	dst = append(dst, " OPTIONS\r\nContent-Length: 0\r\n\r\n"...)
	return dst
}

// ownKeepalive reports whether m is a response to the session's keepalive
// OPTIONS (its Call-ID), which is consumed and never delivered; a final
// one is the pong.
func (s *session) ownKeepalive(m *sipmsg.Message) bool {
	if s.kaCallID == "" || !m.IsResponse() || string(m.Header("Call-ID")) != s.kaCallID {
		return false
	}
	s.b.stats.keepalivesIn.Add(1)
	if m.StatusCode() >= 200 {
		s.keeper.Pong()
	}
	return true
}

// randomHex returns 2n random hexadecimal digits.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
