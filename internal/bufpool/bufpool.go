// Package bufpool pools byte buffers by size class, a power of two up to
// 1 MiB, for the backends' message and frame buffers: a connection takes a
// buffer for one message and gives it back, so an idle connection holds
// none, and a busy one allocates nothing once the pool is warm.
//
// The pools hold pointers to slices: a slice put in a sync.Pool would be
// boxed into an interface, which allocates on every Put.
package bufpool

import (
	"math/bits"
	"sync"
)

// MaxSize is the largest pooled buffer; larger ones are allocated and
// dropped.
const MaxSize = 1 << maxShift

const maxShift = 20

// A Pool hands out buffers of its size classes. It is safe for concurrent
// use. The zero value is not ready: use New.
type Pool struct {
	minShift int
	classes  []sync.Pool // classes[i] holds buffers of 1<<(minShift+i) bytes
}

// New returns a pool whose smallest class holds minSize bytes, rounded up
// to a power of two (at least 1).
func New(minSize int) *Pool {
	s := bits.Len(uint(max(minSize, 1) - 1))
	s = min(s, maxShift)
	return &Pool{minShift: s, classes: make([]sync.Pool, maxShift-s+1)}
}

// class returns the index of the smallest class that holds n bytes, or -1
// when n is above MaxSize.
func (p *Pool) class(n int) int {
	if n <= 1<<p.minShift {
		return 0
	}
	s := bits.Len(uint(n - 1))
	if s > maxShift {
		return -1
	}
	return s - p.minShift
}

// ClassSize returns the capacity of the buffer Get(n) returns: the
// smallest class that holds n bytes, or n itself above MaxSize.
func (p *Pool) ClassSize(n int) int {
	if i := p.class(n); i >= 0 {
		return 1 << (p.minShift + i)
	}
	return n
}

// Get returns a buffer of length n whose capacity is ClassSize(n).
func (p *Pool) Get(n int) *[]byte {
	i := p.class(n)
	if i < 0 {
		b := make([]byte, n)
		return &b
	}
	if bp, _ := p.classes[i].Get().(*[]byte); bp != nil {
		*bp = (*bp)[:n]
		return bp
	}
	b := make([]byte, n, 1<<(p.minShift+i))
	return &b
}

// Put returns a buffer from Get to its class; one of another capacity (a
// buffer above MaxSize) is dropped. The caller must not use the buffer,
// nor any slice of it, afterwards.
func (p *Pool) Put(bp *[]byte) {
	c := cap(*bp)
	if i := p.class(c); i >= 0 && c == 1<<(p.minShift+i) {
		p.classes[i].Put(bp)
	}
}
