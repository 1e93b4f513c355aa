package bufpool_test

import (
	"fmt"

	"github.com/sipws/sipws/internal/bufpool"
)

func Example() {
	pool := bufpool.New(256)
	bp := pool.Get(700) // a message of 700 bytes
	fmt.Println(len(*bp), cap(*bp))
	pool.Put(bp) // done with it: the next Get of up to 1 KiB may reuse it
	// Output: 700 1024
}
