package sipserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sipws/sipws/dialer"
)

// writeTimeout bounds every write, so a client that stops reading cannot
// block a test (or the read loop answering it) for ever.
const writeTimeout = 5 * time.Second

// closeWait bounds how long a connection waits for the client's close
// frame after sending its own.
const closeWait = time.Second

// errCloseSent is returned by CloseWith when a close frame was already sent.
var errCloseSent = errors.New("sipserver: close frame already sent")

// A Conn is one accepted WebSocket connection. All its methods are safe for
// concurrent use; writes are serialised, each one bounded in time.
type Conn struct {
	s   *Server
	id  int
	raw net.Conn      // the TCP connection: Drop cuts it under TLS
	nc  net.Conn      // raw, or the TLS connection over it
	br  *bufio.Reader // reads nc: the upgrade request, then frames
	req Request

	wmu       sync.Mutex // serialises writes
	closeSent bool       // guarded by wmu

	paused  chan struct{} // non-nil while reading is paused; closed to resume; guarded by s.mu
	cut     chan struct{} // closed when Drop, Reset or DropAll cuts the connection
	cutOnce sync.Once

	done chan struct{} // closed once the connection is gone

	// guarded by s.mu
	frames      []Frame
	received    [][]byte
	pongs       [][]byte
	closeCode   int
	closeReason string
	closeOK     bool
	endReason   string // why the persona ended the connection

	// the persona's state (persona.go)
	rc           *readCounter
	activity     chan struct{} // a frame in or out, for Kamailio's keepalive
	awaitingPong atomic.Bool   // Kamailio pinged and no Pong came yet
}

// ID returns the connection's number: its upgrade attempt's rank, from 1.
func (c *Conn) ID() int { return c.id }

// Request returns the upgrade request that opened the connection.
func (c *Conn) Request() Request {
	return Request{URI: c.req.URI, Header: c.req.Header.Clone()}
}

// Send writes p as one unfragmented message: a text frame when p is valid
// UTF-8, a binary one otherwise (RFC 7118 §5.2).
func (c *Conn) Send(p []byte) error {
	op := OpText
	if !utf8.Valid(p) {
		op = OpBinary
	}
	return c.SendFrame(op, true, p)
}

// SendFrame writes one unmasked frame exactly as given, valid or not: a
// fragment, a continuation, a ping, a control frame over 125 bytes, a
// reserved opcode. It is how a test checks that a client reassembles
// fragments, answers pings between them, and fails on protocol errors.
// A close frame sent this way counts as the server's close frame.
func (c *Conn) SendFrame(op Opcode, fin bool, p []byte) error {
	return c.WriteFrame(Frame{Op: op, Fin: fin, Payload: p})
}

// WriteFrame writes f exactly as it describes it: its opcode (the low four
// bits), FIN and RSV bits, and its payload, masked with f.Key when f.Masked
// (which a server must never do, RFC 6455 §5.1). It is SendFrame for the
// frames that break the protocol in the header: RSV bits without an
// extension, a masked server frame. A close frame sent this way counts as
// the server's close frame.
func (c *Conn) WriteFrame(f Frame) error {
	b := appendFrame(make([]byte, 0, maxHeader+len(f.Payload)), f)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if f.Op&0xF == OpClose {
		c.closeSent = true
	}
	return c.writeLocked(b)
}

// SendHeader writes only the header of a frame announcing length payload
// bytes; SendRaw may follow with some or all of them. It is the case for a
// client that must refuse an oversized message as soon as its header
// arrives, before reading the payload, and (with SendRaw and Drop) for a
// stream cut in the middle of a frame.
func (c *Conn) SendHeader(op Opcode, fin bool, length int64) error {
	b := appendFrameHeader(nil, op, fin, 0, false, [4]byte{}, length)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(b)
}

// SendRaw writes b on the socket as it is, e.g. half a frame before a
// Drop: the case for a stream cut in the middle of a message.
func (c *Conn) SendRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(b)
}

// Ping sends a WebSocket ping; the client's pongs are in Pongs.
func (c *Conn) Ping(payload []byte) error { return c.SendFrame(OpPing, true, payload) }

// Pongs returns a copy of the payloads of the pongs received so far.
func (c *Conn) Pongs() [][]byte {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return cloneAll(c.pongs)
}

// Drop cuts the TCP connection without a close frame (nor a TLS alert):
// the client must report an abnormal closure, 1006.
func (c *Conn) Drop() {
	c.markCut()
	c.raw.Close()
}

func (c *Conn) markCut() { c.cutOnce.Do(func() { close(c.cut) }) }

// Reset cuts the TCP connection with a reset (RST) rather than a FIN, as a
// crashed server or a middlebox does: the client reads an error rather
// than the end of the stream, and must report 1006 too.
func (c *Conn) Reset() {
	if tc, ok := c.raw.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.markCut()
	c.raw.Close()
}

// PauseReading stops the connection's reading at the next frame boundary
// (at most one more frame is read), until ResumeReading: a peer that stops
// reading, whose socket buffers fill until the client's writes block. No
// ping is answered meanwhile. The connection still ends when it is
// dropped or the server closes.
func (c *Conn) PauseReading() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.paused == nil {
		c.paused = make(chan struct{})
	}
}

// ResumeReading undoes PauseReading.
func (c *Conn) ResumeReading() {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if c.paused != nil {
		close(c.paused)
		c.paused = nil
	}
}

// CloseWith starts the closing handshake: it sends a close frame with code
// and reason (no payload at all for 1005, CloseNoStatus), then the
// connection ends when the client echoes it, or after a short wait. It
// returns once the frame is written; Done tells when the connection is
// gone. It fails if a close frame was already sent.
func (c *Conn) CloseWith(code int, reason string) error {
	var p []byte
	if code != dialer.CloseNoStatus {
		p = binary.BigEndian.AppendUint16(nil, uint16(code))
		p = append(p, reason...)
	}
	b := appendFrame(nil, Frame{Op: OpClose, Fin: true, Payload: p})
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return errCloseSent
	}
	c.closeSent = true
	if err := c.writeLocked(b); err != nil {
		return err
	}
	// Wake the read loop in time even if the client never answers.
	c.nc.SetReadDeadline(time.Now().Add(closeWait))
	c.s.logf("conn %d: close %d %q sent", c.id, code, reason)
	return nil
}

// CloseReceived returns the code and reason of the client's close frame;
// ok is false until one arrived. The code is 1005 for a close frame without
// payload.
func (c *Conn) CloseReceived() (code int, reason string, ok bool) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.closeCode, c.closeReason, c.closeOK
}

// Received returns a copy of the data messages received on this
// connection, reassembled, in order.
func (c *Conn) Received() [][]byte {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return cloneAll(c.received)
}

// Frames returns a copy of every frame received on this connection, in
// order, control frames included.
func (c *Conn) Frames() []Frame {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	out := slices.Clone(c.frames)
	for i := range out {
		out[i].Payload = slices.Clone(out[i].Payload)
	}
	return out
}

// Done returns a channel closed once the connection is gone and its
// goroutine has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// writeLocked writes b with a deadline; c.wmu must be held.
func (c *Conn) writeLocked(b []byte) error {
	c.nc.SetWriteDeadline(c.writeDeadline())
	_, err := c.nc.Write(b)
	c.wrote(err)
	return err
}
