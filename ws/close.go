package ws

import (
	"crypto/tls"
	"encoding/binary"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/sipws/sipws/dialer"
)

// closeTimeout bounds the whole sending of a close frame, including the wait
// for a write in progress: a peer that does not read cannot hold Close.
const closeTimeout = time.Second

// maxCloseReason is the room left for a reason in a close frame's payload.
const maxCloseReason = 125 - 2

// Close implements dialer.Conn. The first call sends a close frame with code
// and reason, waiting at most one second in all (gorilla's WriteControl
// waits for a write in progress, then writes with that deadline), then
// closes the socket, which unblocks a pending ReadMessage and a pending
// WriteMessage. It does not wait for the server's answer.
//
// Codes that RFC 6455 §7.4 forbids on the wire (1005, 1006, 1015) and codes
// outside 1000–4999 send a close frame without a body. A reason longer than
// 123 bytes is cut at a character boundary.
//
// Close may be called any number of times, from any goroutine, at any time;
// calls after the first (or after the connection ended by itself) do nothing
// and return nil. It returns the error of closing the socket, if any.
func (c *conn) Close(code int, reason string) error {
	if c.shutdown(code, reason, true) {
		return c.closeErr
	}
	return nil
}

// shutdown closes the connection once: it marks it closed, sends a close
// frame when frame is set, and closes the socket. It reports whether this
// call did it; a concurrent call waits until the first has finished.
func (c *conn) shutdown(code int, reason string, frame bool) (did bool) {
	c.closeOnce.Do(func() {
		did = true
		c.closed.Store(true)
		sent := false
		if frame {
			deadline := time.Now().Add(closeTimeout)
			sent = c.ws.WriteControl(websocket.CloseMessage, closeBody(code, reason), deadline) == nil
		}
		nc := c.ws.NetConn()
		if tc, ok := nc.(*tls.Conn); ok && !sent {
			// The TLS close_notify alert would wait up to five seconds
			// for a peer that is not reading; the WebSocket close
			// frame, not TLS, is what ends the session.
			c.closeErr = tc.NetConn().Close()
			return
		}
		c.closeErr = nc.Close()
	})
	return did
}

// closeBody returns the payload of a close frame with code and reason.
func closeBody(code int, reason string) []byte {
	if !sendable(code) {
		return nil
	}
	if len(reason) > maxCloseReason {
		reason = reason[:maxCloseReason]
		for len(reason) > 0 && !utf8.ValidString(reason) {
			reason = reason[:len(reason)-1] // cut a split character
		}
	}
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	return append(b, reason...)
}

// sendable reports whether code may appear in a close frame (RFC 6455
// §7.4.1: 1005, 1006 and 1015 must not; §7.4.2: 0–999 are not used).
func sendable(code int) bool {
	switch code {
	case dialer.CloseNoStatus, dialer.CloseAbnormal, websocket.CloseTLSHandshake:
		return false
	}
	return 1000 <= code && code <= 4999
}
