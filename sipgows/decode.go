package sipgows

import (
	"encoding/binary"
	"errors"
	"fmt"

	gws "github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
)

var (
	errProtocol   = errors.New("sipgows: WebSocket protocol error from sipgo")
	errPeerClosed = errors.New("sipgows: sipgo sent a close frame")
)

// decode consumes the bytes of the frames sipgo writes (RFC 6455 §5.2:
// masked, as a client's), in any split, and returns how many it used and
// the message they completed, if any. sipgo writes each message as one
// text frame, header and payload in two writes; continuation frames,
// binary frames and control frames are handled too. The payload is
// unmasked into the pipe's own buffer: p itself is never modified.
//
// A message larger than maxFromSipgo is consumed and discarded, and the
// write that completes it fails with an error wrapping
// dialer.ErrSendTooLarge; a protocol error ends the pipe.
func (c *conn) decode(p []byte) (used int, msg []byte, err error) {
	if c.hn < c.need {
		k := copy(c.hdr[c.hn:c.need], p)
		c.hn += k
		if c.hn == 2 && c.need == 2 {
			c.need = 2 + extraHeader(c.hdr[1])
			k2 := copy(c.hdr[c.hn:c.need], p[k:])
			c.hn += k2
			k += k2
		}
		if c.hn < c.need {
			return k, nil, nil
		}
		if err := c.startFrame(); err != nil {
			c.shutdown()
			return k, nil, err
		}
		if c.remain > 0 {
			return k, nil, nil
		}
		msg, err := c.endFrame()
		return k, msg, err
	}

	k := int(min(int64(len(p)), c.remain))
	chunk := p[:k]
	switch {
	case c.op >= opClose:
		start := len(c.ctl)
		c.ctl = append(c.ctl, chunk...)
		c.unmask(c.ctl[start:])
	case c.skip:
	default:
		start := len(c.msg)
		c.msg = append(c.msg, chunk...)
		c.unmask(c.msg[start:])
	}
	c.pos += k
	c.remain -= int64(k)
	if c.remain > 0 {
		return k, nil, nil
	}
	msg, err = c.endFrame()
	return k, msg, err
}

// extraHeader returns the header bytes that follow the first two, from the
// second one: the extended length and the mask key.
func extraHeader(b1 byte) int {
	n := 0
	if b1&0x80 != 0 {
		n += 4
	}
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	return n
}

// startFrame parses the header in c.hdr.
func (c *conn) startFrame() error {
	h := c.hdr[:c.hn]
	c.fin = h[0]&0x80 != 0
	c.op = h[0] & 0x0f
	if h[0]&0x70 != 0 {
		return fmt.Errorf("%w: reserved bits set", errProtocol)
	}
	c.masked = h[1]&0x80 != 0
	var length uint64
	rest := h[2:]
	switch l := h[1] & 0x7f; l {
	case 126:
		length = uint64(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
	case 127:
		length = binary.BigEndian.Uint64(rest)
		rest = rest[8:]
	default:
		length = uint64(l)
	}
	if c.masked {
		copy(c.mask[:], rest)
	}
	if length > maxFromSipgo*2 {
		return fmt.Errorf("%w: frame of %d bytes", errProtocol, length)
	}
	c.remain = int64(length)
	c.pos = 0
	switch c.op {
	case opText, opBinary:
		if c.msgOp != 0 {
			return fmt.Errorf("%w: data frame inside a fragmented message", errProtocol)
		}
		c.msgOp, c.size, c.skip = c.op, 0, false
	case opContinuation:
		if c.msgOp == 0 {
			return fmt.Errorf("%w: continuation frame without a message", errProtocol)
		}
	case opClose, opPing, opPong:
		if !c.fin || length > 125 {
			return fmt.Errorf("%w: control frame fragmented or over 125 bytes", errProtocol)
		}
		c.ctl = c.ctl[:0]
		return nil
	default:
		return fmt.Errorf("%w: reserved opcode %#x", errProtocol, c.op)
	}
	c.size += int(length)
	if c.size > maxFromSipgo && !c.skip {
		c.skip = true
		c.msg = c.msg[:0]
	}
	return nil
}

// endFrame finishes the frame whose payload is all in, and returns the
// message it completes, if any.
func (c *conn) endFrame() ([]byte, error) {
	c.hn, c.need = 0, 2
	switch c.op {
	case opPing:
		select {
		case c.own <- c.b.newFrame(opPong, c.ctl, kindControl):
		default: // sipgo never pings; do not wait for a reader
		}
		return nil, nil
	case opPong:
		return nil, nil
	case opClose:
		c.shutdown()
		return nil, errPeerClosed
	}
	if !c.fin {
		return nil, nil
	}
	c.msgOp = 0
	if c.skip {
		c.skip = false
		return nil, fmt.Errorf("sipgows: message of %d bytes from sipgo: %w", c.size, dialer.ErrSendTooLarge)
	}
	return c.msg, nil
}

// unmask unmasks p, the payload bytes of the current frame from c.pos on.
func (c *conn) unmask(p []byte) {
	if c.masked {
		gws.Cipher(p, c.mask, c.pos)
	}
}
