package wsgobwas

import (
	"bufio"
	"io"
	"sync"

	"github.com/sipws/sipws/internal/bufpool"
)

// bufs pools write buffers and reassembly buffers, from 256 B up.
var bufs = bufpool.New(256)

func getBuf(n int) *[]byte { return bufs.Get(n) }
func putBuf(bp *[]byte)    { bufs.Put(bp) }

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
