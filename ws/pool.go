package ws

import (
	"sync"

	"github.com/gorilla/websocket"

	"github.com/sipws/sipws/internal/bufpool"
)

// bufs pools message buffers by size class, from 4 KiB (the first buffer
// of every message: most SIP messages fit) up.
var bufs = bufpool.New(firstBuf)

// getBuf returns an empty buffer with room for at least n bytes: its size
// class, or exactly n above the largest class (putBuf then drops it).
func getBuf(n int) *[]byte {
	bp := bufs.Get(n)
	*bp = (*bp)[:0]
	return bp
}

// putBuf returns a buffer from getBuf to its pool. The caller must not use
// it, nor any slice of it, afterwards.
func putBuf(bp *[]byte) { bufs.Put(bp) }

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
