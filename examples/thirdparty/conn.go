package coderws

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/coder/websocket"

	"github.com/sipws/sipws/dialer"
)

// closeTimeout bounds Close: coder/websocket waits up to five seconds for
// the server's answer to the close frame; the dialer contract wants it
// bounded tighter.
const closeTimeout = time.Second

// conn is one connection, a dialer.Conn. ReadMessage, WriteMessage and
// Close may run concurrently, as coder/websocket allows.
type conn struct {
	ws    *websocket.Conn
	guard *guard
	limit int64
	buf   bytes.Buffer // the last message; reading goroutine only
	read  int64        // messages returned; reading goroutine only
}

// ReadMessage implements dialer.Conn; the message is valid until the next
// call.
func (c *conn) ReadMessage() ([]byte, error) {
	c.buf.Reset()
	_, r, err := c.ws.Reader(context.Background())
	if err == nil {
		_, err = c.buf.ReadFrom(r)
	}
	if err != nil {
		return nil, c.readError(err)
	}
	if c.read++; c.guard != nil && c.read > c.guard.messages() {
		// The stream ended inside the message (see guard).
		c.ws.CloseNow()
		return nil, dialer.Abnormal(io.ErrUnexpectedEOF)
	}
	return c.buf.Bytes(), nil
}

// readError translates coder/websocket's error into package dialer's.
func (c *conn) readError(err error) error {
	var ce websocket.CloseError
	switch {
	case errors.Is(err, errTooLarge), errors.Is(err, websocket.ErrMessageTooBig):
		tooLarge := dialer.TooLarge(c.guard.announced(), c.limit)
		c.Close(tooLarge.Code, tooLarge.Reason)
		return tooLarge
	case errors.As(err, &ce):
		return &dialer.CloseError{Code: int(ce.Code), Reason: ce.Reason, Err: err}
	case errors.Is(err, io.EOF):
		return dialer.Abnormal(io.ErrUnexpectedEOF)
	}
	return dialer.Abnormal(err)
}

// WriteMessage implements dialer.Conn: one frame, text when p is UTF-8.
func (c *conn) WriteMessage(p []byte) error {
	typ := websocket.MessageBinary
	if dialer.IsText(p) {
		typ = websocket.MessageText
	}
	return c.ws.Write(context.Background(), typ, p)
}

// Close implements dialer.Conn: the closing handshake, cut short after
// closeTimeout. It is idempotent.
func (c *conn) Close(code int, reason string) error {
	done := make(chan error, 1)
	go func() { done <- c.ws.Close(websocket.StatusCode(code), reason) }()
	timer := time.NewTimer(closeTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		c.ws.CloseNow()
		<-done
	}
	return nil
}
