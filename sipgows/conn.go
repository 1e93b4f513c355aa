package sipgows

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	gws "github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
)

// handshakeTimeout bounds the WebSocket handshake sipgo's dialer runs over
// a pipe. It is all in memory and takes microseconds; the bound only stops
// a dialer that never finishes from keeping a pipe.
const handshakeTimeout = 10 * time.Second

// dialerCreate is sip.TransportWS.DialerCreate: every WS connection sipgo
// opens is a pipe to this bridge, whatever address it dials.
func (b *Bridge) dialerCreate(net.Addr) gws.Dialer {
	return gws.Dialer{
		NetDial:   b.netDial,
		Protocols: []string{dialer.Subprotocol},
		Timeout:   handshakeTimeout,
	}
}

// netDial opens a pipe. addr is what sipgo dialed (Destination, or the
// address of a Route or Contact); it becomes the pipe's RemoteAddr, which
// sipgo uses as the key of its connection pool and as the source of what it
// reads.
func (b *Bridge) netDial(_ context.Context, _, addr string) (net.Conn, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	b.nextID++
	c := &conn{
		b:     b,
		id:    b.nextID,
		raddr: remoteAddr(addr),
		done:  make(chan struct{}),
		own:   make(chan *frame, 4),
		rdl:   newDeadline(),
		wdl:   newDeadline(),
		need:  2,
	}
	b.conns = append(b.conns, c)
	b.stats.pipesOpened.Add(1)
	b.log.Debug("pipe opened", "pipe", c.id, "remote", addr)
	return c, nil
}

// remoteAddr returns addr as a *net.TCPAddr when it is IP:port, as sipgo's
// own connections have, so that its String is the key sipgo filed the
// connection under.
func remoteAddr(addr string) net.Addr {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return net.TCPAddrFromAddrPort(ap)
	}
	return addrString{addr}
}

// conn is sipgo's end of a pipe: a net.Conn in memory. The bridge's end is
// not a second net.Conn but the methods of this one. Write feeds what sipgo
// writes (its handshake request, then masked frames) to the bridge's
// WebSocket server side, which relays each whole message with
// Transport.Send on sipgo's own goroutine and returns Send's error, so a
// message the transport could not send fails sipgo's write, as a socket
// error would. Read hands sipgo the next frame of the bridge's queue (for
// the primary pipe) or of the pipe's own small queue (the handshake
// response, pongs). No goroutine is started for a pipe.
type conn struct {
	b     *Bridge
	id    uint64
	raddr net.Addr

	done        chan struct{} // closed by shutdown
	once        sync.Once
	closedLocal atomic.Bool // sipgo called Close
	own         chan *frame // frames for this pipe only
	ready       atomic.Bool // sipgo has read the handshake response

	rmu  sync.Mutex // one reader at a time
	cur  *frame     // the frame being read, nil between frames
	rest []byte     // what is left of it
	rdl  *deadline

	wmu   sync.Mutex // one writer at a time; guards everything below
	wdl   *deadline
	wtime atomic.Int64 // write deadline, Unix ns; 0 = none
	open  bool         // the handshake request has been answered
	hs    []byte       // the handshake request so far

	// The frame being decoded.
	hdr    [maxClientHeader]byte
	hn     int // header bytes received
	need   int // header bytes needed: 2, then all of it
	op     byte
	fin    bool
	masked bool
	mask   [4]byte
	remain int64 // payload bytes still to come
	pos    int   // payload bytes received, for the mask offset
	ctl    []byte
	msgOp  byte   // opcode of the message being assembled, 0 if none
	msg    []byte // the message being assembled
	skip   bool   // the message is too large: its bytes are discarded
	size   int    // its size so far
}

// Read implements net.Conn.
func (c *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if len(c.rest) == 0 {
		f, err := c.next()
		if err != nil {
			return 0, err
		}
		c.cur, c.rest = f, f.bytes()
	}
	n := copy(p, c.rest)
	c.rest = c.rest[n:]
	if len(c.rest) == 0 {
		c.finish()
	}
	return n, nil
}

// next waits for the next frame for this pipe. The primary pipe also takes
// from the bridge's queue; when the primary changes, a waiting reader looks
// again.
func (c *conn) next() (*frame, error) {
	for {
		changed := c.b.changed.Load()
		var queue chan *frame
		if c.b.primary.Load() == c {
			queue = c.b.queue
		}
		select {
		case <-c.done:
			return nil, c.readErr()
		default:
		}
		select {
		case f := <-c.own:
			return f, nil
		case f := <-queue:
			return f, nil
		case <-c.done:
			return nil, c.readErr()
		case <-c.rdl.wait():
			return nil, os.ErrDeadlineExceeded
		case <-*changed:
		}
	}
}

// finish ends the frame just read.
func (c *conn) finish() {
	f := c.cur
	c.cur, c.rest = nil, nil
	switch f.kind {
	case kindHandshake:
		// sipgo's dialer has read the whole response and returns: from now
		// on what this pipe carries is sipgo's to read, not the dialer's
		// buffered reader's, which sipgo drops.
		c.ready.Store(true)
		c.b.setPrimary()
	case kindMessage:
		c.b.stats.in.Add(1)
	}
	c.b.putFrame(f)
}

func (c *conn) readErr() error {
	if c.closedLocal.Load() {
		return fmt.Errorf("sipgows: read on closed pipe: %w", net.ErrClosed)
	}
	return io.EOF
}

// Write implements net.Conn: see conn. It returns Send's error for the
// message its bytes complete.
func (c *conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	select {
	case <-c.done:
		return 0, fmt.Errorf("sipgows: write on closed pipe: %w", net.ErrClosed)
	default:
	}
	if c.wdl.passed() {
		return 0, os.ErrDeadlineExceeded
	}
	n := 0
	if !c.open {
		k, err := c.handshake(p)
		n += k
		if err != nil || !c.open {
			return n, err
		}
		p = p[k:]
	}
	for len(p) > 0 {
		k, msg, err := c.decode(p)
		n += k
		p = p[k:]
		if err != nil {
			return n, err
		}
		if msg != nil {
			err := c.relay(msg)
			c.msg = c.msg[:0]
			if cap(c.msg) > keepCap {
				c.msg = nil
			}
			if err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// relay sends one whole message from sipgo through the transport. A CRLF
// keepalive is not relayed (the transport runs its own): a ping is answered
// on the pipe.
func (c *conn) relay(msg []byte) error {
	if len(msg) == 0 {
		return nil
	}
	if crlfOnly(msg) {
		if len(msg) == 4 {
			select {
			case c.own <- c.b.newFrame(opText, msg[:2], kindControl):
			default:
			}
		}
		return nil
	}
	ctx := context.Background()
	if t := c.wtime.Load(); t != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, time.Unix(0, t))
		defer cancel()
	}
	if err := c.b.tr.Send(ctx, msg); err != nil {
		c.b.stats.sendErrors.Add(1)
		if c.b.log.IsDebug() {
			c.b.log.Debug("message from sipgo not sent", "pipe", c.id, "bytes", len(msg), "error", err)
		}
		return fmt.Errorf("sipgows: %w", err)
	}
	c.b.stats.out.Add(1)
	return nil
}

// crlfOnly reports whether p is made only of CR and LF: keepalive traffic.
func crlfOnly(p []byte) bool {
	for _, b := range p {
		if b != '\r' && b != '\n' {
			return false
		}
	}
	return len(p) > 0
}

// Close implements net.Conn. sipgo calls it when it drops the connection.
func (c *conn) Close() error {
	c.closedLocal.Store(true)
	c.shutdown()
	return nil
}

// shutdown ends the pipe: pending and later reads and writes fail, and the
// bridge forgets it (another pipe becomes primary).
func (c *conn) shutdown() {
	c.once.Do(func() {
		close(c.done)
		c.rdl.stop()
		c.wdl.stop()
		b := c.b
		b.mu.Lock()
		for i, o := range b.conns {
			if o == c {
				b.conns = append(b.conns[:i], b.conns[i+1:]...)
				break
			}
		}
		b.mu.Unlock()
		b.setPrimary()
		b.log.Debug("pipe closed", "pipe", c.id, "by_sipgo", c.closedLocal.Load())
	})
}

// LocalAddr implements net.Conn: the Via sent-by, host with port 0.
func (c *conn) LocalAddr() net.Addr { return c.b.laddr }

// RemoteAddr implements net.Conn: the address sipgo dialed.
func (c *conn) RemoteAddr() net.Addr { return c.raddr }

// SetDeadline implements net.Conn.
func (c *conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline implements net.Conn.
func (c *conn) SetReadDeadline(t time.Time) error {
	c.rdl.set(t)
	return nil
}

// SetWriteDeadline implements net.Conn. A write that is relaying a message
// when the deadline moves keeps the deadline it started with.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.wdl.set(t)
	if t.IsZero() {
		c.wtime.Store(0)
	} else {
		c.wtime.Store(t.UnixNano())
	}
	return nil
}

// setPrimary makes the oldest open pipe whose handshake is over the one
// inbound traffic goes to, and wakes the readers when that changes. One
// primary keeps inbound messages in order: sipgo parses them on the reading
// goroutine of the pipe they arrive on.
func (b *Bridge) setPrimary() {
	b.mu.Lock()
	defer b.mu.Unlock()
	var p *conn
	if !b.closed {
		for _, c := range b.conns {
			if c.ready.Load() {
				p = c
				break
			}
		}
	}
	if b.primary.Load() == p {
		return
	}
	b.primary.Store(p)
	ch := make(chan struct{})
	old := b.changed.Swap(&ch)
	close(*old)
	if p != nil {
		b.log.Debug("primary pipe", "pipe", p.id, "remote", p.raddr.String())
	}
}

var _ net.Conn = (*conn)(nil)
