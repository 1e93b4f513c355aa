package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/keepalive"
	"github.com/sipws/sipws/sipmsg"
)

// modeServer is a server that answers the keepalives of one mode only:
// CRLF pings with CRLF when crlf is set, OPTIONS with 200 when options is
// set (WebSocket pings are answered by the listener, SetAnswerPings). It
// records every OPTIONS it gets and passes nothing else on.
type modeServer struct {
	crlf, options bool

	mu   sync.Mutex
	opts []string
}

func (m *modeServer) handle(c *dialertest.ServerConn) {
	for {
		p, err := c.ReadMessage()
		if err != nil {
			return
		}
		switch {
		case string(p) == keepalive.CRLFPing:
			if m.crlf {
				c.WriteMessage([]byte(keepalive.CRLFPong))
			}
		case bytes.HasPrefix(p, []byte("OPTIONS ")):
			m.mu.Lock()
			m.opts = append(m.opts, string(p))
			m.mu.Unlock()
			var req sipmsg.Message
			if m.options && req.Parse(p) == nil {
				c.WriteMessage(sipmsg.AppendResponse(nil, &req, 200, "OK", "srv"))
			}
		}
	}
}

func (m *modeServer) requests() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.opts...)
}

// TestKeepaliveModes: in each mode the flow holds against a server that
// answers that mode, with the pong timeout on, for 5 periods; and a server
// that answers only CRLF (FreeSWITCH, OpenSIPS answer none over WebSocket,
// this is the opposite case) cuts a ws-ping or options flow at the pong
// timeout, as the same flow in CRLF mode is cut by a server that answers
// only WebSocket pings.
func TestKeepaliveModes(t *testing.T) {
	for _, tc := range []struct {
		mode                 keepalive.Mode
		crlf, options, wsPin bool // what the server answers
		holds                bool
	}{
		{keepalive.CRLF, true, false, false, true},
		{keepalive.CRLF, false, true, true, false},
		{keepalive.WebSocketPing, false, false, true, true},
		{keepalive.WebSocketPing, true, true, false, false},
		{keepalive.Options, false, true, false, true},
		{keepalive.Options, true, false, true, false},
	} {
		name := tc.mode.String() + "/holds"
		if !tc.holds {
			name = tc.mode.String() + "/cut"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ss := servers(t, "ws://a")
				s := newSetup(t, Config{Servers: ss, KeepAliveMode: tc.mode, KeepAliveInterval: 5 * time.Second,
					KeepAlivePongTimeout: 2 * time.Second})
				srv := &modeServer{crlf: tc.crlf, options: tc.options}
				l := s.net.Listen(ss[0].URI, srv.handle)
				l.SetAnswerPings(tc.wsPin)
				if err := s.b.Connect(context.Background()); err != nil {
					t.Fatal(err)
				}
				time.Sleep(26 * time.Second) // at least 5 periods of [4 s, 5 s), on the 100 ms keepalive clock
				st := s.b.Stats()
				if tc.holds {
					if n := len(l.Conns()); n != 1 || st.PongTimeouts != 0 {
						t.Errorf("%d connections, %d pong timeouts: want the one flow to hold", n, st.PongTimeouts)
					}
					if st.KeepalivesOut < 5 || st.KeepalivesIn < 5 {
						t.Errorf("keepalives out %d, in %d: want at least 5 each", st.KeepalivesOut, st.KeepalivesIn)
					}
				} else if st.PongTimeouts == 0 {
					t.Errorf("no pong timeout: the flow should be cut")
				}
				if len(s.log.messages()) != 0 {
					t.Errorf("keepalive traffic delivered as messages: %q", s.log.messages())
				}
				switch tc.mode {
				case keepalive.WebSocketPing:
					pings := l.Conns()[0].Pings()
					if len(pings) == 0 {
						t.Fatal("no WebSocket ping reached the server")
					}
					seen := map[string]bool{}
					for _, p := range pings {
						if seen[string(p)] {
							t.Errorf("ping payload %x sent twice, want a fresh payload per ping", p)
						}
						seen[string(p)] = true
					}
				case keepalive.Options:
					if tc.holds { // one connection: one Call-ID
						checkKeepaliveOptions(t, srv.requests())
					}
				}
			})
		})
	}
}

// checkKeepaliveOptions: the keepalive OPTIONS parse, pass the sanity
// checks, share one Call-ID and carry a new CSeq and branch each.
func checkKeepaliveOptions(t *testing.T, opts []string) {
	t.Helper()
	if len(opts) == 0 {
		t.Fatal("no OPTIONS reached the server")
	}
	var callID string
	branches := map[string]bool{}
	for i, o := range opts {
		var m sipmsg.Message
		if err := m.Parse([]byte(o)); err != nil {
			t.Fatalf("OPTIONS %d does not parse: %v\n%s", i, err, o)
		}
		if p := sipmsg.Check(&m, ""); p != sipmsg.OK {
			t.Fatalf("OPTIONS %d fails the sanity checks: %v\n%s", i, p, o)
		}
		if i == 0 {
			callID = string(m.Header("Call-ID"))
		} else if got := string(m.Header("Call-ID")); got != callID {
			t.Errorf("OPTIONS %d Call-ID %q, want the first one's %q", i, got, callID)
		}
		if want := strings.Fields(string(m.Header("CSeq"))); len(want) != 2 || want[1] != "OPTIONS" {
			t.Errorf("OPTIONS %d CSeq %q", i, m.Header("CSeq"))
		}
		branch := string(m.TopVia())
		if branches[branch] {
			t.Errorf("OPTIONS %d repeats Via %q", i, branch)
		}
		branches[branch] = true
	}
}

// noPing hides a connection's dialer.Pinger ability.
type noPing struct{ d dialer.Dialer }

func (n noPing) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	c, err := n.d.Dial(ctx, url, o)
	if err != nil {
		return nil, err
	}
	return struct{ dialer.Conn }{c}, nil
}

// TestWebSocketPingNeedsPinger: ws-ping over a backend without the ability
// fails Connect with an error naming the mode, and stops: no silent
// fallback, no retry.
func TestWebSocketPingNeedsPinger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a", "ws://b")
		s := newSetupWith(t, Config{Servers: ss, KeepAliveMode: keepalive.WebSocketPing, KeepAliveInterval: 5 * time.Second},
			func(d dialer.Dialer) dialer.Dialer { return noPing{d} })
		s.net.Listen(ss[0].URI, nil)
		s.net.Listen(ss[1].URI, nil)
		err := s.b.Connect(context.Background())
		if !errors.Is(err, ErrKeepAliveMode) || !strings.Contains(err.Error(), `"ws-ping"`) {
			t.Fatalf("Connect = %v, want ErrKeepAliveMode naming ws-ping", err)
		}
		time.Sleep(time.Minute)
		if n := len(s.rec.dials()); n != 1 {
			t.Errorf("%d dials, want 1: the mode error is permanent", n)
		}
		if st := s.b.Status(); st != StatusClosed {
			t.Errorf("status %v, want CLOSED", st)
		}
	})
}

// TestOptionsKeepaliveViaHost: the keepalive OPTIONS carries ViaHost, so
// that its answers pass the response Via check, and are consumed.
func TestOptionsKeepaliveViaHost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "wss://edge.example.com")
		s := newSetup(t, Config{Servers: ss, KeepAliveMode: keepalive.Options, KeepAliveInterval: 5 * time.Second,
			KeepAlivePongTimeout: 2 * time.Second, ViaHost: "me.invalid"})
		srv := &modeServer{options: true}
		s.net.Listen(ss[0].URI, srv.handle)
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(12 * time.Second)
		opts := srv.requests()
		checkKeepaliveOptions(t, opts)
		if !strings.HasPrefix(opts[0], "OPTIONS sip:edge.example.com;transport=ws SIP/2.0\r\nVia: SIP/2.0/WSS me.invalid;branch=z9hG4bK") {
			t.Errorf("OPTIONS starts %q", opts[0][:min(len(opts[0]), 120)])
		}
		if st := s.b.Stats(); st.PongTimeouts != 0 || st.Dropped != 0 {
			t.Errorf("stats %+v: the answers must be consumed as pongs", st)
		}
	})
}

// wsPingFlow connects a transport in ws-ping mode (5 s interval, 2 s pong
// timeout) to a server that reads and drops every message and answers the
// transport's Pings only when answerPings is set. It runs in a synctest
// bubble.
func wsPingFlow(t *testing.T, answerPings bool) (*setup, *dialertest.Listener) {
	t.Helper()
	ss := servers(t, "ws://a")
	s := newSetup(t, Config{Servers: ss, KeepAliveMode: keepalive.WebSocketPing, KeepAliveInterval: 5 * time.Second,
		KeepAlivePongTimeout: 2 * time.Second})
	l := s.net.Listen(ss[0].URI, func(c *dialertest.ServerConn) {
		for {
			if _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	})
	l.SetAnswerPings(answerPings)
	if err := s.b.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, l
}

// TestWebSocketPingWrongPayload: only the Pong echoing the latest ping's
// payload is a pong; a Pong with another payload leaves the ping
// unanswered, and the pong timeout cuts the flow.
func TestWebSocketPingWrongPayload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, l := wsPingFlow(t, false)
		srv := l.Conns()[0]
		for range 60 { // until the first ping, then a wrong pong
			time.Sleep(100 * time.Millisecond)
			if pings := srv.Pings(); len(pings) > 0 {
				wrong := bytes.Clone(pings[0])
				wrong[7] ^= 1
				srv.Pong(wrong)
				break
			}
		}
		time.Sleep(2*time.Second + keepalive.DefaultTick) // the deadline is on the keepalive clock
		if st := s.b.Stats(); st.PongTimeouts != 1 || st.KeepalivesIn != 0 {
			t.Errorf("pong timeouts %d, keepalives in %d: a wrong payload must not count as the pong", st.PongTimeouts, st.KeepalivesIn)
		}
	})
}

// TestOptionsKeepaliveAnyFinal: in options mode any final response is the
// pong, a 405 as well as a 200, and a provisional one is not: a server that
// answers only 100 Trying cuts the flow at the pong timeout. The answers
// are consumed either way, never delivered.
func TestOptionsKeepaliveAnyFinal(t *testing.T) {
	for _, tc := range []struct {
		name    string
		answers []int
		holds   bool
	}{
		{"100+405 holds", []int{100, 405}, true},
		{"100 only cut", []int{100}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ss := servers(t, "ws://a")
				s := newSetup(t, Config{Servers: ss, KeepAliveMode: keepalive.Options, KeepAliveInterval: 5 * time.Second,
					KeepAlivePongTimeout: 2 * time.Second})
				l := s.net.Listen(ss[0].URI, func(c *dialertest.ServerConn) {
					for {
						p, err := c.ReadMessage()
						if err != nil {
							return
						}
						var req sipmsg.Message
						if req.Parse(p) != nil || !bytes.Equal(req.Method(), []byte("OPTIONS")) {
							continue
						}
						for _, code := range tc.answers {
							c.WriteMessage(sipmsg.AppendResponse(nil, &req, code, "Answer", "srv"))
						}
					}
				})
				if err := s.b.Connect(context.Background()); err != nil {
					t.Fatal(err)
				}
				time.Sleep(26 * time.Second) // at least 5 periods of [4 s, 5 s)
				st := s.b.Stats()
				if tc.holds && (len(l.Conns()) != 1 || st.PongTimeouts != 0 || st.KeepalivesIn < 5) {
					t.Errorf("%d connections, %d pong timeouts, %d pongs: want the one flow to hold, 5 pongs or more", len(l.Conns()), st.PongTimeouts, st.KeepalivesIn)
				}
				if !tc.holds && st.PongTimeouts == 0 {
					t.Errorf("no pong timeout with only provisional answers: a 1xx must not count as the pong")
				}
				if m := s.log.messages(); len(m) != 0 {
					t.Errorf("keepalive answers delivered as messages: %q", m)
				}
			})
		})
	}
}

// TestWebSocketPingServerPings: in ws-ping mode, with the transport's pong
// handler installed, the server's own WebSocket Pings are still answered
// with Pongs echoing them, and they are not taken for the pong to the
// transport's pings: the flow holds on its own pongs, and the server's
// pings, each answered, count as no pong.
func TestWebSocketPingServerPings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, l := wsPingFlow(t, true)
		srv := l.Conns()[0]
		const serverPings = 20
		for i := range serverPings { // one a second, between the transport's own
			time.Sleep(time.Second)
			if err := srv.Ping([]byte(fmt.Sprintf("server %d", i))); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Second)
		synctest.Wait()
		pongs := srv.Pongs()
		if len(pongs) != serverPings {
			t.Fatalf("%d Pongs from the transport, want %d, one per server Ping", len(pongs), serverPings)
		}
		for i, p := range pongs {
			if want := fmt.Sprintf("server %d", i); string(p) != want {
				t.Errorf("Pong %d carries %q, want %q", i, p, want)
			}
		}
		st := s.b.Stats()
		if st.PongTimeouts != 0 || len(l.Conns()) != 1 {
			t.Errorf("%d pong timeouts, %d connections: want the one flow to hold", st.PongTimeouts, len(l.Conns()))
		}
		if st.KeepalivesIn > st.KeepalivesOut || st.KeepalivesOut < 3 {
			t.Errorf("keepalives out %d, in %d: want at least 3 pings, and no more pongs than pings", st.KeepalivesOut, st.KeepalivesIn)
		}
	})
}
