package wsgobwas

import (
	"bufio"
	"io"
	"math/bits"
	"sync"
)

// Buffers are pooled by size class, a power of two from 256 B to 1 MiB.
// The pools hold pointers to slices: a slice put in a sync.Pool would be
// boxed into an interface, which allocates on every Put.
const (
	minBufShift = 8
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

// getBuf returns a buffer of length n whose capacity is its size class.
// Above the largest class it allocates one of exactly n bytes, which putBuf
// then drops.
func getBuf(n int) *[]byte {
	i := bufClass(n)
	if i < 0 {
		b := make([]byte, n)
		return &b
	}
	if bp, _ := bufPools[i].Get().(*[]byte); bp != nil {
		*bp = (*bp)[:n]
		return bp
	}
	b := make([]byte, n, 1<<(i+minBufShift))
	return &b
}

// putBuf returns a buffer from getBuf to its pool. The caller must not use
// it afterwards.
func putBuf(bp *[]byte) {
	c := cap(*bp)
	if i := bufClass(c); i >= 0 && c == 1<<(i+minBufShift) {
		bufPools[i].Put(bp)
	}
}

// readers pools connection read buffers by size (map[int]*sync.Pool): a
// process that reconnects often reuses them instead of leaving 4 KiB to the
// collector at every reconnection.
var readers sync.Map

// getReader returns a bufio.Reader of the given size reading from r.
func getReader(r io.Reader, size int) *bufio.Reader {
	if p, ok := readers.Load(size); ok {
		if br, _ := p.(*sync.Pool).Get().(*bufio.Reader); br != nil {
			br.Reset(r)
			return br
		}
	}
	return bufio.NewReaderSize(r, size)
}

// putReader returns br to the pool of its size. The caller must not use br,
// nor any slice it returned, afterwards.
func putReader(br *bufio.Reader) {
	br.Reset(nil) // the pool must not keep the socket alive
	p, ok := readers.Load(br.Size())
	if !ok {
		p, _ = readers.LoadOrStore(br.Size(), new(sync.Pool))
	}
	p.(*sync.Pool).Put(br)
}
