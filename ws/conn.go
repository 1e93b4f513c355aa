package ws

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-hclog"
	"github.com/sipws/sipws/dialer"
)

// firstBuf is the room a message starts with; the buffer doubles from there
// as bytes arrive, so it never grows ahead of them by more than that.
const firstBuf = 4096

// errClosed is the error of a read or write on a connection that Close (or
// the end of the stream) has closed.
var errClosed = fmt.Errorf("ws: use of closed connection: %w", net.ErrClosed)

// The causes of a connection failed for a malformed close frame.
var (
	errBadClose       = errors.New("ws: close frame with a one-byte body or a code not valid on the wire")
	errBadCloseReason = errors.New("ws: close reason not valid UTF-8")
	errPingTooLong    = errors.New("ws: ping payload over 125 bytes")
)

var _ dialer.Pinger = (*conn)(nil)

// conn is one WebSocket connection: the dialer.Conn that Dial returns.
//
// Reading state (msg, rerr) belongs to the goroutine inside ReadMessage;
// dialer.Conn guarantees one at a time, as gorilla requires. Writing is
// gorilla's: every frame, data or control, is written whole under its
// internal write lock.
type conn struct {
	log hclog.Logger // Dialer.Logger; nil: none

	ws    *websocket.Conn
	tap   *tap           // the socket under ws, which judges the server's close frames
	limit int64          // Options.ReadLimit(), also gorilla's read limit
	send  dialer.Options // only MaxSendSize is set: for CheckSend

	onPong atomic.Pointer[func([]byte)] // SetPongHandler's function, or nil

	msg  *[]byte // pooled buffer of the last message, or nil
	rerr error   // the error that ended reading; every later read returns it

	closed    atomic.Bool // set first thing when the connection starts closing
	closeOnce sync.Once
	closeErr  error // the socket's Close error, for the Close that did it
}

func newConn(wc *websocket.Conn, t *tap, o dialer.Options) *conn {
	c := &conn{ws: wc, tap: t, limit: o.ReadLimit(), send: dialer.Options{MaxSendSize: o.SendLimit()}}
	wc.SetReadLimit(c.limit)
	// The server's close frame is echoed by shutdown, bounded and followed
	// by the socket's close like every close frame, rather than by
	// gorilla's default handler.
	wc.SetCloseHandler(ignoreClose)
	wc.SetPongHandler(c.pong)
	return c
}

func ignoreClose(int, string) error { return nil }

// pong is gorilla's pong handler: it hands the payload to the function of
// SetPongHandler. gorilla calls it from inside NextReader, on the reading
// goroutine.
func (c *conn) pong(payload string) error {
	if f := c.onPong.Load(); f != nil {
		(*f)([]byte(payload))
	}
	return nil
}

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
	if c.log != nil && c.log.IsDebug() {
		c.log.Debug("connection ended", "error", err)
	}
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
		// A close frame: the tap took the server's out of the stream and
		// judged it (gorilla read a stand-in); echo its code (none for
		// 1005) and hang up, or fail the connection if it was malformed.
		code, reason, fail := ce.Code, ce.Text, 0
		if v := c.tap.taken(); v != nil {
			code, reason, fail = v.code, v.reason, v.fail
		}
		switch fail {
		case dialer.CloseProtocolError:
			c.shutdown(fail, "protocol error", true)
			return &dialer.CloseError{Code: fail, Reason: "protocol error", Err: errBadClose}
		case dialer.CloseInvalidPayload:
			c.shutdown(fail, "invalid close reason", true)
			return &dialer.CloseError{Code: fail, Reason: "invalid close reason", Err: errBadCloseReason}
		}
		c.shutdown(code, "", true)
		return &dialer.CloseError{Code: code, Reason: reason}
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
// it is valid UTF-8 and binary otherwise, in one frame and one write:
// gorilla copies p into a pooled write buffer that holds
// Options.MaxSendSize and its frame header, and masks it there, with a
// fresh key per frame; p is only read. A larger message is refused before
// anything is written, with an error wrapping dialer.ErrSendTooLarge.
//
// It must not run concurrently with itself or with Ping; it may run
// concurrently with ReadMessage (whose pongs wait for gorilla's write lock,
// which a frame holds from its first byte to its last) and Close.
func (c *conn) WriteMessage(p []byte) error {
	if err := c.send.CheckSend(p); err != nil {
		return err
	}
	if c.closed.Load() {
		return errClosed
	}
	mt := websocket.BinaryMessage
	if dialer.IsText(p) {
		mt = websocket.TextMessage
	}
	return c.writeError(c.ws.WriteMessage(mt, p))
}

// Ping implements dialer.Pinger: one Ping frame carrying p (at most 125
// bytes), written whole under gorilla's write lock, in one write; gorilla
// masks a copy, so p is only read.
func (c *conn) Ping(p []byte) error {
	if len(p) > 125 {
		return errPingTooLong
	}
	if c.closed.Load() {
		return errClosed
	}
	return c.writeError(c.ws.WriteControl(websocket.PingMessage, p, time.Time{}))
}

// SetPongHandler implements dialer.Pinger: f is called with the payload of
// each Pong frame from inside ReadMessage, on the reading goroutine. Nil
// skips pongs. It may be called at any time.
func (c *conn) SetPongHandler(f func(payload []byte)) {
	if f == nil {
		c.onPong.Store(nil)
		return
	}
	c.onPong.Store(&f)
}

// writeError returns the error of a write in the terms of the package.
func (c *conn) writeError(err error) error {
	switch {
	case err == nil:
		return nil
	case c.closed.Load(), errors.Is(err, websocket.ErrCloseSent):
		// The connection is closing: a close frame went out first.
		return fmt.Errorf("%w (%w)", errClosed, err)
	}
	return fmt.Errorf("ws: %w", err)
}
