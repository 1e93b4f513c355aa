package ws

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"net"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/idleread"
)

// A tap is the socket under gorilla: it passes the server's bytes through
// unchanged, reading the frame headers as they go by, except the server's
// close frames, which it takes out of the stream and judges itself with
// dialer.ParseCloseBody. gorilla's own judgement differs from the contract:
// its table of receivable codes stops at 1013 (it fails 1014, Bad Gateway,
// with 1002), it answers a reason that is not UTF-8 with 1002 rather than
// 1007, and it reads a one-byte body as no code at all. In the stream
// gorilla reads, each close frame taken out becomes a plain close 1000,
// which gorilla accepts; the conn then reports the verdict the tap kept.
//
// A close frame is taken out only when its header is one gorilla would
// accept (final, no RSV bit, unmasked, at most 125 bytes): any other is
// passed on for gorilla to fail with 1002.
//
// Reads come from one goroutine at a time: Dial's during the handshake,
// then the one inside ReadMessage. Writes, deadlines and Close go straight
// to the socket.
type tap struct {
	net.Conn           // the socket gorilla uses: raw, or TLS over it
	raw      net.Conn  // the TCP connection
	tls      *tls.Conn // nil for ws

	// Reading state.
	head   []byte       // the answer's start, until it is known to be a 101 or not
	frames bool         // the answer has ended: frames follow, if it was a 101
	crlf   int8         // how much of "\r\n\r\n" ends what was read of the answer
	done   bool         // nothing more to judge: pass the rest as it is
	skip   int64        // payload bytes of the current frame still to pass
	carry  []byte       // bytes read but held back: a header, or a close frame, not yet whole
	out    []byte       // bytes ready for the next Read
	err    error        // the socket's read error, returned once out is empty
	closed *serverClose // the close frame taken out, once one was
	bufs   *tapBuffers  // carry's and out's storage, made the first time a header straddles two reads
}

// tapBuffers hold what a tap holds back; most connections never need them.
type tapBuffers struct {
	carry [maxHeader + 125 + 1]byte
	out   [maxHeader + 125 + 1 + closeLen]byte
}

func (t *tap) buffers() *tapBuffers {
	if t.bufs == nil {
		t.bufs = new(tapBuffers)
	}
	return t.bufs
}

// serverClose is the tap's verdict on a server's close frame.
type serverClose struct {
	code   int
	reason string
	fail   int // 0, or the code to fail the connection with (1002, 1007)
}

// closeLen is the length of the close frame gorilla reads in place of the
// server's: close 1000, no reason.
const closeLen = 4

var replacement = [closeLen]byte{0x88, 0x02, 0x03, 0xe8}

// maxHeader is the longest frame header: 2 bytes, a 64-bit length and a
// masking key.
const maxHeader = 14

// newTap puts a tap over raw, or over tc for wss, with reads through an
// idleread.Conn whose buffers are size bytes: an idle connection holds no
// read buffer, and gorilla's own stays small.
func newTap(raw net.Conn, tc *tls.Conn, size int) *tap {
	t := &tap{raw: raw, tls: tc}
	if tc != nil {
		t.Conn = idleread.NewConn(tc, size)
	} else {
		t.Conn = idleread.NewConn(raw, size)
	}
	return t
}

// scanned says what scan found at the end of what it passed.
type scanned int

const (
	passAll scanned = iota // every byte may go on
	held                   // the rest starts with a header or close frame not yet whole
	took                   // the rest starts with a whole close frame, now judged
)

// Read implements net.Conn for gorilla's reader.
func (t *tap) Read(p []byte) (int, error) {
	for {
		if len(t.out) > 0 {
			n := copy(p, t.out)
			t.out = t.out[n:]
			return n, nil
		}
		if t.err != nil {
			return 0, t.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		var n, pass int
		var what scanned
		if len(t.carry) == 0 {
			// The common case: read into p and pass it on where it lies.
			n, t.err = t.Conn.Read(p)
			pass, what = t.scan(p[:n])
			switch what {
			case held:
				t.carry = append(t.buffers().carry[:0], p[pass:n]...)
			case took:
				t.out = replacement[:]
			}
		} else {
			// Read behind what is held back until it is whole.
			bufs, k := t.buffers(), len(t.carry)
			n, t.err = t.Conn.Read(bufs.carry[k:])
			b := bufs.carry[:k+n]
			pass, what = t.scan(b)
			t.out = append(bufs.out[:0], b[:pass]...)
			t.carry = nil
			switch what {
			case held:
				t.carry = bufs.carry[:copy(bufs.carry[:], b[pass:])]
			case took:
				t.out = append(t.out, replacement[:]...)
			}
			pass = 0 // all of it is in out
		}
		if t.err != nil && len(t.carry) > 0 {
			// The stream ended inside what was held back: hand it over
			// as it is, so that gorilla sees the cut.
			t.out = append(t.out, t.carry...)
			t.carry = nil
		}
		if pass > 0 {
			return pass, nil
		}
	}
}

// scan reads b, the next bytes of the stream, and returns how many of them
// may be passed on now, and what the rest is.
func (t *tap) scan(b []byte) (int, scanned) {
	i := 0
	for i < len(b) {
		switch {
		case t.done:
			return len(b), passAll
		case !t.frames:
			i += t.scanAnswer(b[i:])
			continue
		case t.skip > 0:
			k := int(min(t.skip, int64(len(b)-i)))
			i += k
			t.skip -= int64(k)
			continue
		}
		h, n, ok := parseHeader(b[i:])
		if !ok {
			return i, held
		}
		if !h.takeOut() {
			i += n
			t.skip = h.length
			continue
		}
		end := i + n + int(h.length)
		if end > len(b) {
			return i, held
		}
		v := new(serverClose)
		v.code, v.reason, v.fail = dialer.ParseCloseBody(b[i+n : end])
		t.closed = v
		// What follows a close frame is never read: gorilla stops at it.
		t.done = true
		return i, took
	}
	return i, passAll
}

// scanAnswer passes the HTTP answer to the upgrade, which ends at the first
// blank line; frames follow it only after a 101.
func (t *tap) scanAnswer(b []byte) int {
	for i, c := range b {
		if len(t.head) < len("HTTP/1.1 101") {
			t.head = append(t.head, c) // 12 bytes, once per connection
		}
		switch {
		case c == '\r' && (t.crlf == 0 || t.crlf == 2):
			t.crlf++
		case c == '\n' && (t.crlf == 1 || t.crlf == 3):
			t.crlf++
		case c == '\r':
			t.crlf = 1
		default:
			t.crlf = 0
		}
		if t.crlf == 4 {
			t.frames = true
			if !bytes.HasPrefix(t.head, []byte("HTTP/1.1 101")) {
				t.done = true // a refusal: what follows is a body, not frames
			}
			return i + 1
		}
	}
	return len(b)
}

// taken returns the tap's verdict on the server's close frame, or nil when
// it took none out. Only the reading goroutine may call it.
func (t *tap) taken() *serverClose { return t.closed }

// header is a frame header as the tap reads it.
type header struct {
	fin, masked bool
	rsv, op     byte
	length      int64
}

// takeOut reports whether the frame is a close frame that gorilla would
// accept as such: those are the ones the tap judges.
func (h header) takeOut() bool {
	return h.op == 0x8 && h.fin && h.rsv == 0 && !h.masked && h.length <= 125
}

// parseHeader parses the frame header at the start of b; ok is false until
// b holds all of it. A 64-bit length with its top bit set (a protocol
// error gorilla fails) reads as the largest length, which only means that
// the rest of the stream is passed on as it is.
func parseHeader(b []byte) (h header, n int, ok bool) {
	if len(b) < 2 {
		return h, 0, false
	}
	h = header{fin: b[0]&0x80 != 0, rsv: b[0] >> 4 & 0x7, op: b[0] & 0xf, masked: b[1]&0x80 != 0, length: int64(b[1] & 0x7f)}
	n = 2
	switch h.length {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if h.masked {
		n += 4
	}
	if len(b) < n {
		return h, 0, false
	}
	switch h.length {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		h.length = int64(binary.BigEndian.Uint64(b[2:]) & (1<<63 - 1))
	}
	return h, n, true
}
