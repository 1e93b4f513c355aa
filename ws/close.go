package ws

import (
	"time"

	"github.com/gorilla/websocket"
	"github.com/sipws/sipws/dialer"
)

// Close implements dialer.Conn. The first call sends a close frame with code
// and reason, waiting at most dialer.CloseTimeout (one second) in all
// (gorilla's WriteControl waits for a write in progress, then writes with
// that deadline), then closes the socket, which unblocks a pending
// ReadMessage and a pending WriteMessage. It does not wait for the server's
// answer.
//
// The close frame's body is dialer.AppendCloseBody's: none for a code that
// dialer.ValidCloseCode refuses, a reason cut to 123 bytes at a character
// boundary, and left out when it is not UTF-8.
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
			var body [125]byte
			deadline := time.Now().Add(dialer.CloseTimeout)
			sent = c.ws.WriteControl(websocket.CloseMessage, dialer.AppendCloseBody(body[:0], code, reason), deadline) == nil
		}
		if c.tap.tls != nil && !sent {
			// The TLS close_notify alert would wait up to five seconds
			// for a peer that is not reading; the WebSocket close
			// frame, not TLS, is what ends the session.
			c.closeErr = c.tap.raw.Close()
			return
		}
		c.closeErr = c.tap.Close()
	})
	return did
}
