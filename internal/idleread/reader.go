// Package idleread is a connection's read buffer, held only while bytes
// are in it, for the backends' idle memory: a connection that waits for its
// next message holds no buffer. wsgobwas reads frames through a Reader; ws
// puts a Conn under gorilla, whose own buffer is then kept small.
//
// An idle connection spends its life waiting for the next frame. A buffer
// held through that wait is most of an idle connection's memory (4 KiB of
// about 10), so whenever nothing is left unread the buffer goes back to a
// pool, and the wait happens without one:
//   - on a plain socket (one with a syscall.RawConn), the runtime's poller
//     waits for readability and the buffer is taken from the pool only when
//     a read can return bytes; the system calls are those of any blocking
//     read (one that finds nothing, one that reads), so a busy connection
//     pays a pool Get and Put per message and nothing else;
//   - over anything else (TLS, which keeps buffers of its own; a pipe), the
//     wait reads one byte into the reader's own array, then the rest into a
//     pooled buffer.
//
// Neither allocates once the pool is warm. Deadlines and Close work as on
// the connection itself: a past read deadline or a closed socket ends a
// wait at once.
package idleread

import (
	"bufio"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/sipws/sipws/internal/bufpool"
)

// bufs pools the read buffers, from 256 B up.
var bufs = bufpool.New(256)

// A Reader is a buffered reader over a connection whose buffer is pooled
// while it holds nothing unread (see the package doc). It belongs to one
// goroutine at a time, the connection's reader.
type Reader struct {
	nc   net.Conn
	rc   syscall.RawConn // nil when nc is not a plain socket
	size int             // the buffer's size while held

	buf  *[]byte // pooled, len == size; nil while idle
	r, w int     // buf[r:w] is unread

	// The poller calls waitFn, a method value made once, so that waiting
	// allocates nothing; it leaves its outcome in n and err.
	waitFn func(fd uintptr) bool
	n      int
	err    error
	one    [1]byte
}

// NewReader returns a Reader over nc with buffers of size bytes. It holds
// no buffer until the first read.
func NewReader(nc net.Conn, size int) *Reader {
	b := &Reader{nc: nc, size: size}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			b.rc = rc
			b.waitFn = b.readFd
		}
	}
	return b
}

// Adopt takes the bytes br holds (those that came in with a handshake's
// answer) and hands br to put, unless br holds more than one buffer: it
// then stays, ahead of the connection, as the source of those bytes.
func (b *Reader) Adopt(br *bufio.Reader, put func(*bufio.Reader)) {
	if n := br.Buffered(); n > 0 {
		b.hold()
		p, _ := br.Peek(min(n, b.size))
		b.w = copy(*b.buf, p)
		br.Discard(b.w)
		if br.Buffered() > 0 {
			b.nc = &prefixed{br: br, Conn: b.nc}
			b.rc = nil
			return
		}
	}
	put(br)
}

// Size is the buffer's size: the largest Peek.
func (b *Reader) Size() int { return b.size }

// Buffered is the number of bytes read and not yet consumed.
func (b *Reader) Buffered() int { return b.w - b.r }

// Holding reports whether the Reader holds a buffer now.
func (b *Reader) Holding() bool { return b.buf != nil }

// Polled reports whether the Reader waits in the runtime's poller, without
// a buffer and without a read of one byte: nc is a plain socket.
func (b *Reader) Polled() bool { return b.rc != nil }

// Idle gives the buffer back to the pool when it holds nothing unread.
// The slices Peek returned are invalid afterwards.
func (b *Reader) Idle() {
	if b.buf != nil && b.r == b.w {
		b.Release()
	}
}

// Release gives the buffer back whatever it holds: the connection is done.
func (b *Reader) Release() {
	if b.buf != nil {
		bufs.Put(b.buf)
		b.buf, b.r, b.w = nil, 0, 0
	}
}

// hold takes a buffer from the pool.
func (b *Reader) hold() {
	b.buf = bufs.Get(b.size)
	*b.buf = (*b.buf)[:b.size]
	b.r, b.w = 0, 0
}

// Peek returns the next n bytes without consuming them, n at most Size.
// The slice is valid until the next call that reads, and Idle.
func (b *Reader) Peek(n int) ([]byte, error) {
	for b.w-b.r < n {
		if err := b.fill(); err != nil {
			return nil, err
		}
	}
	return (*b.buf)[b.r : b.r+n], nil
}

// Discard consumes n bytes, at most Buffered.
func (b *Reader) Discard(n int) { b.r += n }

// Read implements io.Reader: what is buffered first; then, for a p of at
// least Size, straight from the connection; else through the buffer.
func (b *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.r == b.w {
		if b.buf != nil && len(p) >= b.size {
			return b.nc.Read(p) // a large payload: no copy through the buffer
		}
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, (*b.buf)[b.r:b.w])
	b.r += n
	return n, nil
}

// fill reads at least one more byte into the buffer, waiting without a
// buffer when it holds none.
func (b *Reader) fill() error {
	if b.buf == nil {
		return b.wait()
	}
	if b.r == b.w {
		b.r, b.w = 0, 0
	} else if b.w == len(*b.buf) {
		b.w = copy(*b.buf, (*b.buf)[b.r:b.w])
		b.r = 0
	}
	for {
		n, err := b.nc.Read((*b.buf)[b.w:])
		b.w += n
		if n > 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// wait waits for readable bytes without holding a buffer, then reads some
// into a pooled one.
func (b *Reader) wait() error {
	if b.rc == nil {
		for {
			n, err := b.nc.Read(b.one[:])
			if n == 1 {
				b.hold()
				(*b.buf)[0] = b.one[0]
				b.w = 1
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	b.n, b.err = 0, nil
	if err := b.rc.Read(b.waitFn); err != nil {
		return err // a deadline (Close sets one), or the socket closed
	}
	if b.err != nil {
		return b.err
	}
	if b.n == 0 {
		return io.EOF
	}
	return nil
}

// readFd runs inside the poller's RawConn.Read: it reads into a pooled
// buffer when bytes are there, and gives the buffer back and waits when
// not.
func (b *Reader) readFd(fd uintptr) bool {
	b.hold()
	for {
		n, err := syscall.Read(int(fd), *b.buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			b.Release()
			return false // wait for readability, then again
		case err != nil:
			b.Release()
			b.err = os.NewSyscallError("read", err)
		case n == 0:
			b.Release() // the end of the stream
		default:
			b.w = n
		}
		b.n = max(n, 0)
		return true
	}
}

// prefixed is a connection whose first bytes are still in a bufio.Reader.
type prefixed struct {
	net.Conn
	br *bufio.Reader
}

func (p *prefixed) Read(b []byte) (int, error) {
	if p.br.Buffered() > 0 {
		return p.br.Read(b)
	}
	return p.Conn.Read(b)
}

// Conn is a net.Conn whose reads go through a Reader that gives its buffer
// back whenever it is drained, so that whatever reads from it (gorilla's
// own buffered reader) can keep a small buffer of its own and waits without
// either. Writes, deadlines and Close go to the connection.
type Conn struct {
	net.Conn
	r *Reader
}

// NewConn returns nc with reads through a Reader of size bytes.
func NewConn(nc net.Conn, size int) *Conn { return &Conn{Conn: nc, r: NewReader(nc, size)} }

// Read implements net.Conn. It must not be called concurrently with
// itself.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.r.Idle()
	return n, err
}

// Holding reports whether the Conn holds a read buffer now.
func (c *Conn) Holding() bool { return c.r.Holding() }
