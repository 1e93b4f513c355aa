package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// In-memory mode: each transport dials a memConn instead of TCP (both
// backends take a NetDial), and the server is inline: the bytes a client
// writes are handed, in that Write, to the connection's server state, which
// upgrades with the sip subprotocol and answers CRLF CRLF with CRLF, pings
// with pongs and close with close, by appending to the bytes the client
// reads next. This is not net.Pipe, on purpose:
//   - net.Pipe needs a server goroutine per connection reading the other
//     end: another 100,000 goroutines and their stacks in the very process
//     whose memory is measured, more than the transports themselves;
//   - net.Pipe's writes are synchronous: each keepalive write would wait
//     for that server goroutine to be scheduled and read it, and each pong
//     for the client's reader, adding two goroutine hand-offs per round trip
//     that a socket does not have, and so distorting the CPU figure.
// The inline server holds about 100 bytes per connection and no goroutine;
// the fleet run measures it (pipe-B/tr) so it can be told apart.

// memAddr is the address of both ends of every memConn.
type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

// memConn is the client end: a net.Conn whose reads return what the inline
// server appended, and whose writes go to that server. Writes never block
// (the buffer is unbounded; the server only ever queues a handshake answer
// and small control frames). Deadlines work as on a socket.
type memConn struct {
	mu     sync.Mutex
	in     []byte        // server → client bytes not yet read
	eof    bool          // the server closed (after a close frame)
	closed bool          // Close was called
	ready  chan struct{} // one slot: wakes a blocked Read
	rdl    time.Time
	wdl    time.Time
	timer  *time.Timer // armed while a future read deadline is set
	srv    memServer
}

func newMemConn() *memConn { return &memConn{ready: make(chan struct{}, 1)} }

// memDial is the backends' NetDial in memory mode.
func memDial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return newMemConn(), nil
}

func (c *memConn) wake() {
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

func (c *memConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	for {
		switch {
		case c.closed:
			c.mu.Unlock()
			return 0, net.ErrClosed
		case len(c.in) > 0:
			n := copy(p, c.in)
			c.in = c.in[n:]
			if len(c.in) == 0 {
				if cap(c.in) > 64 {
					c.in = nil // the handshake answer: do not keep its buffer
				} else {
					c.in = c.in[:0:cap(c.in)]
				}
			}
			c.mu.Unlock()
			return n, nil
		case c.eof:
			c.mu.Unlock()
			return 0, io.EOF
		case !c.rdl.IsZero() && !time.Now().Before(c.rdl):
			c.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		c.mu.Unlock()
		<-c.ready
		c.mu.Lock()
	}
}

func (c *memConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return 0, net.ErrClosed
	case c.eof:
		return 0, io.ErrClosedPipe
	case !c.wdl.IsZero() && !time.Now().Before(c.wdl):
		return 0, os.ErrDeadlineExceeded
	}
	before := len(c.in)
	c.srv.feed(c, p)
	if len(c.in) != before || c.eof {
		c.wake()
	}
	return len(p), nil
}

func (c *memConn) Close() error {
	c.mu.Lock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	c.mu.Unlock()
	c.wake()
	return nil
}

func (c *memConn) LocalAddr() net.Addr  { return memAddr{} }
func (c *memConn) RemoteAddr() net.Addr { return memAddr{} }

func (c *memConn) SetDeadline(t time.Time) error {
	c.SetWriteDeadline(t)
	return c.SetReadDeadline(t)
}

func (c *memConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.wdl = t
	c.mu.Unlock()
	return nil
}

func (c *memConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rdl = t
	if c.timer != nil {
		c.timer.Stop() // a late firing only wakes the reader, which checks again
		c.timer = nil
	}
	switch {
	case t.IsZero():
	case !time.Now().Before(t):
		c.wake()
	default:
		c.timer = time.AfterFunc(time.Until(t), c.wake)
	}
	return nil
}

// memServer is the inline server's state for one connection.
type memServer struct {
	req      []byte // the upgrade request so far; nil once upgraded
	upgraded bool
	partial  []byte // an incomplete frame
}

// feed takes what the client wrote; c.mu is held. A client that breaks
// the protocol gets EOF.
func (s *memServer) feed(c *memConn, p []byte) {
	if !s.upgraded {
		s.req = append(s.req, p...)
		end := bytes.Index(s.req, []byte("\r\n\r\n"))
		if end < 0 {
			return
		}
		rest := s.req[end+4:]
		rw := struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(s.req[:end+4]), appender{c}}
		if _, err := sipUpgrader.Upgrade(rw); err != nil {
			c.eof = true
			return
		}
		s.upgraded = true
		p = append([]byte(nil), rest...)
		s.req = nil
		if len(p) == 0 {
			return
		}
	}
	if len(s.partial) > 0 {
		s.partial = append(s.partial, p...)
		p = s.partial
	}
	for len(p) > 0 {
		n := s.frame(c, p)
		if n == 0 {
			break
		}
		p = p[n:]
	}
	if len(p) > 0 {
		s.partial = append(s.partial[:0], p...)
	} else {
		s.partial = nil
	}
}

// frame handles the first frame of p and returns its length, or 0 when p
// holds only part of it.
func (s *memServer) frame(c *memConn, p []byte) int {
	if len(p) < 2 {
		return 0
	}
	op, masked := p[0]&0x0f, p[1]&0x80 != 0
	n, h := int64(p[1]&0x7f), 2
	switch n {
	case 126:
		if len(p) < 4 {
			return 0
		}
		n, h = int64(p[2])<<8|int64(p[3]), 4
	case 127:
		if len(p) < 10 {
			return 0
		}
		n = 0
		for _, b := range p[2:10] {
			n = n<<8 | int64(b)
		}
		h = 10
	}
	var mask [4]byte
	if masked {
		if len(p) < h+4 {
			return 0
		}
		copy(mask[:], p[h:h+4])
		h += 4
	}
	if int64(len(p)-h) < n {
		return 0
	}
	end := h + int(n)
	if n > 125 {
		return end // a SIP message: the inline server only reads it away
	}
	var b [125]byte
	pl := b[:n]
	copy(pl, p[h:end])
	for i := range pl {
		pl[i] ^= mask[i&3]
	}
	switch op {
	case 0x1, 0x2: // text, binary
		if p[0]&0x80 != 0 && string(pl) == "\r\n\r\n" {
			c.in = append(c.in, crlfPong...)
		}
	case 0x9: // ping
		c.in = append(c.in, 0x8a, byte(n))
		c.in = append(c.in, pl...)
	case 0x8: // close: echo, then end
		c.in = append(c.in, 0x88, byte(n))
		c.in = append(c.in, pl...)
		c.eof = true
	}
	return end
}

// appender appends the upgrade answer to what the client reads next.
type appender struct{ c *memConn }

func (a appender) Write(p []byte) (int, error) {
	a.c.in = append(a.c.in, p...)
	return len(p), nil
}
