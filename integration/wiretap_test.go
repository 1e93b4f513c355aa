package integration

import (
	"context"
	"encoding/binary"
	"net"
	"sync"
	"time"
)

// wireTap counts the WebSocket frames a server sends, by opcode, as they
// cross the TCP connection: the transport does not report control frames,
// so this is how a test sees Kamailio's Pings. It reads plain ws only (over
// wss it would see TLS records). Safe for concurrent use.
type wireTap struct {
	mu     sync.Mutex
	frames map[byte]int // opcode -> frames seen, over every connection
	pings  []time.Time  // when each server Ping was read
	pongs  []time.Time  // when each client Pong was written
}

// opcodes of RFC 6455 §5.2 that the tests look for.
const (
	opPing = 0x9
	opPong = 0xA
)

func newWireTap() *wireTap { return &wireTap{frames: map[byte]int{}} }

// dial is a netDial whose connections feed the tap.
func (w *wireTap) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &tappedConn{Conn: c, tap: w}, nil
}

// answeredWithin reports whether every server Ping seen so far was followed
// by a client Pong within d, and the slowest answer.
func (w *wireTap) answeredWithin(d time.Duration) (bool, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var slowest time.Duration
	for i, at := range w.pings {
		if i >= len(w.pongs) || w.pongs[i].Sub(at) > d {
			return false, slowest
		}
		slowest = max(slowest, w.pongs[i].Sub(at))
	}
	return true, slowest
}

// pongsWritten returns the Pongs the client wrote.
func (w *wireTap) pongsWritten() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pongs)
}

// count returns the frames seen with opcode op.
func (w *wireTap) count(op byte) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.frames[op]
}

// tappedConn splits what it reads into frames (RFC 6455 §5.2). The bytes
// before the 101 response's end are the HTTP handshake, not frames.
type tappedConn struct {
	net.Conn
	tap *wireTap

	// read goroutine only
	handshake []byte // the HTTP response so far, until its blank line
	inFrames  bool
	header    []byte // the current frame's header so far
	skip      uint64 // payload bytes of the current frame still to come
}

// Write records the client's Pongs: a backend writes each frame in one
// write, and the upgrade request, written first, starts with "GET".
func (c *tappedConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err == nil && len(p) >= 2 && p[0]&0x0f == opPong && p[0]&0x80 != 0 {
		c.tap.mu.Lock()
		c.tap.pongs = append(c.tap.pongs, time.Now())
		c.tap.mu.Unlock()
	}
	return n, err
}

func (c *tappedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.feed(p[:n])
	return n, err
}

func (c *tappedConn) feed(b []byte) {
	for len(b) > 0 {
		switch {
		case !c.inFrames:
			// Keep only the last 3 bytes: enough to find "\r\n\r\n" across reads.
			i := len(c.handshake)
			c.handshake = append(c.handshake, b[0])
			b = b[1:]
			if i >= 3 && string(c.handshake[i-3:]) == "\r\n\r\n" {
				c.inFrames, c.handshake = true, nil
			} else if len(c.handshake) > 3 {
				c.handshake = c.handshake[len(c.handshake)-3:]
			}
		case c.skip > 0:
			k := min(uint64(len(b)), c.skip)
			c.skip -= k
			b = b[k:]
		default:
			c.header = append(c.header, b[0])
			b = b[1:]
			if need := frameHeaderLen(c.header); need > 0 && len(c.header) == need {
				c.skip = framePayloadLen(c.header)
				c.tap.mu.Lock()
				c.tap.frames[c.header[0]&0x0f]++
				if c.header[0]&0x0f == opPing {
					c.tap.pings = append(c.tap.pings, time.Now())
				}
				c.tap.mu.Unlock()
				c.header = c.header[:0]
			}
		}
	}
}

// frameHeaderLen returns the length of the frame header h begins, or 0
// while h is too short to tell.
func frameHeaderLen(h []byte) int {
	if len(h) < 2 {
		return 0
	}
	n := 2
	switch h[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h[1]&0x80 != 0 {
		n += 4 // masking key: servers do not mask, but be exact
	}
	return n
}

// framePayloadLen returns the payload length of the complete header h.
func framePayloadLen(h []byte) uint64 {
	switch l := h[1] & 0x7f; l {
	case 126:
		return uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		return binary.BigEndian.Uint64(h[2:10])
	default:
		return uint64(l)
	}
}
