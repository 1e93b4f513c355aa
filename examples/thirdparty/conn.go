package coderws

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/sipws/sipws/dialer"
)

// conn is one connection, a dialer.Conn. ReadMessage, WriteMessage and
// Close may run concurrently, as coder/websocket allows.
type conn struct {
	ws    *websocket.Conn
	guard *guard
	limit int64
	send  dialer.Options // only MaxSendSize is set: for CheckSend
	buf   bytes.Buffer   // the last message; reading goroutine only
	read  int64          // messages returned; reading goroutine only
	rerr  error          // the error that ended reading; reading goroutine only

	closeOnce sync.Once
}

// ReadMessage implements dialer.Conn; the message is valid until the next
// call. Once it has failed it returns the same error: coder/websocket
// would report a later call as a closed connection, 1006.
func (c *conn) ReadMessage() ([]byte, error) {
	if c.rerr != nil {
		return nil, c.rerr
	}
	c.buf.Reset()
	_, r, err := c.ws.Reader(context.Background())
	if err == nil {
		_, err = c.buf.ReadFrom(r)
	}
	if err == nil {
		if c.read++; c.read > c.guard.messages() {
			// The stream ended inside the message (see guard).
			c.ws.CloseNow()
			err = io.ErrUnexpectedEOF
		}
	}
	if err != nil {
		c.rerr = c.readError(err)
		return nil, c.rerr
	}
	return c.buf.Bytes(), nil
}

// readError translates coder/websocket's error into package dialer's.
func (c *conn) readError(err error) error {
	var ce websocket.CloseError
	switch {
	case errors.Is(err, websocket.ErrMessageTooBig):
		tooLarge := dialer.TooLarge(-1, c.limit) // coder counts bytes as they come: the size is unknown
		c.Close(tooLarge.Code, tooLarge.Reason)
		return tooLarge
	case errors.As(err, &ce) && !utf8.ValidString(ce.Reason):
		// coder/websocket takes a reason that is not UTF-8; the contract
		// fails the connection (RFC 6455 §8.1).
		return &dialer.CloseError{Code: dialer.CloseInvalidPayload, Reason: "invalid close reason", Err: err}
	case errors.As(err, &ce):
		return &dialer.CloseError{Code: int(ce.Code), Reason: ce.Reason, Err: err}
	}
	// A broken stream or a protocol error: coder/websocket leaves the
	// socket open after some of them.
	c.guard.Conn.Close()
	if errors.Is(err, io.EOF) {
		return dialer.Abnormal(io.ErrUnexpectedEOF)
	}
	return dialer.Abnormal(err)
}

// WriteMessage implements dialer.Conn: one frame, text when p is UTF-8,
// refused before anything is written above Options.MaxSendSize.
func (c *conn) WriteMessage(p []byte) error {
	if err := c.send.CheckSend(p); err != nil {
		return err
	}
	typ := websocket.MessageBinary
	if dialer.IsText(p) {
		typ = websocket.MessageText
	}
	return c.ws.Write(context.Background(), typ, p)
}

// Close implements dialer.Conn: the closing handshake, with the body
// dialer.AppendCloseBody allows (coder/websocket refuses to send a code
// not valid on the wire, and sends a reason as it is), cut short after
// dialer.CloseTimeout by closing the socket, which coder would otherwise
// wait five seconds for. It is idempotent.
func (c *conn) Close(code int, reason string) error {
	c.closeOnce.Do(func() {
		body := dialer.AppendCloseBody(nil, code, reason)
		status, why := websocket.StatusNoStatusRcvd, "" // a close frame without a body
		if len(body) >= 2 {
			status, why = websocket.StatusCode(code), string(body[2:])
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.ws.Close(status, why)
		}()
		timer := time.NewTimer(dialer.CloseTimeout)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
			c.guard.Conn.Close()
			<-done
		}
	})
	return nil
}
