package ws

import (
	"fmt"
	"testing"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

func TestTransportSmoke(t *testing.T) {
	schemes(t, func(t *testing.T, useTLS bool) {
		s := startServer(t, sipserver.Options{TLS: useTLS})
		servers, err := selector.Parse(s.URL())
		if err != nil {
			t.Fatal(err)
		}
		answers := make(chan string, 1)
		disconnected := make(chan error, 1)
		tr, err := New(transport.Config{
			Servers: servers,
			Dial:    dialer.Options{TLSConfig: s.ClientTLSConfig()},
			Events: transport.Events{
				Message: func(m *sipmsg.Message) {
					answers <- fmt.Sprintf("%d %s %s", m.StatusCode(), m.Reason(), m.Header("CSeq"))
				},
				Disconnected: func(_ selector.Server, err error) { disconnected <- err },
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx := testContext(t)
		if err := tr.Connect(ctx); err != nil {
			t.Fatalf("Connect = %v", err)
		}
		if err := tr.Send(ctx, sipRequest(0)); err != nil {
			t.Fatalf("Send = %v", err)
		}
		if got := wstest.Await(t, answers); got != "200 OK 1 OPTIONS" {
			t.Errorf("Events.Message got %q, want the 200 to the OPTIONS", got)
		}
		conns := s.Conns()
		if len(conns) != 1 {
			t.Fatalf("server has %d connections, want 1", len(conns))
		}
		if err := tr.Disconnect(ctx); err != nil {
			t.Fatalf("Disconnect = %v", err)
		}
		if err := wstest.Await(t, disconnected); err != nil {
			t.Errorf("Disconnected with %v, want nil after Disconnect", err)
		}
		if st := tr.Status(); st != transport.StatusClosed {
			t.Errorf("Status = %v, want CLOSED", st)
		}
		if code, _ := closeReceived(t, s, conns[0]); code != dialer.CloseNormalClosure {
			t.Errorf("server got close %d, want 1000", code)
		}
	})
}
