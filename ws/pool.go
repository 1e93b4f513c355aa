package ws

import (
	"math/bits"
	"sync"

	"github.com/gorilla/websocket"
)

// Message buffers are pooled by size class, a power of two from 4 KiB (the
// first buffer of every message: most SIP messages fit) to 1 MiB. The
// pools hold pointers to slices: a slice put in a sync.Pool would be boxed
// into an interface, which allocates on every Put.
const (
	minBufShift = 12
	maxBufShift = 20
)

var bufPools [maxBufShift - minBufShift + 1]sync.Pool

// bufClass returns the index of the smallest class that holds n bytes, or
// -1 when n is above the largest class.
func bufClass(n int) int {
	if n <= 1<<minBufShift {
		return 0
	}
	s := bits.Len(uint(n - 1))
	if s > maxBufShift {
		return -1
	}
	return s - minBufShift
}

// getBuf returns an empty buffer with room for at least n bytes: its size
// class, or exactly n above the largest class (putBuf then drops it).
func getBuf(n int) *[]byte {
	i := bufClass(n)
	if i < 0 {
		b := make([]byte, 0, n)
		return &b
	}
	if bp, _ := bufPools[i].Get().(*[]byte); bp != nil {
		*bp = (*bp)[:0]
		return bp
	}
	b := make([]byte, 0, 1<<(i+minBufShift))
	return &b
}

// putBuf returns a buffer from getBuf to its pool. The caller must not use
// it, nor any slice of it, afterwards.
func putBuf(bp *[]byte) {
	c := cap(*bp)
	if i := bufClass(c); i >= 0 && c == 1<<(i+minBufShift) {
		bufPools[i].Put(bp)
	}
}

// writePools holds one pool of gorilla write buffers per buffer size
// (map[int]*sync.Pool), as gorilla asks: its connections take a buffer for
// each message and give it back once the message is written, so an idle
// connection holds none.
var writePools sync.Map

// writePool returns the pool for write buffers of the given size.
func writePool(size int) websocket.BufferPool {
	p, ok := writePools.Load(size)
	if !ok {
		p, _ = writePools.LoadOrStore(size, new(sync.Pool))
	}
	return p.(*sync.Pool)
}
