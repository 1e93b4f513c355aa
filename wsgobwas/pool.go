package wsgobwas

import "github.com/sipws/sipws/internal/bufpool"

// bufs pools read, write and reassembly buffers, from 256 B up.
var bufs = bufpool.New(256)

func getBuf(n int) *[]byte { return bufs.Get(n) }
func putBuf(bp *[]byte)    { bufs.Put(bp) }
