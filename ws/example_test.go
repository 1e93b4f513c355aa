package ws_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
	"github.com/sipws/sipws/ws"
)

// A transport on gorilla/websocket sends an OPTIONS to a loopback
// SIP-over-WebSocket server and receives its 200 OK.
func Example() {
	srv, err := sipserver.Start(sipserver.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	servers, err := selector.Parse(srv.URL())
	if err != nil {
		fmt.Println(err)
		return
	}
	t, err := ws.New(transport.Config{Servers: servers})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Disconnect right after New: a Connect that fails leaves recovery
	// dialing in the background until Disconnect.
	defer t.Disconnect(context.Background())
	responses := make(chan string, 1)
	t.SetEvents(transport.Events{
		// m is valid only during the call: keep a copy of what is needed.
		Message: func(m *sipmsg.Message) {
			responses <- fmt.Sprintf("%d %s (%s)", m.StatusCode(), m.Reason(), m.Header("CSeq"))
		},
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Connect(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("status:", t.Status())
	err = t.Send(ctx, []byte("OPTIONS sip:127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n"+
		"From: <sip:alice@127.0.0.1>;tag=1928301774\r\n"+
		"To: <sip:127.0.0.1>\r\n"+
		"Call-ID: a84b4c76e66710\r\n"+
		"CSeq: 1 OPTIONS\r\n"+
		"Content-Length: 0\r\n\r\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	select {
	case r := <-responses:
		fmt.Println("answer:", r)
	case <-ctx.Done():
		fmt.Println("no answer:", ctx.Err())
	}
	if err := t.Disconnect(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println("status:", t.Status())
	// Output:
	// status: OPEN
	// answer: 200 OK (1 OPTIONS)
	// status: CLOSED
}
