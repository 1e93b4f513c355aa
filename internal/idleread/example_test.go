package idleread_test

import (
	"fmt"
	"net"

	"github.com/sipws/sipws/internal/idleread"
)

// A Reader holds its buffer only while what it read is unread.
func Example() {
	client, server := net.Pipe()
	defer client.Close()
	r := idleread.NewReader(client, 256)
	go func() {
		server.Write([]byte("hello"))
		server.Close()
	}()
	p, _ := r.Peek(5)
	fmt.Printf("%s, holding a buffer: %v\n", p, r.Holding())
	r.Discard(5)
	r.Idle()
	fmt.Println("after Idle, holding a buffer:", r.Holding())
	// Output:
	// hello, holding a buffer: true
	// after Idle, holding a buffer: false
}
