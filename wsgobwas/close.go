package wsgobwas

import (
	"crypto/tls"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
)

// aLongTimeAgo is a read deadline that has passed: setting it wakes a
// pending Read at once, as net/http does to abort a read.
var aLongTimeAgo = time.Unix(1, 0)

// Close implements dialer.Conn. The first call wakes a pending ReadMessage
// at once (it returns a 1006 *dialer.CloseError wrapping net.ErrClosed),
// makes a WriteMessage that has not started fail at once, sends a close
// frame with code and reason, waiting at most one second in all (a write in
// progress is let finish within that second and then cut short), and closes
// the socket: dialer.CloseTimeout. It does not wait for the server's answer.
//
// The close frame's body is dialer.AppendCloseBody's: none for a code that
// dialer.ValidCloseCode refuses, a reason cut to 123 bytes at a character
// boundary, and left out when it is not UTF-8.
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
// another: a write in progress gets what is left of dialer.CloseTimeout to finish,
// cut short by the socket's write deadline, and the wait for it ends with
// dialer.CloseTimeout even on a socket that ignores deadlines.
func (c *conn) sendClose(code int, reason string) bool {
	c.nc.SetWriteDeadline(time.Now().Add(dialer.CloseTimeout))
	select {
	case c.wsem <- struct{}{}:
	default:
		t := time.NewTimer(dialer.CloseTimeout)
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
	return c.writeFrame(ws.OpClose, dialer.AppendCloseBody(body[:0], code, reason)) == nil
}

// closeReceived answers the server's close frame with payload p and returns
// the error that reports it: its code (1005 when it had none) and reason.
// A malformed close frame fails the connection instead, as
// dialer.ParseCloseBody says (RFC 6455 §5.5.1, §8.1). ws.CheckCloseFrameData
// is not used: gobwas v1.5.0 rejects 1012–1014, which IANA registered after
// RFC 6455 and servers do send (1013 Try Again Later), and accepts
// 5000–65535, which no range defines.
func (c *conn) closeReceived(p []byte) error {
	code, reason, fail := dialer.ParseCloseBody(p)
	switch fail {
	case dialer.CloseProtocolError:
		return c.fail(fail, "protocol error", ws.ErrProtocolStatusCodeUnknown)
	case dialer.CloseInvalidPayload:
		return c.fail(fail, "invalid close reason", ws.ErrProtocolInvalidUTF8)
	}
	c.shutdown(code, "", true) // the echo: the code alone (none for 1005)
	return &dialer.CloseError{Code: code, Reason: reason}
}
