package transport_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
	"github.com/sipws/sipws/ws"
)

// A SIP.js configuration loads into a Config with encoding/json, whatever
// its generation: here a whole SIP.js 0.21 UA configuration, whose
// transport options sit in "transportOptions" and whose reconnection
// options are the UA's. Options that are not the transport's (uri,
// authorizationUsername...) are ignored. A 0.1x "wsServers" configuration
// loads the same way.
func ExampleConfig_UnmarshalJSON() {
	const sipjs = `{
		"uri": "sip:alice@example.com",
		"authorizationUsername": "alice",
		"authorizationPassword": "secret",
		"reconnectionAttempts": 0,
		"transportOptions": {
			"server": "wss://sip.example.com/ws",
			"connectionTimeout": 3,
			"keepAliveInterval": "25",
			"traceSip": true
		}
	}`
	var cfg transport.Config
	if err := json.Unmarshal([]byte(sipjs), &cfg); err != nil {
		fmt.Println(err) // one line per invalid option, each naming it
		return
	}
	fmt.Println("servers:", cfg.Servers)
	fmt.Println("connection timeout:", cfg.ConnectionTimeout)
	fmt.Println("keepalive interval:", cfg.KeepAliveInterval)
	fmt.Println("retries:", cfg.MaxReconnectionAttempts, "(an explicit 0: none)")
	fmt.Println("trace SIP:", cfg.TraceSIP)

	tr, err := ws.New(cfg) // or wsgobwas.New
	if err != nil {
		fmt.Println(err)
		return
	}
	// Disconnect right after New: a Connect that fails leaves recovery
	// dialing in the background until Disconnect.
	defer tr.Disconnect(context.Background())
	fmt.Println("status:", tr.Status())
	// Output:
	// servers: [wss://sip.example.com:443/ws]
	// connection timeout: 3s
	// keepalive interval: 25s
	// retries: -1 (an explicit 0: none)
	// trace SIP: true
	// status: CLOSED
}

// A wss server whose certificate comes from a private root CA: give the
// root in Dial.TLSConfig.RootCAs. The transport verifies every server
// against its own host name (it sets ServerName per dial, on a clone);
// never turn verification off. Here the server is a loopback one with a
// certificate made at start; in production the roots come from a PEM file:
//
//	pem, err := os.ReadFile("/etc/sip/ca.pem")
//	...
//	roots := x509.NewCertPool()
//	if !roots.AppendCertsFromPEM(pem) { ... }
func ExampleConfig_wssPrivateRootCA() {
	srv, err := sipserver.Start(sipserver.Options{TLS: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	roots := srv.RootCAs()

	servers, err := selector.Parse(srv.URL()) // wss://127.0.0.1:PORT/
	if err != nil {
		fmt.Println(err)
		return
	}
	answers := make(chan string, 1)
	tr, err := ws.New(transport.Config{
		Servers: servers,
		Dial:    dialer.Options{TLSConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
		Events: transport.Events{
			Message: func(m *sipmsg.Message) { answers <- fmt.Sprintf("%d %s", m.StatusCode(), m.Reason()) },
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tr.Disconnect(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Connect(ctx); err != nil {
		fmt.Println(err) // without the root: x509: certificate signed by unknown authority
		return
	}
	err = tr.Send(ctx, []byte("OPTIONS sip:127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n"+
		"To: <sip:127.0.0.1>\r\nFrom: <sip:alice@127.0.0.1>;tag=1928301774\r\n"+
		"Call-ID: a84b4c76e66710\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	select {
	case a := <-answers:
		fmt.Println("OPTIONS over wss:", a)
	case <-ctx.Done():
		fmt.Println("no answer")
	}
	// Output:
	// OPTIONS over wss: 200 OK
}
