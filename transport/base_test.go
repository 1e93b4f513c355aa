package transport

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
)

// TestConnectShared: concurrent Connect calls share one attempt, and
// Connect while OPEN returns nil at once without dialing (SPEC.md
// "Connecting", 7).
func TestConnectShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://slow")
		s := newSetup(t, Config{Servers: ss, ConnectionTimeout: 10 * time.Second})
		l := s.net.Listen(ss[0].URI, sipServer(false, nil))
		l.SetMode(dialertest.Stall)
		var wg sync.WaitGroup
		errs := make(chan error, 5)
		for range 5 {
			wg.Go(func() { errs <- s.b.Connect(context.Background()) })
		}
		synctest.Wait()
		l.SetMode(dialertest.Accept) // the stalled dial times out, the retry is accepted
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Connect = %v, want nil", err)
			}
		}
		if got, want := s.rec.dials(), []string{"slow:80@0s", "slow:80@10s"}; !equal(got, want) {
			t.Errorf("dials = %q, want %q: one attempt shared by five Connect calls", got, want)
		}
		before := time.Now()
		if err := s.b.Connect(context.Background()); err != nil || time.Since(before) != 0 {
			t.Errorf("Connect while OPEN = %v after %v, want nil at once", err, time.Since(before))
		}
		if n := len(s.rec.dials()); n != 2 {
			t.Errorf("Connect while OPEN dialed: %d dials", n)
		}
	})
}

// TestRefusedHandshakesAreFailedAttempts: a server that does not select
// the sip subprotocol, or answers the upgrade with an HTTP error, fails the
// attempt like a refused connection (SPEC.md "Server URIs"), and the cause
// reaches Connect's error.
func TestRefusedHandshakesAreFailedAttempts(t *testing.T) {
	for _, tc := range []struct {
		mode dialertest.Mode
		want func(error) bool
	}{
		{dialertest.NoSubprotocol, func(err error) bool { return errors.Is(err, dialer.ErrSubprotocol) }},
		{dialertest.RejectHandshake, func(err error) bool {
			var he *dialer.HandshakeError
			return errors.As(err, &he) && he.StatusCode == 503
		}},
	} {
		synctest.Test(t, func(t *testing.T) {
			ss := servers(t, "ws://a")
			s := newSetup(t, Config{Servers: ss})
			s.net.Listen(ss[0].URI, nil).SetMode(tc.mode)
			err := s.b.Connect(context.Background())
			if !tc.want(err) {
				t.Fatalf("mode %v: Connect = %v", tc.mode, err)
			}
			if got, want := s.rec.dials(), []string{"a:80@0s", "a:80@0s", "a:80@4s", "a:80@8s"}; !equal(got, want) {
				t.Errorf("mode %v: dials = %q, want the schedule of a dead server %q", tc.mode, got, want)
			}
		})
	}
}

// TestStatusChangedInOrder: every transition is reported, in order, from
// the first dial to the end of Disconnect.
func TestStatusChangedInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a")
		s := newSetup(t, Config{Servers: ss})
		l := s.net.Listen(ss[0].URI, sipServer(false, nil))
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		l.DropAll()
		synctest.Wait()
		if err := s.b.Disconnect(context.Background()); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range s.log.get() {
			if strings.Contains(e, "->") {
				got = append(got, e)
			}
		}
		want := []string{"CLOSED->CONNECTING", "CONNECTING->OPEN", "OPEN->CLOSED",
			"CLOSED->CONNECTING", "CONNECTING->OPEN", "OPEN->CLOSING", "CLOSING->CLOSED"}
		if !equal(got, want) {
			t.Errorf("transitions = %q, want %q", got, want)
		}
		if st := s.b.Status(); st != StatusClosed {
			t.Errorf("status after Disconnect = %v", st)
		}
	})
}

// TestSetEvents: SetEvents swaps the callbacks while messages flow; the next
// message goes to the new set only.
func TestSetEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, srv := connected(t, Config{})
		msg := response(200, "c1", "SIP/2.0/WS x.invalid;branch=z9hG4bK1")
		srv.WriteMessage([]byte(msg))
		synctest.Wait()
		var mine []string
		s.b.SetEvents(Events{Message: func(m *sipmsg.Message) { mine = append(mine, string(m.Bytes())) }})
		srv.WriteMessage([]byte(msg))
		synctest.Wait()
		if n := len(s.log.messages()); n != 1 {
			t.Errorf("the old callbacks got %d messages, want 1 (before the swap)", n)
		}
		if len(mine) != 1 || mine[0] != msg {
			t.Errorf("the new callbacks got %q, want the second message", mine)
		}
	})
}

// TestSendRacesDisconnect: Sends racing Disconnect each return nil (the
// frame was written) or ErrNotConnected; afterwards every Send returns
// ErrNotConnected.
func TestSendRacesDisconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, srv := connected(t, Config{})
		go func() {
			for {
				if _, err := srv.ReadMessage(); err != nil {
					return
				}
			}
		}()
		var wg sync.WaitGroup
		var mu sync.Mutex
		written := 0
		for range 8 {
			wg.Go(func() {
				for range 100 {
					err := s.b.Send(context.Background(), []byte(options))
					switch {
					case err == nil:
						mu.Lock()
						written++
						mu.Unlock()
					case errors.Is(err, ErrNotConnected):
					default:
						t.Errorf("Send = %v, want nil or ErrNotConnected", err)
						return
					}
				}
			})
		}
		if err := s.b.Disconnect(context.Background()); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if err := s.b.Send(context.Background(), []byte(options)); !errors.Is(err, ErrNotConnected) {
			t.Errorf("Send after Disconnect = %v, want ErrNotConnected", err)
		}
		if st := s.b.Stats(); st.MessagesOut != uint64(written) {
			t.Errorf("MessagesOut = %d, but %d Sends returned nil", st.MessagesOut, written)
		}
	})
}

// TestTraceSIP: with TraceSIP, each message in and out is logged at Trace
// level with credentials redacted; without it nothing is.
func TestTraceSIP(t *testing.T) {
	const secret = `Digest username="alice", response="6629fae49393a05397450978507c4ef1"`
	req := strings.Replace(options, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nAuthorization: "+secret+"\r\n", 1)
	for _, trace := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			var buf bytes.Buffer
			var mu sync.Mutex
			logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: lockedWriter{&mu, &buf}})
			s, srv := connected(t, Config{TraceSIP: trace, Logger: logger})
			if err := s.b.Send(context.Background(), []byte(req)); err != nil {
				t.Fatal(err)
			}
			<-srvIn(srv)
			srv.WriteMessage([]byte(response(200, "c1", "SIP/2.0/WS x.invalid;branch=z9hG4bK1")))
			synctest.Wait()
			mu.Lock()
			out := buf.String()
			mu.Unlock()
			if strings.Contains(out, "6629fae4") {
				t.Errorf("the credentials reached the log:\n%s", out)
			}
			sent, got := strings.Contains(out, "SIP sending"), strings.Contains(out, "SIP received")
			if sent != trace || got != trace {
				t.Errorf("TraceSIP=%v: logged sent=%v received=%v\n%s", trace, sent, got, out)
			}
			if trace && !strings.Contains(out, "Digest <redacted>") {
				t.Errorf("no redacted Authorization in the trace:\n%s", out)
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestConnectReturnsAfterConnected: a SIP stack that sets up in Connected
// finds it done when Connect returns.
func TestConnectReturnsAfterConnected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a")
		s := newSetup(t, Config{Servers: ss})
		s.net.Listen(ss[0].URI, sipServer(false, nil))
		release := make(chan struct{})
		var connected bool
		s.b.SetEvents(Events{Connected: func(selector.Server) {
			<-release // a slow callback
			connected = true
		}})
		returned := make(chan error)
		go func() { returned <- s.b.Connect(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-returned:
			t.Fatalf("Connect returned (%v) while Connected was still running", err)
		default:
		}
		close(release)
		if err := <-returned; err != nil || !connected {
			t.Fatalf("Connect = %v, connected = %v", err, connected)
		}
	})
}

// TestEventsGetter: Events returns Config.Events at first, then what
// SetEvents set.
func TestEventsGetter(t *testing.T) {
	var calls []string
	b, err := NewBase(Config{Servers: servers(t, "ws://a"),
		Events: Events{Connected: func(selector.Server) { calls = append(calls, "config") }}}, dialertest.NewNetwork(t))
	if err != nil {
		t.Fatal(err)
	}
	b.Events().Connected(selector.Server{})
	b.SetEvents(Events{Connected: func(selector.Server) { calls = append(calls, "set") }})
	b.Events().Connected(selector.Server{})
	if b.Events().Message != nil || !equal(calls, []string{"config", "set"}) {
		t.Errorf("calls %q", calls)
	}
}

// TestServersAccessor: Servers returns the normalised list, a copy.
func TestServersAccessor(t *testing.T) {
	b, err := NewBase(Config{Servers: selector.Servers{{URI: "WS://A"}, {URI: "wss://b", Weight: 2}}}, dialertest.NewNetwork(t))
	if err != nil {
		t.Fatal(err)
	}
	ss := b.Servers()
	if len(ss) != 2 || ss[0].URI != "ws://a:80" || ss[1].URI != "wss://b:443" || ss[1].Weight != 2 {
		t.Fatalf("Servers() = %+v", ss)
	}
	ss[0].URI = "changed"
	if b.Servers()[0].URI != "ws://a:80" {
		t.Error("Servers() handed out the transport's own list")
	}
}
