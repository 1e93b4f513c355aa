package sipserver_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/sipws/sipws/conformance/sipserver"
)

// A wss server on a free loopback port answers an OPTIONS ping.
func Example() {
	s, err := sipserver.Start(sipserver.Options{TLS: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	u, _ := url.Parse(s.URL())
	fmt.Println(u.Scheme, u.Hostname())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := websocket.Dialer{Subprotocols: []string{"sip"}, TLSClientConfig: s.ClientTLSConfig()}
	c, _, err := d.DialContext(ctx, s.URL(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	fmt.Println("subprotocol:", c.Subprotocol())

	c.WriteMessage(websocket.TextMessage, []byte("OPTIONS sip:127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/WSS ua.invalid;branch=z9hG4bK1\r\n"+
		"From: <sip:probe@127.0.0.1>;tag=p\r\n"+
		"To: <sip:127.0.0.1>\r\n"+
		"Call-ID: example\r\n"+
		"CSeq: 1 OPTIONS\r\n"+
		"Content-Length: 0\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, answer, err := c.ReadMessage()
	if err != nil {
		fmt.Println(err)
		return
	}
	status, _, _ := strings.Cut(string(answer), "\r\n")
	fmt.Println(status)
	// Output:
	// wss 127.0.0.1
	// subprotocol: sip
	// SIP/2.0 200 OK
}
