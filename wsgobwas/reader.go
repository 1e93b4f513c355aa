package wsgobwas

import (
	"bufio"
	"io"
	"net"
	"os"
	"syscall"
)

// reader is a connection's read buffer, held only while bytes are in it.
//
// An idle connection spends its life waiting for the next frame. A buffer
// held through that wait is most of an idle connection's memory (4 KiB of
// about 10), so at every message boundary with nothing left unread the
// buffer goes back to the pool, and the wait happens without one:
//   - on a plain socket (one with syscall.RawConn), the runtime's poller
//     waits for readability and the buffer is taken from the pool only
//     when a read can return bytes; the system calls are those of any
//     blocking read (one that finds nothing, one that reads), so a busy
//     connection pays a pool Get and Put per message and nothing else;
//   - over TLS, which keeps buffers of its own, the wait reads one byte
//     into the reader's own array, then the rest of the record from TLS's
//     buffer into a pooled one.
//
// A reader belongs to the goroutine in ReadMessage, as the rest of the
// reading state does.
type reader struct {
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

func newReader(nc net.Conn, size int) *reader {
	b := &reader{nc: nc, size: size}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			b.rc = rc
			b.waitFn = b.readFd
		}
	}
	return b
}

// adopt takes the bytes a bufio.Reader holds (those that came in with the
// handshake's answer) and gives the bufio.Reader back to gobwas's pool.
func (b *reader) adopt(br *bufio.Reader, put func(*bufio.Reader)) {
	if n := br.Buffered(); n > 0 {
		b.hold()
		p, _ := br.Peek(min(n, b.size))
		b.w = copy(*b.buf, p)
		br.Discard(b.w)
		// A 101 answer followed by more than a buffer of frames: the
		// rest stays unread in br, which is then kept as the source.
		if br.Buffered() > 0 {
			b.nc = &prefixed{br: br, Conn: b.nc}
			b.rc = nil
			return
		}
	}
	put(br)
}

// Size is the buffer's size: the largest Peek.
func (b *reader) Size() int { return b.size }

// Buffered is the number of bytes read and not yet consumed.
func (b *reader) Buffered() int { return b.w - b.r }

// Idle gives the buffer back to the pool when it holds nothing unread. The
// slices Peek returned are invalid afterwards.
func (b *reader) Idle() {
	if b.buf != nil && b.r == b.w {
		putBuf(b.buf)
		b.buf, b.r, b.w = nil, 0, 0
	}
}

// release gives the buffer back whatever it holds: the connection is done.
func (b *reader) release() {
	if b.buf != nil {
		putBuf(b.buf)
		b.buf, b.r, b.w = nil, 0, 0
	}
}

// hold takes a buffer from the pool.
func (b *reader) hold() {
	b.buf = getBuf(b.size)
	*b.buf = (*b.buf)[:b.size]
	b.r, b.w = 0, 0
}

// Peek returns the next n bytes without consuming them, n at most Size.
// The slice is valid until the next call that reads, and Idle.
func (b *reader) Peek(n int) ([]byte, error) {
	for b.w-b.r < n {
		if err := b.fill(); err != nil {
			return nil, err
		}
	}
	return (*b.buf)[b.r : b.r+n], nil
}

// Discard consumes n bytes, at most Buffered.
func (b *reader) Discard(n int) { b.r += n }

// Read implements io.Reader: what is buffered first, then straight from
// the connection for a large p, or through the buffer.
func (b *reader) Read(p []byte) (int, error) {
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
func (b *reader) fill() error {
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
func (b *reader) wait() error {
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
		return err // the deadline Close sets, or the socket closed
	}
	if b.err != nil {
		return b.err
	}
	if b.n == 0 {
		return io.EOF
	}
	return nil
}

// readFd runs in the poller's RawConn.Read: it reads into a pooled buffer
// when bytes are there, and gives the buffer back and waits when not.
func (b *reader) readFd(fd uintptr) bool {
	b.hold()
	for {
		n, err := syscall.Read(int(fd), *b.buf)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			b.release()
			return false // wait for readability, then again
		case err != nil:
			b.release()
			b.err = os.NewSyscallError("read", err)
		case n == 0:
			b.release() // the end of the stream
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
