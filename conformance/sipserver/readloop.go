package sipserver

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"strconv"
	"unicode/utf8"

	"github.com/sipws/sipws/dialer"
)

var crlfPing = []byte("\r\n\r\n")

// readLoop reads frames until the connection ends. It is the connection's
// only reader; it writes pongs, close echoes and answers through the same
// serialised writes as the Send methods.
func (c *Conn) readLoop() {
	defer c.end()
	br := c.br
	limit := c.s.opts.ReadLimit
	var msg []byte // the data message being reassembled
	var msgOp Opcode
	inMsg := false
	for {
		if !c.waitReading() {
			return
		}
		h, err := readHeader(br)
		if errors.Is(err, errLength) {
			c.fail(dialer.CloseProtocolError, "bad frame length")
			return
		}
		if err != nil {
			c.s.logf("conn %d: read: %v", c.id, err)
			return
		}
		switch c.personaFrame(h) {
		case frameDropped:
			return
		case frameRefused:
			if _, err := io.CopyN(io.Discard, br, h.length); err != nil {
				return
			}
			inMsg, msg = false, nil
			continue
		}
		data := !h.op.IsControl()
		switch {
		case !data && (h.length > 125 || !h.fin):
			// RFC 6455 §5.5: control frames are short and never fragmented.
			c.fail(dialer.CloseProtocolError, "bad control frame")
			if _, err := io.CopyN(io.Discard, br, h.length); err != nil {
				return
			}
			continue
		case data && h.length > limit-int64(len(msg)):
			// Refuse before reading: the case for a client sending more
			// than the server takes.
			c.fail(dialer.CloseMessageTooBig, "message too big")
			if _, err := io.CopyN(io.Discard, br, h.length); err != nil {
				return
			}
			inMsg, msg = false, nil
			continue
		}
		payload := make([]byte, h.length)
		if _, err := io.ReadFull(br, payload); err != nil {
			c.s.logf("conn %d: read: %v", c.id, err)
			return
		}
		if h.masked {
			mask(payload, h.key)
		}
		c.record(Frame{Op: h.op, Fin: h.fin, Rsv: h.rsv, Masked: h.masked, Key: h.key, Payload: payload})
		c.frameRead(h.op, payload)
		// An unmasked client frame is recorded and tolerated: the suite
		// checks Frame.Masked and says why, which a bare close would not.
		if h.rsv != 0 {
			c.fail(dialer.CloseProtocolError, "RSV bits set without an extension")
			continue
		}
		switch h.op {
		case OpClose:
			c.closed(payload)
			return
		case OpPing:
			c.reply(OpPong, payload)
		case OpPong:
			c.s.mu.Lock()
			c.pongs = append(c.pongs, payload)
			c.s.notify()
			c.s.mu.Unlock()
		case OpText, OpBinary:
			if inMsg {
				c.fail(dialer.CloseProtocolError, "data frame inside a fragmented message")
				continue
			}
			inMsg, msg, msgOp = true, payload, h.op
			if h.fin {
				c.deliver(msgOp, msg)
				inMsg, msg = false, nil
			}
		case OpContinuation:
			if !inMsg {
				c.fail(dialer.CloseProtocolError, "continuation without a message")
				continue
			}
			msg = append(msg, payload...)
			if h.fin {
				c.deliver(msgOp, msg)
				inMsg, msg = false, nil
			}
		default:
			c.fail(dialer.CloseProtocolError, "reserved opcode "+strconv.Itoa(int(h.op)))
		}
	}
}

// waitReading waits while reading is paused, and reports false when the
// server closes meanwhile. A drop ends the wait too: the read that follows
// fails.
func (c *Conn) waitReading() bool {
	c.s.mu.Lock()
	paused := c.paused
	c.s.mu.Unlock()
	if paused == nil {
		return true
	}
	c.s.logf("conn %d: reading paused", c.id)
	select {
	case <-paused:
		return true
	case <-c.cut:
		return true
	case <-c.s.done:
		return false
	}
}

// end closes the socket and forgets the connection.
func (c *Conn) end() {
	c.raw.Close()
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if i := indexOf(c.s.conns, c); i >= 0 {
		c.s.conns = append(c.s.conns[:i], c.s.conns[i+1:]...)
	}
	close(c.done)
	c.s.notify()
	c.s.logf("conn %d: gone", c.id)
}

func indexOf(conns []*Conn, c *Conn) int {
	for i, x := range conns {
		if x == c {
			return i
		}
	}
	return -1
}

func (c *Conn) record(f Frame) {
	c.s.mu.Lock()
	c.frames = append(c.frames, f)
	c.s.notify()
	c.s.mu.Unlock()
}

// fail starts the closing handshake after a client error; the read loop
// goes on until the client's close frame or the close wait.
func (c *Conn) fail(code int, reason string) {
	c.s.logf("conn %d: failing: %s", c.id, reason)
	if c.personaFail(reason) {
		return
	}
	if err := c.CloseWith(code, reason); err != nil && !errors.Is(err, errCloseSent) {
		c.s.logf("conn %d: close: %v", c.id, err)
	}
}

// closed handles the client's close frame: record it and echo its code
// unless the server sent its own close first (RFC 6455 §5.5.1).
func (c *Conn) closed(payload []byte) {
	code, reason, valid := dialer.CloseNoStatus, "", true
	switch {
	case len(payload) == 1:
		valid = false
	case len(payload) >= 2:
		code = int(binary.BigEndian.Uint16(payload))
		reason = string(payload[2:])
		valid = utf8.ValidString(reason)
	}
	c.s.mu.Lock()
	c.closeCode, c.closeReason, c.closeOK = code, reason, true
	c.s.notify()
	c.s.mu.Unlock()
	c.s.logf("conn %d: close %d %q received", c.id, code, reason)
	if code, reason, ok := c.personaEcho(); ok {
		c.CloseWith(code, reason)
		return
	}
	switch {
	case !valid:
		c.CloseWith(dialer.CloseProtocolError, "bad close payload")
	case code == dialer.CloseNoStatus:
		c.CloseWith(dialer.CloseNoStatus, "")
	default:
		c.CloseWith(code, "")
	}
}

// reply writes a frame unless the server already sent its close frame,
// after which only the client's close may follow.
func (c *Conn) reply(op Opcode, p []byte) {
	c.wmu.Lock()
	closing := c.closeSent
	c.wmu.Unlock()
	if closing {
		return
	}
	if err := c.SendFrame(op, true, p); err != nil {
		c.s.logf("conn %d: write: %v", c.id, err)
	}
}

// deliver records a whole data message, of opcode op, and answers it.
func (c *Conn) deliver(op Opcode, msg []byte) {
	s := c.s
	s.mu.Lock()
	c.received = append(c.received, msg)
	s.received = append(s.received, msg)
	answerPings, answerSIP := s.answerPings, s.answerSIP
	s.notify()
	s.mu.Unlock()
	if c.personaDeliver(op, msg, answerPings) {
		return
	}
	switch {
	case bytes.Equal(msg, crlfPing):
		if answerPings {
			c.reply(OpText, crlfPing[:2])
		}
	case answerSIP:
		tag := strconv.FormatUint(rand.Uint64(), 36)
		if resp, ok := appendAnswer(nil, msg, tag); ok {
			c.reply(OpText, resp)
		}
	}
}
