package wsgobwas

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"github.com/gobwas/ws"
	"github.com/hashicorp/go-hclog"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/idleread"
)

// minGrow is the first step of the reassembly buffer; it then at most
// doubles, so it never grows ahead of the bytes that actually arrived by
// more than that (a peer's declared length is only checked, never trusted).
const minGrow = 4 << 10

var _ dialer.Pinger = (*conn)(nil)

// errClosed is the error of a read or write on a connection that Close (or
// the end of the stream) has closed.
var errClosed = fmt.Errorf("wsgobwas: use of closed connection: %w", net.ErrClosed)

// conn is one WebSocket connection: the dialer.Conn that Dial returns.
//
// Reading state (rd, rhdr, msg, rerr) belongs to the goroutine inside
// ReadMessage; dialer.Conn guarantees one at a time. Writing state (werr,
// whdr, frame) belongs to the holder of the write semaphore wsem, which
// every frame write (message, pong or close) holds from its first byte to
// its last, so frames never interleave.
//
// wsem is a one-slot channel rather than a sync.Mutex so that a writer
// waiting for it can give up: WriteMessage and pongs when the connection
// starts closing (done), the close frame when dialer.CloseTimeout has passed. A
// goroutine waiting on a channel is also durably blocked for
// testing/synctest, where a mutex waiter would stop virtual time. Sending
// and receiving on it allocates nothing.
type conn struct {
	log hclog.Logger // Dialer.Logger; nil: none

	nc        net.Conn
	limit     int64 // Options.ReadLimit()
	sendLimit int   // Options.SendLimit()

	onPong atomic.Pointer[func([]byte)] // SetPongHandler's function, or nil

	rd   *idleread.Reader       // the read buffer, held only while bytes are in it
	rhdr [ws.MaxHeaderSize]byte // scratch for ws.ReadHeaderBuffer; on the heap with the conn
	msg  *[]byte                // pooled reassembly buffer of the last message, or nil
	rerr error                  // the error that ended reading; every later read returns it

	wsem  chan struct{}          // the write semaphore: its one slot is the right to write a frame
	werr  error                  // a failed write left a partial frame: no frame may follow
	whdr  [ws.MaxHeaderSize]byte // scratch for ws.WriteHeaderBuffer
	frame frameBuffer            // the frame being built; nil between writes

	closing  atomic.Bool   // set first thing when the connection starts closing
	done     chan struct{} // closed right after closing is set: stops waiting writers
	closed   chan struct{} // closed once the socket is closed
	closeErr error         // the socket's Close error; set before closed is closed
}

func newConn(nc net.Conn, rd *idleread.Reader, o dialer.Options) *conn {
	return &conn{
		nc: nc, rd: rd, limit: o.ReadLimit(),
		sendLimit: o.SendLimit(),
		wsem:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		closed:    make(chan struct{}),
	}
}

// ReadMessage implements dialer.Conn. The message is a view into the read
// buffer when it came in one frame that fits there, and into a pooled
// reassembly buffer otherwise; either way it is valid until the next call.
// Every error it returns is a *dialer.CloseError, and once it has returned
// one it returns the same one again.
//
// It must not run concurrently with itself; it may run concurrently with
// WriteMessage and Close. Close makes a pending call return at once.
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
	// So does the read buffer, when nothing is left in it (idleread).
	c.rd.Idle()
	if c.closing.Load() {
		return nil, c.endRead(dialer.Abnormal(errClosed))
	}
	p, err := c.readMessage()
	if err != nil {
		return nil, c.endRead(err)
	}
	return p, nil
}

// readMessage reads frames until a whole data message has arrived. Control
// frames are handled on the way. Every error is a *dialer.CloseError and
// the connection is closed when it returns one.
func (c *conn) readMessage() ([]byte, error) {
	fragmented := false
	for {
		h, err := c.readHeader()
		if err != nil {
			return nil, c.readFailed(err)
		}
		s := ws.StateClientSide
		if fragmented {
			s |= ws.StateFragmented
		}
		if err := ws.CheckHeader(h, s); err != nil {
			return nil, c.fail(dialer.CloseProtocolError, "protocol error", err)
		}
		if h.OpCode.IsControl() {
			if err := c.control(h); err != nil {
				return nil, err
			}
			continue
		}

		// The limit is enforced on the declared length, before a single
		// payload byte is read, and on the running total of fragments.
		var have int64
		if c.msg != nil {
			have = int64(len(*c.msg))
		}
		if h.Length > c.limit-have {
			return nil, c.tooLarge(have, h.Length)
		}
		if h.Fin && !fragmented && h.Length <= int64(c.rd.Size()) {
			// The common case: a whole message in one frame that fits
			// in the read buffer is returned in place, without a copy.
			p, err := c.rd.Peek(int(h.Length))
			if err != nil {
				return nil, c.readFailed(noEOF(err))
			}
			c.rd.Discard(len(p))
			return p, nil
		}
		if err := c.appendPayload(h.Length); err != nil {
			return nil, c.readFailed(noEOF(err))
		}
		if h.Fin {
			if c.msg == nil {
				return []byte{}, nil // empty fragments only; does not allocate
			}
			return *c.msg, nil
		}
		fragmented = true
	}
}

// readHeader reads one frame header with ws.ReadHeaderBuffer into the
// conn's scratch array, which costs no allocation.
func (c *conn) readHeader() (ws.Header, error) {
	// A clean end of stream falls between frames. ReadHeaderBuffer
	// reports an end right after the first two header bytes as io.EOF
	// too, so the first byte is awaited here, where io.EOF is unambiguous.
	if _, err := c.rd.Peek(1); err != nil {
		return ws.Header{}, err
	}
	h, err := ws.ReadHeaderBuffer(c.rd, c.rhdr[:])
	switch {
	case err == nil:
		return h, nil
	case errors.Is(err, ws.ErrHeaderLengthMSB), errors.Is(err, ws.ErrHeaderLengthUnexpected):
		return h, protocolError{err}
	default:
		return h, noEOF(err)
	}
}

// appendPayload reads n payload bytes onto the reassembly buffer, growing
// it from the pool as the bytes arrive.
func (c *conn) appendPayload(n int64) error {
	for n > 0 {
		var b []byte
		if c.msg != nil {
			b = *c.msg
		}
		if len(b) == cap(b) {
			step := int(min(n, int64(max(len(b), minGrow))))
			nb := getBuf(len(b) + step)
			*nb = (*nb)[:copy(*nb, b)]
			if c.msg != nil {
				putBuf(c.msg)
			}
			c.msg = nb
			b = *nb
		}
		m := int(min(n, int64(cap(b)-len(b))))
		k, err := io.ReadFull(c.rd, b[len(b):len(b)+m])
		*c.msg = b[:len(b)+k]
		n -= int64(k)
		if err != nil {
			return err
		}
	}
	return nil
}

// control handles one control frame whose header passed ws.CheckHeader, so
// its payload is at most 125 bytes and fits in the read buffer.
func (c *conn) control(h ws.Header) error {
	p, err := c.rd.Peek(int(h.Length))
	if err != nil {
		return c.readFailed(noEOF(err))
	}
	switch h.OpCode {
	case ws.OpPing:
		// The pong waits for a write in progress, then goes out whole.
		err = c.write(ws.OpPong, p)
		c.rd.Discard(len(p))
		if err != nil {
			return c.writeFailed(err)
		}
	case ws.OpPong:
		if f := c.onPong.Load(); f != nil {
			(*f)(p)
		}
		c.rd.Discard(len(p))
	case ws.OpClose:
		return c.closeReceived(p)
	}
	return nil
}

// endRead makes err the answer of every later read, and gives the read
// buffer back: no message handed out is valid any more.
func (c *conn) endRead(err error) error {
	if c.log != nil && c.log.IsDebug() {
		c.log.Debug("connection ended", "error", err)
	}
	c.rerr = err
	if c.msg != nil {
		putBuf(c.msg)
		c.msg = nil
	}
	c.rd.Release()
	return err
}

// readFailed turns a read error into the connection's end: 1002 for a
// malformed header, else 1006 without a close frame, since the stream is
// gone or broken mid-frame.
func (c *conn) readFailed(err error) error {
	if pe, ok := err.(protocolError); ok {
		return c.fail(dialer.CloseProtocolError, "protocol error", pe.err)
	}
	if c.closing.Load() {
		return dialer.Abnormal(errClosed) // whatever the read saw, Close caused it
	}
	c.shutdown(0, "", false)
	return dialer.Abnormal(err)
}

// writeFailed turns the failure of a pong into the connection's end.
func (c *conn) writeFailed(err error) error {
	if c.closing.Load() {
		return dialer.Abnormal(errClosed)
	}
	c.shutdown(0, "", false)
	return dialer.Abnormal(err)
}

// fail closes the connection with code and reason, for a peer that broke
// the protocol, and returns the matching error.
func (c *conn) fail(code int, reason string, cause error) error {
	c.shutdown(code, reason, true)
	return &dialer.CloseError{Code: code, Reason: reason, Err: cause}
}

// tooLarge closes with 1009 for a message of have bytes so far plus a frame
// of n more.
func (c *conn) tooLarge(have, n int64) error {
	size := have + n
	if size < 0 {
		size = -1 // overflow: unknown, and larger than any limit
	}
	err := dialer.TooLarge(size, c.limit)
	c.shutdown(err.Code, err.Reason, true)
	return err
}

// WriteMessage implements dialer.Conn: p goes out as one final frame, text
// when it is valid UTF-8 and binary otherwise, in one Write; p is only read.
// A message above Options.MaxSendSize is refused before anything is
// written, with an error wrapping dialer.ErrSendTooLarge.
//
// It must not run concurrently with itself or with Ping; it may run
// concurrently with ReadMessage (whose pongs wait for the frame in
// progress) and Close. A write that has not started when Close is called
// fails at once with an error wrapping net.ErrClosed; one in progress gets
// what is left of Close's one second to finish. Once a write has failed,
// part of its frame may be on the wire, so every later write fails too.
func (c *conn) WriteMessage(p []byte) error {
	if err := (dialer.Options{MaxSendSize: c.sendLimit}).CheckSend(p); err != nil {
		return err
	}
	op := ws.OpBinary
	if dialer.IsText(p) {
		op = ws.OpText
	}
	return c.write(op, p)
}

// errPingTooLong refuses a ping payload that no control frame can carry.
var errPingTooLong = fmt.Errorf("wsgobwas: ping payload over %d bytes", ws.MaxControlFramePayloadSize)

// Ping implements dialer.Pinger: it writes one masked Ping frame carrying p,
// at most 125 bytes, in one Write, serialised with the messages and pongs
// as every frame is; p is only read. It allocates nothing. Like
// WriteMessage, it must not run concurrently with itself or with
// WriteMessage.
func (c *conn) Ping(p []byte) error {
	if len(p) > ws.MaxControlFramePayloadSize {
		return errPingTooLong
	}
	return c.write(ws.OpPing, p)
}

// SetPongHandler implements dialer.Pinger: f is called with the payload of
// each Pong frame from inside ReadMessage, on the reading goroutine; the
// payload is a view into the read buffer, valid only during the call. Nil
// skips pongs. It may be called at any time.
func (c *conn) SetPongHandler(f func(payload []byte)) {
	if f == nil {
		c.onPong.Store(nil)
		return
	}
	c.onPong.Store(&f)
}

// write writes one frame of a caller of WriteMessage or Ping.
func (c *conn) write(op ws.OpCode, p []byte) error {
	if !c.lockWrite() {
		return errClosed
	}
	defer c.unlockWrite()
	if c.werr != nil {
		return c.werr
	}
	err := c.writeFrame(op, p)
	if err != nil && c.closing.Load() {
		return fmt.Errorf("%w (%w)", errClosed, err)
	}
	return err
}

// lockWrite takes the write semaphore. It reports false, holding nothing,
// when the connection starts closing first.
func (c *conn) lockWrite() bool {
	select {
	case c.wsem <- struct{}{}: // uncontended: no select machinery
	default:
		select {
		case c.wsem <- struct{}{}:
		case <-c.done:
			return false
		}
	}
	if c.closing.Load() {
		<-c.wsem
		return false
	}
	return true
}

func (c *conn) unlockWrite() { <-c.wsem }

// writeFrame writes p as one final masked frame, in one Write. The caller
// holds wsem.
//
// The frame is built in a pooled buffer of its own size, ws.WriteHeaderBuffer's
// header and the masked payload together, so it costs one Write (never a
// fragment, nor a frame in pieces that a pong could come between) and p is
// only read. The masking key comes from crypto/rand for every frame, as
// RFC 6455 §5.3 asks ("derived from a strong source of entropy"): about 80
// ns on Linux (vDSO getrandom), little next to the write system call, and
// no generator state to keep per idle connection.
func (c *conn) writeFrame(op ws.OpCode, p []byte) error {
	h := ws.Header{Fin: true, OpCode: op, Masked: true, Length: int64(len(p))}
	rand.Read(h.Mask[:])
	bp := getBuf(ws.HeaderSize(h) + len(p))
	c.frame = (*bp)[:0]
	err := ws.WriteHeaderBuffer(&c.frame, h, c.whdr[:])
	hn := len(c.frame)
	c.frame = nil // the conn keeps no pooled buffer between writes
	if err != nil {
		putBuf(bp)
		return fmt.Errorf("wsgobwas: frame header: %w", err) // nothing was written
	}
	b := (*bp)[:hn+len(p)]
	copy(b[hn:], p)
	ws.Cipher(b[hn:], h.Mask, 0)
	_, err = c.nc.Write(b)
	putBuf(bp)
	if err != nil {
		c.werr = fmt.Errorf("wsgobwas: connection unusable after a failed write: %w", err)
	}
	return err
}

// frameBuffer is the io.Writer that ws.WriteHeaderBuffer encodes a header
// into: it appends to the pooled frame buffer, whose capacity always holds
// the header, so the header and the payload leave in a single Write.
type frameBuffer []byte

func (f *frameBuffer) Write(p []byte) (int, error) {
	*f = append(*f, p...)
	return len(p), nil
}

// protocolError marks a malformed header found while reading, so that
// readFailed answers it with 1002 rather than as a broken stream.
type protocolError struct{ err error }

func (e protocolError) Error() string { return e.err.Error() }
func (e protocolError) Unwrap() error { return e.err }

// noEOF reports an end of stream in the middle of a frame as such.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
