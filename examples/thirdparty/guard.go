package coderws

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"sync"
)

// errTooLarge is what the guard's Read returns once a frame header has
// announced a message above the limit.
var errTooLarge = errors.New("coderws: message larger than the max message size")

// guard is the socket under coder/websocket. It watches the frame headers
// the server sends and, at the first data frame that makes a message
// larger than the limit, withholds that header and fails every later
// read: coder/websocket then reports an error before reading any of the
// payload, and the connection closes with 1009.
//
// It also counts the messages that arrived whole: coder/websocket v1.8.15
// ends a message with io.EOF when the stream ends between two of its
// fragments (msgReader.Read), so a cut message would pass for a whole one.
type guard struct {
	net.Conn
	limit int64

	mu       sync.Mutex
	upgraded bool   // the HTTP answer has been read: frames follow
	answer   []byte // the HTTP answer so far
	hdr      []byte // the frame header being read
	skip     int64  // payload bytes left in the current frame
	msg      int64  // bytes of the current message so far
	fin      bool   // the current frame ends a message
	done     int64  // data messages whose last byte has been read
	refused  int64  // the size announced, once refused
}

func newGuard(nc net.Conn, limit int64) *guard { return &guard{Conn: nc, limit: limit} }

// Read passes bytes through, scanning them, and stops before a header
// that announces too much.
func (g *guard) Read(p []byte) (int, error) {
	g.mu.Lock()
	refused := g.refused != 0
	g.mu.Unlock()
	if refused {
		return 0, errTooLarge
	}
	n, err := g.Conn.Read(p)
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := 0; i < n; i++ {
		if g.scan(p[i]) {
			// p[i] completed a header announcing too much: hand over
			// what came before that header, and nothing after.
			keep := max(i+1-len(g.hdr), 0)
			g.hdr = nil
			if keep == 0 {
				return 0, errTooLarge
			}
			return keep, nil
		}
	}
	return n, err
}

// scan consumes one byte of the stream and reports whether it completed a
// frame header that makes the message too large.
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
	need := 2
	switch g.hdr[1] & 0x7f {
	case 126:
		need += 2
	case 127:
		need += 8
	}
	if g.hdr[1]&0x80 != 0 {
		need += 4 // a masked server frame: wrong, but coder/websocket judges that
	}
	if len(g.hdr) < need {
		return false
	}
	length := int64(g.hdr[1] & 0x7f)
	switch length {
	case 126:
		length = int64(binary.BigEndian.Uint16(g.hdr[2:]))
	case 127:
		length = int64(binary.BigEndian.Uint64(g.hdr[2:]) & (1<<63 - 1))
	}
	op, fin := g.hdr[0]&0x0f, g.hdr[0]&0x80 != 0
	g.hdr = g.hdr[:0]
	g.skip = length
	g.fin = false
	if op >= 8 {
		return false // control frames are not part of a message
	}
	if op != 0 { // text or binary: a new message
		g.msg = 0
	}
	if length > g.limit-g.msg {
		g.refused = g.msg + length
		return true
	}
	g.msg += length
	if g.fin = fin; fin && length == 0 {
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

// announced returns the size of the refused message, or -1 if coder's own
// limit refused it.
func (g *guard) announced() int64 {
	if g == nil {
		return -1
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refused == 0 {
		return -1
	}
	return g.refused
}
