package sipgows_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipgows"
	"github.com/sipws/sipws/transport"
	"github.com/sipws/sipws/ws"
)

// A sipgo user agent registered over sipws, with two servers: it registers
// on the preferred one and, when that one goes away, again on the other as
// soon as the transport reports Connected. Two loopback servers play the
// registrars.
func Example() {
	primary, _ := sipserver.Start(sipserver.Options{})
	defer primary.Close()
	backup, _ := sipserver.Start(sipserver.Options{})
	defer backup.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan string, 2)

	var register func(selector.Server)
	tr, err := ws.New(transport.Config{ // or wsgobwas.New
		Servers:                 selector.Servers{{URI: primary.URL(), Weight: 10}, {URI: backup.URL(), Weight: 1}},
		KeepAliveInterval:       30 * time.Second,
		MaxReconnectionAttempts: -1, // fail over at once (the default: 3 retries, 4 s apart)
		Events:                  transport.Events{Connected: func(s selector.Server) { go register(s) }},
	})
	if err != nil {
		panic(err)
	}
	defer tr.Disconnect(context.Background())
	bridge, _ := sipgows.New(sipgows.Config{Transport: tr})
	defer bridge.Close()
	ua, _ := sipgo.NewUA(bridge.UserAgentOption(), sipgo.WithUserAgent("alice"), sipgo.WithUserAgentHostname("example.com"))
	defer ua.Close()
	client, _ := sipgo.NewClient(ua)
	register = func(s selector.Server) {
		req := sip.NewRequest(sip.REGISTER, sip.Uri{User: "alice", Host: "example.com"})
		req.AppendHeader(sip.NewHeader("Contact", "<sip:alice@"+bridge.Host()+";transport=ws>"))
		bridge.Prepare(req)
		res, err := client.Do(ctx, req, sipgo.ClientRequestRegisterBuild)
		if err != nil {
			done <- err.Error()
			return
		}
		done <- fmt.Sprintf("%s: REGISTER %d", map[bool]string{true: "primary", false: "backup"}[s.URI == primary.URL()], res.StatusCode)
	}
	if err := tr.Connect(ctx); err != nil {
		panic(err)
	}

	fmt.Println(<-done)
	primary.SetHandshake(sipserver.HandshakeCloseTCP) // the primary goes down
	primary.DropAll()
	fmt.Println(<-done)
	// Output:
	// primary: REGISTER 200
	// backup: REGISTER 200
}

// The README's setup: a sipgo user agent that registers on every Connected,
// the first and each after a failover. (Compiled, not run: the servers are
// examples.)
func ExampleBridge_UserAgentOption() {
	ctx := context.Background()
	run := func() error {
		var register func()
		tr, err := ws.New(transport.Config{ // or wsgobwas.New
			Servers: selector.Servers{
				{URI: "wss://sip1.example.com/ws", Weight: 10},
				{URI: "wss://sip2.example.com/ws", Weight: 1},
			},
			KeepAliveInterval:    30 * time.Second,
			KeepAlivePongTimeout: 10 * time.Second,
			Events:               transport.Events{Connected: func(selector.Server) { go register() }},
		})
		if err != nil {
			return err
		}
		defer tr.Disconnect(context.Background()) // right after New: recovery runs until Disconnect
		bridge, _ := sipgows.New(sipgows.Config{Transport: tr})
		defer bridge.Close()
		ua, _ := sipgo.NewUA(bridge.UserAgentOption(), sipgo.WithUserAgent("alice"), sipgo.WithUserAgentHostname("example.com"))
		defer ua.Close()
		client, _ := sipgo.NewClient(ua)
		register = func() { // on every Connected: the first, and after each failover
			req := sip.NewRequest(sip.REGISTER, sip.Uri{User: "alice", Host: "example.com"})
			req.AppendHeader(sip.NewHeader("Contact", "<sip:alice@"+bridge.Host()+";transport=ws>"))
			bridge.Prepare(req) // transport WS, a destination without DNS
			res, err := client.Do(ctx, req, sipgo.ClientRequestRegisterBuild)
			log.Println("REGISTER:", res, err)
		}
		return tr.Connect(ctx) // Connected fires, and register runs
	}
	_ = run
}
