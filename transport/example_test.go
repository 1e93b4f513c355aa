package transport_test

import (
	"context"
	"fmt"

	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// A SIP stack handed a transport subscribes to it with SetEvents. Events
// are callbacks so a message is delivered without a copy; a stack that
// prefers a channel copies what it keeps, as here.
func Example() {
	// An in-memory server that answers OPTIONS; real code uses ws.New or
	// wsgobwas.New, whose dialers open real sockets.
	var network dialertest.Network
	network.Listen("ws://127.0.0.1:80", func(c *dialertest.ServerConn) {
		for {
			p, err := c.ReadMessage()
			if err != nil {
				return
			}
			var req sipmsg.Message
			if req.Parse(p) == nil {
				c.WriteMessage(sipmsg.AppendResponse(nil, &req, 200, "OK", "srv1"))
			}
		}
	})

	servers, _ := selector.Parse("ws://127.0.0.1")
	t, err := transport.NewBase(transport.Config{Servers: servers}, &network)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Disconnect right after New: a Connect that fails leaves recovery
	// dialing in the background until Disconnect.
	defer t.Disconnect(context.Background())
	responses := make(chan string, 1)
	t.SetEvents(transport.Events{
		Connected: func(s selector.Server) { fmt.Println("connected to", s.URI) },
		Message: func(m *sipmsg.Message) {
			responses <- fmt.Sprintf("%d %s", m.StatusCode(), m.Reason())
		},
	})

	ctx := context.Background()
	if err := t.Connect(ctx); err != nil {
		fmt.Println(err)
		return
	}
	err = t.Send(ctx, []byte("OPTIONS sip:127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n"+
		"To: <sip:127.0.0.1>\r\nFrom: <sip:alice@127.0.0.1>;tag=1928301774\r\n"+
		"Call-ID: a84b4c76e66710\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("answer:", <-responses)
	t.Disconnect(ctx)
	fmt.Println("status:", t.Status())
	// Output:
	// connected to ws://127.0.0.1:80
	// answer: 200 OK
	// status: CLOSED
}
