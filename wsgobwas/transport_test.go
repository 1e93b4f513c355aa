package wsgobwas

import (
	"context"
	"testing"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/internal/race"
	"github.com/sipws/sipws/internal/wstest"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// sipResponse is a 200 OK that passes the transport's sanity checks.
var sipResponse = []byte("SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n" +
	"To: <sip:127.0.0.1>;tag=srv1\r\nFrom: <sip:alice@127.0.0.1>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")

// deliveriesPerRun is how many received messages one run of the receiving
// case of TestTransportZeroAllocs waits for.
const deliveriesPerRun = 64

// TestTransportZeroAllocs proves the point of the package through the type
// users hold: with the Base on top, a Send (with a context that cannot be
// cancelled) and a received message delivered to Events.Message cost no
// allocation once warm.
func TestTransportZeroAllocs(t *testing.T) {
	tests := []struct {
		name string
		send bool
	}{
		{name: "Send 700 B", send: true},
		{name: "Events.Message of a 200 OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			delivered := make(chan struct{})
			stop := make(chan struct{}) // frees the read loop for Disconnect
			srv := drainServer(t)
			if !tt.send {
				srv = floodServer(t, ws.NewTextFrame(sipResponse))
			}
			servers, err := selector.Parse(srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			tr, err := New(transport.Config{
				Servers: servers,
				Events: transport.Events{Message: func(*sipmsg.Message) {
					select {
					case delivered <- struct{}{}:
					case <-stop:
					}
				}},
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), wstest.Wait)
			defer cancel()
			if err := tr.Connect(ctx); err != nil {
				t.Fatal(err)
			}
			defer func() {
				close(stop)
				if err := tr.Disconnect(ctx); err != nil {
					t.Errorf("Disconnect = %v, want nil", err)
				}
			}()

			msg := sipMessage(700)
			var opErr error
			op := func() {
				if tt.send {
					if err := tr.Send(context.Background(), msg); err != nil {
						opErr = err
					}
					return
				}
				// The read loop runs ahead of this goroutine, and
				// AllocsPerRun rounds down: a batch per run keeps one
				// allocation per message from hiding in the lag.
				for range deliveriesPerRun {
					select {
					case <-delivered:
					case <-ctx.Done():
						opErr = ctx.Err()
						return
					}
				}
			}
			for range 20 { // warm the pools
				op()
			}
			allocs := testing.AllocsPerRun(500, op)
			if !tt.send {
				allocs /= deliveriesPerRun
			}
			if opErr != nil {
				t.Fatal(opErr)
			}
			if race.Enabled {
				t.Skip("sync.Pool drops items under -race; allocations are counted without -race")
			}
			if allocs != 0 {
				t.Errorf("%v allocations per message, want 0", allocs)
			}
		})
	}
}
