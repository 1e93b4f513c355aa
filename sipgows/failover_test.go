package sipgows

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// edge is an in-memory registrar: it answers every request but ACK with a
// stateless 200 and records the methods it got.
type edge struct {
	mu  sync.Mutex
	got []string
}

func (e *edge) serve(c *dialertest.ServerConn) {
	for {
		p, err := c.ReadMessage()
		if err != nil {
			return
		}
		var req sipmsg.Message
		if req.Parse(p) != nil || !req.IsRequest() {
			continue
		}
		e.mu.Lock()
		e.got = append(e.got, string(req.Method()))
		e.mu.Unlock()
		if string(req.Method()) != "ACK" {
			c.WriteMessage(sipmsg.AppendResponse(nil, &req, 200, "OK", "edge"))
		}
	}
}

func (e *edge) methods() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

type registration struct {
	server string
	status int
	err    error
	at     time.Time
}

// TestFailoverReRegistersOnConnected: the transport loses its preferred
// server, retries it, fails over to the other; the user's Connected reaches
// the sipgo UA through the bridge, which registers again there; a request
// sent during the outage fails at once with transport.ErrNotConnected;
// sipgo's pipe never notices (one pipe from start to end). Virtual time:
// the reconnection schedule runs exactly.
func TestFailoverReRegistersOnConnected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const retryWait = 2 * time.Second
		n := dialertest.NewNetwork(t)
		var e1, e2 edge
		l1 := n.Listen("ws://edge1.test:80", e1.serve)
		n.Listen("ws://edge2.test:80", e2.serve)
		servers, err := selector.Parse("ws://edge2.test", "ws://edge1.test")
		if err != nil {
			t.Fatal(err)
		}
		servers[1].Weight = 10 // edge1 preferred

		ev := &eventLog{}
		user := ev.events()
		registered := make(chan registration, 4)
		var register func(s selector.Server)
		logConnected := user.Connected
		user.Connected = func(s selector.Server) {
			logConnected(s)
			go register(s) // a callback must not wait for the transport
		}
		tr, err := transport.NewBase(transport.Config{
			Servers:                 servers,
			ViaHost:                 testViaHost,
			MaxReconnectionAttempts: 2,
			ReconnectionTimeout:     retryWait,
			ReconnectionJitter:      -1, // SIP.js's exact schedule
			Events:                  user,
		}, n)
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(Config{Transport: tr})
		if err != nil {
			t.Fatal(err)
		}
		ua, err := sipgo.NewUA(b.UserAgentOption())
		if err != nil {
			t.Fatal(err)
		}
		client, _ := sipgo.NewClient(ua)
		ctx := context.Background()
		register = func(s selector.Server) {
			req := newRequest(b, sip.REGISTER, "alice")
			req.AppendHeader(sip.NewHeader("Contact", "<sip:alice@"+b.Host()+";transport=ws>"))
			res, err := client.Do(ctx, req, sipgo.ClientRequestRegisterBuild)
			r := registration{server: s.URI, err: err, at: time.Now()}
			if res != nil {
				r.status = res.StatusCode
			}
			registered <- r
		}
		defer func() {
			ua.Close()
			b.Close()
			tr.Disconnect(ctx)
		}()

		if err := tr.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		if r := <-registered; r.server != "ws://edge1.test:80" || r.status != 200 {
			t.Fatalf("first registration %+v, want 200 from edge1", r)
		}

		l1.SetMode(dialertest.Refuse)
		l1.DropAll()
		dropped := time.Now()
		synctest.Wait() // edge1 lost, retried at once (refused); the next retry waits retryWait

		_, err = client.Do(ctx, newRequest(b, sip.OPTIONS, ""))
		if !errors.Is(err, transport.ErrNotConnected) || !errors.Is(err, sip.ErrTransactionTransport) || time.Since(dropped) != 0 {
			t.Errorf("Do during the outage: %v after %v; want at once an error wrapping transport.ErrNotConnected "+
				"and sip.ErrTransactionTransport", err, time.Since(dropped))
		}

		r := <-registered
		if r.server != "ws://edge2.test:80" || r.status != 200 || r.at.Sub(dropped) != retryWait {
			t.Errorf("registration after the drop %+v, %v after it; want 200 from edge2 after exactly %v "+
				"(two retries on edge1, the second after ReconnectionTimeout, then edge2 at once)", r, r.at.Sub(dropped), retryWait)
		}
		if got := e2.methods(); !slices.Equal(got, []string{"REGISTER"}) {
			t.Errorf("edge2 got %q, want the REGISTER sent on Connected", got)
		}
		if st := b.Stats(); st.PipesOpened != 1 || st.Pipes != 1 || st.SendErrors != 1 {
			t.Errorf("bridge stats %+v, want one pipe from start to end (sipgo never noticed) and one send error", st)
		}
		// Every event reached the user through the bridge.
		for _, want := range []struct {
			prefix string
			n      int
		}{{"connected ws://edge1.test:80", 1}, {"connected ws://edge2.test:80", 1},
			{"disconnected ws://edge1.test:80", 1}, {"transport error", 1}, {"status OPEN -> CLOSED", 1}} {
			if got := ev.count(want.prefix); got != want.n {
				events, _ := ev.snapshot()
				t.Errorf("%d events %q, want %d; events %q", got, want.prefix, want.n, events)
			}
		}
	})
}

// TestEventsPassThrough: the bridge calls the user's callbacks for every
// event, those the transport had and those given to SetEvents later; Close
// gives the transport its user's callbacks back.
func TestEventsPassThrough(t *testing.T) {
	var got []string
	rec := func(name string) transport.Events {
		return transport.Events{
			Connected:      func(selector.Server) { got = append(got, name+" connected") },
			Disconnected:   func(selector.Server, error) { got = append(got, name+" disconnected") },
			Message:        func(*sipmsg.Message) { got = append(got, name+" message") },
			MessageDropped: func([]byte, error) { got = append(got, name+" dropped") },
			TransportError: func(error) { got = append(got, name+" transport error") },
			StatusChanged:  func(_, _ transport.Status) { got = append(got, name+" status") },
		}
	}
	fire := func(e transport.Events) {
		e.Connected(selector.Server{})
		e.Disconnected(selector.Server{}, nil)
		var m sipmsg.Message
		m.Parse([]byte(options))
		e.Message(&m)
		e.MessageDropped(nil, nil)
		e.TransportError(nil)
		e.StatusChanged(transport.StatusClosed, transport.StatusConnecting)
	}
	want := func(name string) []string {
		var w []string
		for _, e := range []string{"connected", "disconnected", "message", "dropped", "transport error", "status"} {
			w = append(w, name+" "+e)
		}
		return w
	}
	f := newFake(transport.Config{Events: rec("config")})
	b, err := New(Config{Transport: f})
	if err != nil {
		t.Fatal(err)
	}
	fire(*f.ev.Load())
	if !slices.Equal(got, want("config")) {
		t.Errorf("events %q, want %q", got, want("config"))
	}
	got = nil
	b.SetEvents(rec("later"))
	fire(*f.ev.Load())
	if !slices.Equal(got, want("later")) {
		t.Errorf("after SetEvents: events %q, want %q", got, want("later"))
	}
	b.Close()
	got = nil
	fire(*f.ev.Load())
	if !slices.Equal(got, want("later")) || b.Stats().Queued != 0 {
		t.Errorf("after Close: events %q (queued %d), want %q straight from the transport", got, b.Stats().Queued, want("later"))
	}
}
