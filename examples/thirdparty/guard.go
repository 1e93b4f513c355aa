package coderws

import (
	"bytes"
	"errors"
	"net"
	"sync"
)

// errMasked is what the guard's Read returns at a masked frame from the
// server, which RFC 6455 §5.1 makes a failed connection and which
// coder/websocket v1.8.15 would unmask and deliver.
var errMasked = errors.New("coderws: masked frame from the server")

// guard is the socket under coder/websocket. It reads the frame headers
// the server sends for the two MUST rules coder/websocket v1.8.15 breaks:
// it refuses a masked frame (coder unmasks it), and it counts the data
// messages that arrived whole, since coder ends a message with io.EOF
// when the stream ends between two of its fragments (msgReader.Read), so
// that a cut message would pass for a whole one.
type guard struct {
	net.Conn

	mu       sync.Mutex
	upgraded bool   // the HTTP answer has been read: frames follow
	answer   []byte // the HTTP answer so far
	hdr      []byte // the frame header being read
	skip     int64  // payload bytes left in the current frame
	fin      bool   // the current frame ends a message
	done     int64  // data messages whose last byte has been read
	masked   bool   // a masked frame was refused
}

// Read passes bytes through, scanning them, and fails before a masked
// frame's header.
func (g *guard) Read(p []byte) (int, error) {
	g.mu.Lock()
	masked := g.masked
	g.mu.Unlock()
	if masked {
		return 0, errMasked
	}
	n, err := g.Conn.Read(p)
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := 0; i < n; i++ {
		if g.scan(p[i]) {
			// p[i] completed a masked header: hand over what came
			// before it, and fail the next read.
			g.masked = true
			if keep := i + 1 - len(g.hdr); keep > 0 {
				g.hdr = nil
				return keep, nil
			}
			return 0, errMasked
		}
	}
	return n, err
}

// scan consumes one byte of the stream and reports whether it completed a
// masked frame header.
func (g *guard) scan(b byte) bool {
	if !g.upgraded {
		g.answer = append(g.answer, b)
		if bytes.HasSuffix(g.answer, []byte("\r\n\r\n")) {
			g.upgraded = bytes.HasPrefix(g.answer, []byte("HTTP/1.1 101"))
			g.answer = nil
		}
		return false
	}
	if g.skip > 0 {
		if g.skip--; g.skip == 0 && g.fin {
			g.done++
		}
		return false
	}
	g.hdr = append(g.hdr, b)
	if len(g.hdr) < 2 {
		return false
	}
	need := 2 + map[byte]int{126: 2, 127: 8}[g.hdr[1]&0x7f]
	if g.hdr[1]&0x80 != 0 {
		return true
	}
	if len(g.hdr) < need {
		return false
	}
	var length int64
	for _, c := range g.hdr[2:need] {
		length = length<<8 | int64(c)
	}
	if need == 2 {
		length = int64(g.hdr[1] & 0x7f)
	}
	op, fin := g.hdr[0]&0x0f, g.hdr[0]&0x80 != 0
	g.hdr = g.hdr[:0]
	g.skip, g.fin = length, op < 8 && fin
	if g.fin && length == 0 {
		g.done++
	}
	return false
}

// messages returns the number of data messages that arrived whole.
func (g *guard) messages() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.done
}
