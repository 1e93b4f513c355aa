package memws_test

import (
	"context"
	"fmt"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/memws"
)

// A Network is a dialer.Dialer whose servers are handlers in the same
// process; tests put a transport over it inside a synctest bubble.
func Example() {
	var n memws.Network
	l := n.Listen("ws://sip.test:80", func(c *memws.ServerConn) {
		for {
			p, err := c.ReadMessage()
			if err != nil {
				return
			}
			c.WriteMessage(append([]byte("echo: "), p...))
		}
	})
	c, err := n.Dial(context.Background(), "ws://sip.test:80", dialer.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c.WriteMessage([]byte("hello"))
	p, _ := c.ReadMessage()
	fmt.Printf("%s\n", p)
	c.Close(dialer.CloseNormalClosure, "")
	l.Wait()

	l.SetMode(memws.Refuse)
	_, err = n.Dial(context.Background(), "ws://sip.test:80", dialer.Options{})
	fmt.Println(err)
	// Output:
	// echo: hello
	// memws: dial ws://sip.test:80: memws: connection refused
}
