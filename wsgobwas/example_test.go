package wsgobwas_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/transport"
	"github.com/sipws/sipws/wsgobwas"
)

// A fleet of user agents in one process: every transport shares one
// Dialer with small read buffers (2 KiB per idle connection), and
// dialer.Limit lets at most 8 handshakes run at once, so that a server
// coming back after an outage is not flooded.
func Example() {
	srv, _ := sipserver.Start(sipserver.Options{}) // a loopback SIP-over-WebSocket server
	defer srv.Close()
	cfg := transport.Config{Servers: selector.Servers{{URI: srv.URL()}}}
	shared := dialer.Limit(&wsgobwas.Dialer{ReadBufferSize: 2048}, 8)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var fleet []*transport.Base
	for range 20 {
		t, err := transport.NewBase(cfg, shared)
		if err != nil {
			fmt.Println(err)
			return
		}
		// Disconnect right after New: a Connect that fails leaves
		// recovery dialing in the background until Disconnect.
		defer t.Disconnect(context.Background())
		fleet = append(fleet, t)
		if err := t.Connect(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("open:", len(srv.Conns()), "connections")
	for _, t := range fleet {
		t.Disconnect(ctx)
	}
	fmt.Println("status:", fleet[0].Status())
	// Output:
	// open: 20 connections
	// status: CLOSED
}
