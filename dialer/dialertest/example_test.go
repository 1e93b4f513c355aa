package dialertest_test

import (
	"context"
	"fmt"

	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// A transport over an in-memory Network: the server is a handler in the
// same process. In a test, wrap it in synctest.Test and create the Network
// with NewNetwork(t), and every timer of the transport runs in virtual
// time.
func Example() {
	n := new(dialertest.Network) // in a test: dialertest.NewNetwork(t)
	n.Listen("ws://edge.test:80", func(c *dialertest.ServerConn) {
		for { // a registrar that answers every request with 200 OK
			p, err := c.ReadMessage()
			if err != nil {
				return
			}
			var req sipmsg.Message
			if req.Parse(p) == nil && req.IsRequest() {
				c.WriteMessage(sipmsg.AppendResponse(nil, &req, 200, "OK", "srv"))
			}
		}
	})

	servers, _ := selector.Parse("ws://edge.test")
	answers := make(chan int, 1)
	tr, err := transport.NewBase(transport.Config{
		Servers: servers,
		Events:  transport.Events{Message: func(m *sipmsg.Message) { answers <- m.StatusCode() }},
	}, n)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	defer tr.Disconnect(ctx)
	if err := tr.Connect(ctx); err != nil {
		fmt.Println(err)
		return
	}
	tr.Send(ctx, []byte("REGISTER sip:edge.test SIP/2.0\r\n"+
		"Via: SIP/2.0/WS ua.invalid;branch=z9hG4bK776\r\n"+
		"To: <sip:alice@edge.test>\r\nFrom: <sip:alice@edge.test>;tag=a1\r\n"+
		"Call-ID: r1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n"))
	fmt.Println("REGISTER answered", <-answers)
	fmt.Println("dials:", n.Dials())
	// Output:
	// REGISTER answered 200
	// dials: [ws://edge.test:80]
}
