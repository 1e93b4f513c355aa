package ws

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"
	"github.com/sipws/sipws/dialer"
)

// firstBuf is the room a message starts with; the buffer doubles from there
// as bytes arrive, so it never grows ahead of them by more than that.
const firstBuf = 4096

// errClosed is the error of a read or write on a connection that Close (or
// the end of the stream) has closed.
var errClosed = fmt.Errorf("ws: use of closed connection: %w", net.ErrClosed)

// conn is one WebSocket connection: the dialer.Conn that Dial returns.
//
// Reading state (msg, rerr) belongs to the goroutine inside ReadMessage;
// dialer.Conn guarantees one at a time, as gorilla requires. Writing is
// gorilla's: every frame, data or control, is written whole under its
// internal write lock.
type conn struct {
	ws    *websocket.Conn
	limit int64 // Options.ReadLimit(), also gorilla's read limit

	msg  *[]byte // pooled buffer of the last message, or nil
	rerr error   // the error that ended reading; every later read returns it

	closed    atomic.Bool // set first thing when the connection starts closing
	closeOnce sync.Once
	closeErr  error // the socket's Close error, for the Close that did it
}

func newConn(wc *websocket.Conn, limit int64) *conn {
	wc.SetReadLimit(limit)
	// The server's close frame is echoed by shutdown, bounded and followed
	// by the socket's close like every close frame, rather than by
	// gorilla's default handler.
	wc.SetCloseHandler(ignoreClose)
	return &conn{ws: wc, limit: limit}
}

func ignoreClose(int, string) error { return nil }

// ReadMessage implements dialer.Conn. The message is copied out of
// gorilla's reader into a pooled buffer, which is valid until the next
// call and goes back to the pool when that call starts.
//
// It must not run concurrently with itself; it may run concurrently with
// WriteMessage and Close.
func (c *conn) ReadMessage() ([]byte, error) {
	if c.rerr != nil {
		return nil, c.rerr
	}
	if c.msg != nil {
		// The caller is done with the last message: the buffer goes back
		// to the pool now, so a connection waiting for its next message
		// holds none.
		putBuf(c.msg)
		c.msg = nil
	}
	if c.closed.Load() {
		return nil, c.endRead(dialer.Abnormal(errClosed))
	}
	// gorilla answers pings, skips pongs and checks each frame header
	// against the read limit inside NextReader and Read.
	_, r, err := c.ws.NextReader()
	if err != nil {
		return nil, c.endRead(c.readFailed(err))
	}
	p, err := c.readPayload(r)
	if err != nil {
		return nil, c.endRead(c.readFailed(err))
	}
	return p, nil
}

// readPayload reads the message r delivers, all its fragments, into
// c.msg, growing it from the pool as the bytes arrive.
func (c *conn) readPayload(r io.Reader) ([]byte, error) {
	c.msg = getBuf(firstBuf)
	b := *c.msg
	for {
		if len(b) == cap(b) {
			// A zero-length read tells the end of the message from more
			// to come, so that a message filling its buffer exactly
			// (64 KiB at the default limit) does not double it.
			if _, err := r.Read(b[len(b):]); err == io.EOF {
				break
			} else if err != nil {
				return nil, err
			}
			nb := getBuf(2 * cap(b))
			*nb = append(*nb, b...)
			putBuf(c.msg)
			c.msg, b = nb, *nb
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	*c.msg = b
	return b, nil
}

// endRead makes err the answer of every later read (gorilla's NextReader
// must not be called again after an error: it panics after a thousand
// such calls), and gives the message buffer back.
func (c *conn) endRead(err error) error {
	c.rerr = err
	if c.msg != nil {
		putBuf(c.msg)
		c.msg = nil
	}
	return err
}

// readFailed turns an error of gorilla's reader into the connection's end,
// as a *dialer.CloseError, and closes the connection.
func (c *conn) readFailed(err error) error {
	var ce *websocket.CloseError
	isClose := errors.As(err, &ce)
	switch {
	case isClose && ce.Code != websocket.CloseAbnormalClosure:
		// The server's close frame, which gorilla has checked: echo its
		// code (none for 1005) and hang up.
		c.shutdown(ce.Code, "", true)
		return &dialer.CloseError{Code: ce.Code, Reason: ce.Text}
	case errors.Is(err, websocket.ErrReadLimit):
		// gorilla refused the frame header and sent close 1009 (unless
		// the length overflowed, when the frame below goes out instead);
		// it does not say how long the message was.
		e := dialer.TooLarge(-1, c.limit)
		c.shutdown(e.Code, e.Reason, true)
		return e
	case c.closed.Load():
		return dialer.Abnormal(errClosed)
	case isClose:
		// gorilla's own 1006: the stream ended inside a frame or between
		// two; it does not tell which.
		c.shutdown(0, "", false)
		return dialer.Abnormal(io.ErrUnexpectedEOF)
	case isProtocolError(err):
		// gorilla has sent close 1002 with its diagnosis as the reason;
		// this frame goes out only if gorilla's could not.
		c.shutdown(dialer.CloseProtocolError, "protocol error", true)
		return &dialer.CloseError{Code: dialer.CloseProtocolError, Reason: "protocol error", Err: err}
	default:
		c.shutdown(0, "", false)
		return dialer.Abnormal(err)
	}
}

// isProtocolError reports whether err is gorilla's report of a frame that
// breaks RFC 6455 (bad opcode, RSV or MASK bit, control frame over 125
// bytes, bad close code or reason...). gorilla makes those with
// errors.New("websocket: " + diagnosis) after sending close 1002; socket and
// TLS errors never carry that prefix, and its own net.Errors (the write
// timeout of a pong) are ruled out first.
func isProtocolError(err error) bool {
	var ne net.Error
	return !errors.As(err, &ne) && strings.HasPrefix(err.Error(), "websocket: ")
}

// WriteMessage implements dialer.Conn: p goes out as one message, text when
// it is valid UTF-8 and binary otherwise. gorilla copies p into a pooled
// write buffer and masks it there, with a fresh key per frame; p is only
// read. A message larger than the write buffer goes out as several frames
// of one fragmented message.
//
// It must not run concurrently with itself; it may run concurrently with
// ReadMessage (whose pongs wait for gorilla's write lock between frames)
// and Close.
func (c *conn) WriteMessage(p []byte) error {
	if c.closed.Load() {
		return errClosed
	}
	mt := websocket.BinaryMessage
	if dialer.IsText(p) {
		mt = websocket.TextMessage
	}
	err := c.ws.WriteMessage(mt, p)
	switch {
	case err == nil:
		return nil
	case c.closed.Load(), errors.Is(err, websocket.ErrCloseSent):
		// The connection is closing: a close frame went out first.
		return fmt.Errorf("%w (%w)", errClosed, err)
	}
	return fmt.Errorf("ws: %w", err)
}
