package wsgobwas

import (
	"crypto/tls"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
)

// closeTimeout bounds the whole sending of a close frame, including the wait
// for a write in progress: a peer that does not read cannot hold Close.
const closeTimeout = time.Second

// maxCloseReason is the room left for a reason in a close frame's payload.
const maxCloseReason = ws.MaxControlFramePayloadSize - 2

// aLongTimeAgo is a read deadline that has passed: setting it wakes a
// pending Read at once, as net/http does to abort a read.
var aLongTimeAgo = time.Unix(1, 0)

// Close implements dialer.Conn. The first call wakes a pending ReadMessage
// at once (it returns a 1006 *dialer.CloseError wrapping net.ErrClosed),
// makes a WriteMessage that has not started fail at once, sends a close
// frame with code and reason, waiting at most one second in all (a write in
// progress is let finish within that second and then cut short), and closes
// the socket. It does not wait for the server's answer.
//
// Codes that RFC 6455 §7.4 forbids on the wire (1005, 1006, 1015) and codes
// outside 1000–4999 send a close frame without a body. A reason longer than
// 123 bytes is cut at a character boundary; one that is not UTF-8 is not
// sent.
//
// Close may be called any number of times, from any goroutine, at any time.
// A call while the first is in progress waits for it to finish; calls after
// the first (or after the connection ended by itself) do nothing else and
// return nil. The first returns the error of closing the socket, if any.
func (c *conn) Close(code int, reason string) error {
	if !c.shutdown(code, reason, true) {
		<-c.closed // closed by another call: return once the socket is
		return nil
	}
	return c.closeErr
}

// shutdown closes the connection once: it marks it closing, sends a close
// frame when frame is set, and closes the socket. It reports whether this
// call did it; it returns at once when another call does.
func (c *conn) shutdown(code int, reason string, frame bool) (did bool) {
	if !c.closing.CompareAndSwap(false, true) {
		return false
	}
	close(c.done)
	// A pending read returns now rather than after the close frame; it
	// sees closing and reports net.ErrClosed.
	c.nc.SetReadDeadline(aLongTimeAgo)
	sent := frame && c.sendClose(code, reason)
	if tc, ok := c.nc.(*tls.Conn); ok && !sent {
		// The TLS close_notify alert would wait up to five seconds
		// for a peer that is not reading; the WebSocket close
		// frame, not TLS, is what ends the session.
		c.closeErr = tc.NetConn().Close()
	} else {
		c.closeErr = c.nc.Close()
	}
	close(c.closed)
	return true
}

// sendClose writes a close frame holding the write semaphore and reports
// whether it went out whole. The frame never starts in the middle of
// another: a write in progress gets what is left of closeTimeout to finish,
// cut short by the socket's write deadline, and the wait for it ends with
// closeTimeout even on a socket that ignores deadlines.
func (c *conn) sendClose(code int, reason string) bool {
	c.nc.SetWriteDeadline(time.Now().Add(closeTimeout))
	select {
	case c.wsem <- struct{}{}:
	default:
		t := time.NewTimer(closeTimeout)
		defer t.Stop()
		select {
		case c.wsem <- struct{}{}:
		case <-t.C:
			return false
		}
	}
	defer c.unlockWrite()
	if c.werr != nil {
		return false
	}
	var body [ws.MaxControlFramePayloadSize]byte
	return c.writeFrame(ws.OpClose, body[:putCloseBody(body[:], code, reason)]) == nil
}

// putCloseBody writes the payload of a close frame into b (at least 125
// bytes) and returns its length.
func putCloseBody(b []byte, code int, reason string) int {
	if !sendable(code) {
		return 0
	}
	if !utf8.ValidString(reason) {
		reason = "" // the server would fail the connection with 1007
	}
	if len(reason) > maxCloseReason {
		n := maxCloseReason
		for n > 0 && !utf8.RuneStart(reason[n]) {
			n-- // do not split a character
		}
		reason = reason[:n]
	}
	ws.PutCloseFrameBody(b, ws.StatusCode(code), reason)
	return 2 + len(reason)
}

// sendable reports whether code may appear in a close frame (RFC 6455
// §7.4.1: 1005, 1006 and 1015 must not; §7.4.2: 0–999 are not used and
// nothing is defined above 4999).
func sendable(code int) bool {
	return 1000 <= code && code <= 4999 && !ws.StatusCode(code).IsProtocolReserved()
}

// acceptable reports whether a close code received from a server is valid:
// one that RFC 6455 §7.4.1 or the IANA registry defines for the wire
// (1000–1003, 1007–1014), or one for libraries and applications
// (3000–4999).
//
// ws.CheckCloseFrameData is not used: gobwas v1.5.0 rejects 1012–1014,
// which IANA registered after RFC 6455 and servers do send (1013 Try
// Again Later), and accepts 5000–65535, which no range defines.
func acceptable(code int) bool {
	switch {
	case 1000 <= code && code <= 1003, 1007 <= code && code <= 1014:
		return true
	default:
		return 3000 <= code && code <= 4999
	}
}

// closeReceived answers the server's close frame with payload p and returns
// the error that reports it: its code (1005 when it had none) and reason.
// A malformed close frame fails the connection instead (RFC 6455 §5.5.1,
// §8.1).
func (c *conn) closeReceived(p []byte) error {
	code := dialer.CloseNoStatus
	var reason string
	switch {
	case len(p) == 1:
		return c.fail(dialer.CloseProtocolError, "protocol error", ws.ErrProtocolStatusCodeUnknown)
	case len(p) >= 2:
		sc, r := ws.ParseCloseFrameData(p)
		if code = int(sc); !acceptable(code) {
			return c.fail(dialer.CloseProtocolError, "protocol error", ws.ErrProtocolStatusCodeUnknown)
		}
		if !utf8.ValidString(r) {
			return c.fail(dialer.CloseInvalidPayload, "invalid close reason", ws.ErrProtocolInvalidUTF8)
		}
		reason = r
	}
	c.shutdown(code, "", true) // the echo: the code alone (none for 1005)
	return &dialer.CloseError{Code: code, Reason: reason}
}
