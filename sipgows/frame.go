package sipgows

import (
	"encoding/binary"
	"sync"
)

// WebSocket opcodes and sizes (RFC 6455 §5.2) the pipe uses. The pipe
// writes its frames by hand, from a pooled buffer with room for the header
// in front of the payload, so a message toward sipgo is one copy and one
// buffer, and nothing is allocated once the pool is warm.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa

	maxServerHeader = 10 // 2 + 8 length bytes; a server does not mask
	maxClientHeader = 14 // 2 + 8 length bytes + 4 mask bytes

	// maxFromSipgo bounds one message sipgo writes; the transport refuses
	// anything above its own send limit (64 KiB by default) before a byte
	// reaches the server, so this only keeps a runaway write from filling
	// memory.
	maxFromSipgo = 1 << 20

	// poolCap is the capacity of a fresh frame buffer (most SIP messages
	// fit), keepCap the largest one that goes back to a pool, and
	// freeFrames the size of a bridge's own free list.
	poolCap    = 2048
	keepCap    = 128 << 10
	freeFrames = 2
)

// A frame is one whole WebSocket frame toward sipgo: an unmasked, FIN,
// unfragmented frame, in buf[off:]. kind says what reading its last byte
// means.
type frame struct {
	buf  []byte
	off  int
	kind frameKind
}

type frameKind uint8

const (
	kindMessage   frameKind = iota // a SIP message from the transport
	kindControl                    // a pong
	kindHandshake                  // the 101 response; not a frame
)

var framePool = sync.Pool{New: func() any { return &frame{buf: make([]byte, 0, poolCap)} }}

// getFrame returns an empty frame: from the bridge's own free list, which
// keeps the steady state (one message at a time) free of allocations even
// where sync.Pool drops items (under the race detector), else from the
// shared pool.
func (b *Bridge) getFrame() *frame {
	select {
	case f := <-b.free:
		return f
	default:
		return framePool.Get().(*frame)
	}
}

// putFrame gives f back.
func (b *Bridge) putFrame(f *frame) {
	if cap(f.buf) > keepCap {
		return
	}
	f.buf = f.buf[:0]
	select {
	case b.free <- f:
	default:
		framePool.Put(f)
	}
}

// newFrame returns a frame carrying a copy of p with opcode op. RFC 7118
// §5.2 lets SIP go in binary frames too, but sipgo v1.7.3 discards binary
// frames, so the bridge sends every message as text.
func (b *Bridge) newFrame(op byte, p []byte, kind frameKind) *frame {
	f := b.getFrame()
	need := maxServerHeader + len(p)
	if cap(f.buf) < need {
		f.buf = make([]byte, 0, max(need, poolCap))
	}
	f.buf = f.buf[:need]
	copy(f.buf[maxServerHeader:], p)
	f.off = maxServerHeader - putHeader(f.buf[:maxServerHeader], op, len(p))
	f.kind = kind
	return f
}

// newRaw returns a frame holding p as it is (the handshake response).
func (b *Bridge) newRaw(p []byte, kind frameKind) *frame {
	f := b.getFrame()
	f.buf = append(f.buf[:0], p...)
	f.off = 0
	f.kind = kind
	return f
}

// bytes returns what the reader is to read.
func (f *frame) bytes() []byte { return f.buf[f.off:] }

// putHeader writes the header of an unmasked FIN frame with opcode op and
// a payload of n bytes at the end of h (len(h) == maxServerHeader) and
// returns its length.
func putHeader(h []byte, op byte, n int) int {
	var size int
	switch {
	case n < 126:
		size = 2
		h[len(h)-1] = byte(n)
	case n <= 0xffff:
		size = 4
		h[len(h)-3] = 126
		binary.BigEndian.PutUint16(h[len(h)-2:], uint16(n))
	default:
		size = 10
		h[len(h)-9] = 127
		binary.BigEndian.PutUint64(h[len(h)-8:], uint64(n))
	}
	h[len(h)-size] = 0x80 | op
	return size
}
