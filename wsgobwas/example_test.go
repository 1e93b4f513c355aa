package wsgobwas_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
	"github.com/sipws/sipws/wsgobwas"
)

// A transport on gobwas/ws sends an OPTIONS to a loopback server and gets
// its 200 OK through Events.Message.
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
	answers := make(chan string, 1)
	t, err := wsgobwas.New(transport.Config{
		Servers: servers,
		Events: transport.Events{
			// m is valid only during the call: keep a copy of what is needed.
			Message: func(m *sipmsg.Message) {
				answers <- fmt.Sprintf("%d %s", m.StatusCode(), m.Reason())
			},
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := t.Connect(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("status:", t.Status())
	err = t.Send(ctx, []byte("OPTIONS sip:127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n"+
		"To: <sip:127.0.0.1>\r\nFrom: <sip:alice@127.0.0.1>;tag=1928301774\r\n"+
		"Call-ID: a84b4c76e66710\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	select {
	case a := <-answers:
		fmt.Println("answer:", a)
	case <-ctx.Done():
		fmt.Println("no answer:", ctx.Err())
	}
	if err := t.Disconnect(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("status:", t.Status())
	// Output:
	// status: OPEN
	// answer: 200 OK
	// status: CLOSED
}
