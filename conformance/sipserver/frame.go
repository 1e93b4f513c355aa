package sipserver

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"
)

// An Opcode is the opcode of a WebSocket frame (RFC 6455 §5.2). The
// package has its own type, so that a test scripting frames needs no
// WebSocket library of its own; any four-bit value may be sent, the
// reserved ones included, to check that a client fails on them.
type Opcode uint8

// The opcodes RFC 6455 §5.2 defines. 0x3–0x7 are reserved for further
// data frames and 0xB–0xF for further control frames.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// IsControl reports whether op is a control opcode (close, ping, pong, or
// a reserved one from 0xB up): its frames are at most 125 bytes and never
// fragmented (RFC 6455 §5.5).
func (op Opcode) IsControl() bool { return op&0x8 != 0 }

// IsReserved reports whether op is one RFC 6455 leaves undefined.
func (op Opcode) IsReserved() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return false
	}
	return true
}

// String returns the opcode's name ("text", "ping"...), or "opcode-N" for
// a reserved or out-of-range one.
func (op Opcode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "opcode-" + strconv.Itoa(int(op))
}

// A Frame is one frame received from the client, as it came on the wire
// except that Payload is unmasked.
type Frame struct {
	Op      Opcode
	Fin     bool
	Rsv     byte    // the three RSV bits; non-zero fails the connection with 1002
	Masked  bool    // RFC 6455 §5.3: every client frame must be masked...
	Key     [4]byte // ...with a fresh, unpredictable key
	Payload []byte
}

// maxHeader is the longest frame header: 2 bytes, a 64-bit length and a
// masking key.
const maxHeader = 14

// appendFrame appends f to b as it goes on the wire: the header, then the
// payload, masked with f.Key when f.Masked. Fields are taken as they are,
// valid or not (an opcode above 0xF keeps its low four bits).
func appendFrame(b []byte, f Frame) []byte {
	b = appendFrameHeader(b, f.Op, f.Fin, f.Rsv, f.Masked, f.Key, int64(len(f.Payload)))
	n := len(b)
	b = append(b, f.Payload...)
	if f.Masked {
		mask(b[n:], f.Key)
	}
	return b
}

// appendFrameHeader appends a frame header announcing length payload bytes.
func appendFrameHeader(b []byte, op Opcode, fin bool, rsv byte, masked bool, key [4]byte, length int64) []byte {
	b0 := byte(op&0xF) | (rsv&0x7)<<4
	if fin {
		b0 |= 0x80
	}
	var b1 byte
	if masked {
		b1 = 0x80
	}
	switch {
	case length < 126:
		b = append(b, b0, b1|byte(length))
	case length <= 0xFFFF:
		b = append(b, b0, b1|126)
		b = binary.BigEndian.AppendUint16(b, uint16(length))
	default:
		b = append(b, b0, b1|127)
		b = binary.BigEndian.AppendUint64(b, uint64(length))
	}
	if masked {
		b = append(b, key[:]...)
	}
	return b
}

// header is a frame header as readHeader parsed it.
type header struct {
	op     Opcode
	fin    bool
	rsv    byte
	masked bool
	key    [4]byte
	length int64 // negative when the 64-bit length had its top bit set
}

// errLength is the error of a header whose 64-bit length has its most
// significant bit set (RFC 6455 §5.2).
var errLength = errors.New("sipserver: frame length with the most significant bit set")

// readHeader reads one frame header from r.
func readHeader(r io.Reader) (header, error) {
	var b [maxHeader]byte
	if _, err := io.ReadFull(r, b[:2]); err != nil {
		return header{}, err
	}
	h := header{
		op:     Opcode(b[0] & 0xF),
		fin:    b[0]&0x80 != 0,
		rsv:    (b[0] >> 4) & 0x7,
		masked: b[1]&0x80 != 0,
		length: int64(b[1] & 0x7F),
	}
	extra := 0
	switch h.length {
	case 126:
		extra = 2
	case 127:
		extra = 8
	}
	if h.masked {
		extra += 4
	}
	if extra > 0 {
		if _, err := io.ReadFull(r, b[2:2+extra]); err != nil {
			return header{}, noEOF(err)
		}
	}
	k := 2
	switch h.length {
	case 126:
		h.length = int64(binary.BigEndian.Uint16(b[2:]))
		k += 2
	case 127:
		u := binary.BigEndian.Uint64(b[2:])
		if u>>63 != 0 {
			return h, errLength
		}
		h.length = int64(u)
		k += 8
	}
	if h.masked {
		copy(h.key[:], b[k:k+4])
	}
	return h, nil
}

// mask masks (or unmasks) p in place with key, from the payload's start.
func mask(p []byte, key [4]byte) {
	for i := range p {
		p[i] ^= key[i&3]
	}
}

// noEOF reports an end of stream inside a frame as such.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
