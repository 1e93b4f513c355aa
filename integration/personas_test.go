package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/sipua"
	"github.com/sipws/sipws/keepalive"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// The persona matrix: one transport per shipped backend against each
// sipserver persona (Kamailio, Asterisk, FreeSWITCH, OpenSIPS, reproduced
// from their source; see sipserver.Persona), with short real intervals.
// Unlike the Kamailio tests it needs nothing installed, so it always runs.
// Subtests are Persona/Backend/Case, e.g. TestPersonas/OpenSIPS/ws/NoOrigin.
//
// Every case states the settings docs/SERVERS.md recommends for that
// server and shows its sharp edge failing with the wrong setting.

// Keepalive timing of the matrix: pings every 240–300 ms, a pong timeout
// of 1 s (the servers answer in well under a millisecond on 127.0.0.1).
const (
	kaInterval    = 300 * time.Millisecond
	kaPongTimeout = time.Second
	kaPeriods     = 5 // answered pings a flow must survive
)

// A persona is one server of the matrix and the settings to use with it.
type persona struct {
	p           sipserver.Persona
	po          sipserver.PersonaOptions // scaled-down thresholds
	mode        keepalive.Mode           // the keepalive mode to use (SERVERS.md)
	answersCRLF bool                     // whether a CRLF keepalive gets a pong
	schemes     []string                 // ws, and wss where it matters
}

var personas = []persona{
	// Kamailio answers CRLF itself; its own WS Ping comes after 1 s idle
	// (180 s for real), which the client's keepalives never leave it.
	{sipserver.Kamailio, sipserver.PersonaOptions{KeepAlive: time.Second}, keepalive.CRLF, true, []string{"ws"}},
	// Asterisk pings with "\r\n\r\n" and answers no CRLF; over wss it
	// sends sips: Request-URIs.
	// Its period here (2 s, 90 s for real) is above the pong timeout, as
	// for real: a server's own "\r\n\r\n" is not a pong, but as every
	// message read it is a sign of life that postpones the pong timeout
	// (keepalive.Keeper.Received), which would hide the missing pongs if it
	// came more often than the pong timeout.
	{sipserver.Asterisk, sipserver.PersonaOptions{KeepAlive: 2 * time.Second}, keepalive.WebSocketPing, false, []string{"ws", "wss"}},
	{sipserver.FreeSWITCH, sipserver.PersonaOptions{}, keepalive.WebSocketPing, false, []string{"ws"}},
	{sipserver.OpenSIPS, sipserver.PersonaOptions{}, keepalive.Options, false, []string{"ws"}},
}

// A personaCase is one behaviour of the matrix.
type personaCase struct {
	name string
	rule string              // what must hold, and why
	only []sipserver.Persona // nil: every persona
	run  func(t *testing.T, p persona, b backend)
}

var personaCases = []personaCase{
	{
		name: "Flow",
		rule: "with the recommended mode and defaults and a pong timeout on, a UA registers, exchanges MESSAGE " +
			"both ways, and the flow survives 5 keepalive periods (docs/SERVERS.md)",
		run: func(t *testing.T, p persona, b backend) {
			for _, scheme := range p.schemes {
				t.Run(scheme, func(t *testing.T) { testPersonaFlow(t, p, b, scheme) })
			}
		},
	},
	{
		name: "KeepAlive",
		rule: "a CRLF keepalive with a pong timeout holds only where the server answers CRLF (Kamailio); " +
			"against Asterisk, FreeSWITCH and OpenSIPS it cuts a healthy flow, and ws-ping or options holds it",
		run: func(t *testing.T, p persona, b backend) {
			for _, mode := range []keepalive.Mode{keepalive.CRLF, keepalive.WebSocketPing, keepalive.Options} {
				t.Run(mode.String(), func(t *testing.T) { testPersonaKeepalive(t, p, b, mode) })
			}
		},
	},
	{
		name: "ServerPing",
		rule: "Kamailio pings a WebSocket idle for its keepalive timeout and drops it without a close frame " +
			"when no Pong comes; the backend answers every Ping, so an idle flow survives 5 of its periods",
		only: []sipserver.Persona{sipserver.Kamailio},
		run:  testPersonaServerPing,
	},
	{
		name: "NoOrigin",
		rule: "OpenSIPS answers an upgrade without Origin with HTTP 400 (*dialer.HandshakeError); the default " +
			"Origin, the server's own, is accepted (SPEC.md: interop defaults)",
		only: []sipserver.Persona{sipserver.OpenSIPS},
		run:  testPersonaNoOrigin,
	},
	{
		name: "LargeMessage",
		rule: "a 20 KiB MESSAGE to Kamailio (16 KiB read buffer) is dropped silently with the connection; " +
			"Dial.MaxSendSize 16384 turns it into ErrSendTooLarge at Send, and the flow stays",
		only: []sipserver.Persona{sipserver.Kamailio},
		run:  testPersonaLargeKamailio,
	},
	{
		name: "OneFrame",
		rule: "a 60000-byte MESSAGE goes out as one final frame in one write, so OpenSIPS (no fragments, " +
			"at most 4 reads per message) takes it (SPEC.md: interop defaults)",
		only: []sipserver.Persona{sipserver.OpenSIPS},
		run:  testPersonaOneFrame,
	},
	{
		name: "SlowCallback",
		rule: "Events.Message runs on the reading goroutine: while it runs nothing is read, so keepalive answers " +
			"and pongs wait behind every queued message; a pong timeout shorter than backlog x callback time " +
			"cuts a healthy flow, and Asterisk's 100 ms write timeout closes only once the backlog fills the " +
			"socket buffers (docs/SERVERS.md, \"Slow callbacks\")",
		only: []sipserver.Persona{sipserver.Asterisk},
		run: func(t *testing.T, p persona, b backend) {
			t.Run("Backlog", func(t *testing.T) { testSlowCallback(t, p, b, slowBacklog) })
			t.Run("PongTimeoutBelowBacklog", func(t *testing.T) { testSlowCallback(t, p, b, slowPongTimeout) })
			t.Run("WriteTimeout", func(t *testing.T) { testSlowCallback(t, p, b, slowWriteTimeout) })
		},
	},
}

// TestPersonas runs the matrix as Persona/Backend/Case. The personas run
// one after another; the cases of one persona, both backends, run at the
// same time (each has its own server on its own port): they mostly wait
// on real timers, and t.Parallel would run only GOMAXPROCS of them at once.
func TestPersonas(t *testing.T) {
	for _, p := range personas {
		t.Run(p.p.String(), func(t *testing.T) {
			concurrently(t, len(backends), func(i int) {
				b := backends[i]
				t.Run(b.name, func(t *testing.T) {
					cases := slices.DeleteFunc(slices.Clone(personaCases), func(c personaCase) bool {
						return c.only != nil && !slices.Contains(c.only, p.p)
					})
					concurrently(t, len(cases), func(i int) {
						c := cases[i]
						t.Run(c.name, func(t *testing.T) {
							t.Cleanup(func() {
								if t.Failed() {
									t.Log("rule: " + c.rule)
								}
							})
							c.run(t, p, b)
						})
					})
				})
			})
		})
	}
}

// concurrently calls f(0) ... f(n-1) each on its own goroutine and returns
// once all have returned (t.Run may be called from several goroutines at
// once, as long as all return before the test does).
func concurrently(t *testing.T, n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { f(i) })
	}
	wg.Wait()
}

// start starts the persona's server over scheme, closed when t ends.
func (p persona) start(t *testing.T, scheme string, po sipserver.PersonaOptions) *sipserver.Server {
	t.Helper()
	srv, err := sipserver.Start(sipserver.Options{TLS: scheme == "wss", Name: p.p.String(), Persona: p.p, PersonaOptions: po, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// personaConfig is a configuration for srv with short real timeouts and
// the keepalive of the matrix in mode.
func personaConfig(t *testing.T, srv *sipserver.Server, mode keepalive.Mode) transport.Config {
	t.Helper()
	s, err := selector.ParseServer(srv.URL(), 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := transport.Config{
		Servers:              selector.Servers{s},
		ConnectionTimeout:    time.Second,
		ReconnectionTimeout:  200 * time.Millisecond,
		RecoveryMinInterval:  500 * time.Millisecond,
		RecoveryMaxInterval:  time.Second,
		KeepAliveInterval:    kaInterval,
		KeepAlivePongTimeout: kaPongTimeout,
		KeepAliveMode:        mode,
	}
	cfg.Dial.TLSConfig = srv.ClientTLSConfig()
	return cfg
}

// serverConn returns the server side of the UA's connection.
func serverConn(t *testing.T, srv *sipserver.Server) *sipserver.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	conns, err := srv.WaitConns(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	return conns[len(conns)-1]
}

// serverWait waits, bounded, for cond on srv.
func serverWait(t *testing.T, srv *sipserver.Server, what string, bound time.Duration, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := srv.Wait(ctx, cond); err != nil {
		t.Fatalf("server: no %s within %v: %v", what, bound, err)
	}
}

// received200 reports whether the server received a 200 with callID.
func received200(srv *sipserver.Server, callID string) bool {
	for _, m := range srv.Received() {
		if bytes.HasPrefix(m, []byte("SIP/2.0 200 ")) && bytes.Contains(m, []byte("\r\nCall-ID: "+callID+"\r\n")) {
			return true
		}
	}
	return false
}

// pollStats polls the transport's counters until cond holds or bound
// passes, and returns the last snapshot. There is no keepalive event: the
// pongs come from the server's goroutines, in real time.
func pollStats(tr sipTransport, bound time.Duration, cond func(transport.Stats) bool) transport.Stats {
	deadline := time.Now().Add(bound)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		st := tr.Stats()
		if cond(st) || time.Now().After(deadline) {
			return st
		}
		<-tick.C
	}
}

// surviveKeepalives fails t unless the flow answers kaPeriods of the
// transport's own pings in a row without a pong timeout or a reconnect.
func surviveKeepalives(t *testing.T, u *ua) transport.Stats {
	t.Helper()
	start := time.Now()
	bound := (kaPeriods+1)*kaInterval + kaPongTimeout + slack
	st := pollStats(u.tr, bound, func(st transport.Stats) bool {
		return st.KeepaliveRTT.Count >= kaPeriods || st.PongTimeouts > 0 || st.Connects > 1
	})
	t.Logf("%s: after %v: own pings answered %d (RTT last %v), keepalives out %d in %d, pong timeouts %d, connects %d",
		u.user, time.Since(start).Round(time.Millisecond), st.KeepaliveRTT.Count, st.LastKeepaliveRTT,
		st.KeepalivesOut, st.KeepalivesIn, st.PongTimeouts, st.Connects)
	if st.KeepaliveRTT.Count < kaPeriods || st.PongTimeouts != 0 || st.Connects != 1 || st.Dials != 1 {
		t.Fatalf("%s: %d pings answered, %d pong timeouts, %d connects, %d dials within %v; want %d, 0, 1, 1; events %v",
			u.user, st.KeepaliveRTT.Count, st.PongTimeouts, st.Connects, st.Dials, bound, kaPeriods, u.eventsSnapshot())
	}
	if st.LastKeepaliveRTT <= 0 || st.LastKeepaliveRTT >= kaPongTimeout {
		t.Errorf("%s: last keepalive RTT %v, want in (0, %v)", u.user, st.LastKeepaliveRTT, kaPongTimeout)
	}
	if got := u.tr.Status(); got != transport.StatusOpen {
		t.Fatalf("%s: status %v after the keepalives, want OPEN", u.user, got)
	}
	return st
}

// messageFromServer has the server send the UA a MESSAGE, checks that it
// is delivered with its Request-URI scheme, answers it, and waits for the
// server to receive the 200.
func messageFromServer(t *testing.T, u *ua, srv *sipserver.Server, c *sipserver.Conn, wantScheme string) {
	t.Helper()
	text := "hello " + u.user + " from " + srv.URL()
	callID, err := c.SendRequest("MESSAGE", u.sip.Contact(), text)
	if err != nil {
		t.Fatalf("server: SendRequest: %v", err)
	}
	in := u.await(t, "MESSAGE from the server", wait, requestFor("MESSAGE", callID))
	if uri := string(in.msg.RequestURI()); !strings.HasPrefix(uri, wantScheme+":") || string(in.msg.Body()) != text {
		t.Errorf("%s: MESSAGE %q body %q, want a %s: Request-URI and %q", u.user, uri, in.msg.Body(), wantScheme, text)
	}
	u.send(t, answer(in.raw, 200, "OK", sipua.RandomHex(4)))
	serverWait(t, srv, "200 to its MESSAGE", wait, func() bool { return received200(srv, callID) })
	t.Logf("%s: got %q from the server and answered 200", u.user, sipua.StartLine(in.raw))
}

func testPersonaFlow(t *testing.T, p persona, b backend, scheme string) {
	srv := p.start(t, scheme, p.po)
	u := newUA(t, b, "alice", scheme, personaConfig(t, srv, p.mode))
	u.connect(t)
	c := serverConn(t, srv)
	if p.p == sipserver.OpenSIPS {
		// The default Origin is the server's own.
		if got, want := c.Request().Header.Get("Origin"), "http://"+srv.Addr(); got != want {
			t.Errorf("Origin %q, want %q", got, want)
		}
	}
	u.transact(t, u.sip.Register(600), 200)
	u.transact(t, u.sip.Message("bob", "hello bob"), 200)
	// Asterisk uses sips: over wss (JsSIP #704), which the transport must
	// deliver rather than answer 416.
	wantScheme := "sip"
	if p.p == sipserver.Asterisk && scheme == "wss" {
		wantScheme = "sips"
	}
	messageFromServer(t, u, srv, c, wantScheme)
	surviveKeepalives(t, u)
	// Still one flow that carries SIP both ways.
	u.transact(t, u.sip.Message("bob", "still here"), 200)
	messageFromServer(t, u, srv, c, wantScheme)
	if r := c.EndReason(); r != "" {
		t.Errorf("server: %s", r)
	}
}

func testPersonaKeepalive(t *testing.T, p persona, b backend, mode keepalive.Mode) {
	srv := p.start(t, "ws", p.po)
	u := newUA(t, b, "alice", "ws", personaConfig(t, srv, mode))
	u.connect(t)
	c := serverConn(t, srv)
	if mode != keepalive.CRLF || p.answersCRLF {
		surviveKeepalives(t, u)
		u.transact(t, u.sip.Options(), 200)
		return
	}
	// The wrong setting: the server hears the pings and never answers.
	bound := kaInterval + kaPongTimeout + slack
	dis, _ := u.awaitEvent(t, "Disconnected after the pong timeout", 0, bound, isEvent("disconnected", ""))
	if !errors.Is(dis.err, transport.ErrPongTimeout) {
		t.Fatalf("Disconnected: %v, want ErrPongTimeout", dis.err)
	}
	pings := 0
	for _, m := range c.Received() {
		if string(m) == keepalive.CRLFPing {
			pings++
		}
	}
	t.Logf("alice: Disconnected %v after connecting: %v (the server received %d CRLF pings, answered none)",
		dis.at.Sub(u.created).Round(time.Millisecond), dis.err, pings)
	if pings == 0 {
		t.Errorf("the server received no CRLF ping")
	}
}

func testPersonaServerPing(t *testing.T, p persona, b backend) {
	const idle = 200 * time.Millisecond
	srv := p.start(t, "ws", sipserver.PersonaOptions{KeepAlive: idle})
	cfg := personaConfig(t, srv, p.mode)
	cfg.KeepAliveInterval = 0 // idle: only Kamailio pings
	u := newUA(t, b, "alice", "ws", cfg)
	u.connect(t)
	c := serverConn(t, srv)
	// Each Ping comes one idle period after the previous Pong.
	bound := kaPeriods*2*idle + slack
	serverWait(t, srv, fmt.Sprintf("%d Pongs", kaPeriods), bound, func() bool {
		return len(c.Pongs()) >= kaPeriods || c.EndReason() != ""
	})
	for _, pong := range c.Pongs() {
		if !strings.HasPrefix(string(pong), "kamailio") {
			t.Errorf("Pong %q, want Kamailio's ping payload echoed", pong)
		}
	}
	if r := c.EndReason(); r != "" {
		t.Fatalf("server: %s", r)
	}
	if st := u.tr.Stats(); st.Connects != 1 || u.tr.Status() != transport.StatusOpen {
		t.Fatalf("status %v, connects %d, want OPEN since the first connect", u.tr.Status(), st.Connects)
	}
	t.Logf("alice: %d Kamailio Pings answered, still OPEN", len(c.Pongs()))
	u.transact(t, u.sip.Options(), 200)
}

func testPersonaNoOrigin(t *testing.T, p persona, b backend) {
	srv := p.start(t, "ws", p.po)
	cfg := personaConfig(t, srv, p.mode)
	cfg.Dial.NoOrigin = true
	cfg.MaxReconnectionAttempts = -1 // one pass, one attempt
	u := newUA(t, b, "alice", "ws", cfg)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	err := u.tr.Connect(ctx)
	var he *dialer.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 400 {
		t.Fatalf("Connect without Origin: %v, want a *dialer.HandshakeError with 400", err)
	}
	if reqs := srv.Requests(); len(reqs) == 0 || reqs[0].Header.Get("Origin") != "" {
		t.Fatalf("upgrade requests %v, want one without Origin", reqs)
	}
	t.Logf("alice: Connect without Origin: %v", err)
}

// messageOfSize builds a MESSAGE of exactly n bytes from u to bob.
func messageOfSize(u *ua, n int) sipua.Request {
	text := ""
	for {
		m := u.sip.Message("bob", text)
		if len(m.Raw) == n {
			return m
		}
		text = strings.Repeat("x", max(len(text)+n-len(m.Raw), 0))
	}
}

func testPersonaLargeKamailio(t *testing.T, p persona, b backend) {
	t.Run("default", func(t *testing.T) {
		srv := p.start(t, "ws", p.po)
		u := newUA(t, b, "alice", "ws", personaConfig(t, srv, p.mode))
		u.connect(t)
		c := serverConn(t, srv)
		msg := messageOfSize(u, 20<<10)
		// Send succeeds (the frame went out whole: on loopback the socket
		// takes it at once, before the server reads its header), then
		// Kamailio drops it and the connection, without a word.
		if err := u.tr.Send(context.Background(), msg.Raw); err != nil {
			t.Logf("alice: Send: %v (the server dropped the connection during the write)", err)
		}
		dis, _ := u.awaitEvent(t, "Disconnected after the large MESSAGE", 0, wait, isEvent("disconnected", ""))
		if code := closeCode(dis.err); code != dialer.CloseAbnormal {
			t.Errorf("Disconnected %v, want 1006 (no close frame)", dis.err)
		}
		for _, m := range c.Received() {
			if bytes.Contains(m, []byte("Call-ID: "+msg.CallID)) {
				t.Errorf("the server received the %d-byte MESSAGE", len(msg.Raw))
			}
		}
		t.Logf("alice: Send of %d bytes returned nil; then Disconnected: %v; server: %s", len(msg.Raw), dis.err, c.EndReason())
	})
	t.Run("MaxSendSize", func(t *testing.T) {
		srv := p.start(t, "ws", p.po)
		cfg := personaConfig(t, srv, p.mode)
		cfg.Dial.MaxSendSize = 16384
		u := newUA(t, b, "alice", "ws", cfg)
		u.connect(t)
		c := serverConn(t, srv)
		msg := messageOfSize(u, 20<<10)
		err := u.tr.Send(context.Background(), msg.Raw)
		if !errors.Is(err, dialer.ErrSendTooLarge) {
			t.Fatalf("Send of %d bytes with MaxSendSize 16384: %v, want ErrSendTooLarge", len(msg.Raw), err)
		}
		t.Logf("alice: Send of %d bytes: %v", len(msg.Raw), err)
		// The recommended 16000 fits Kamailio's 16383-byte frames.
		u.transact(t, messageOfSize(u, 16000), 200)
		if r := c.EndReason(); r != "" || u.tr.Status() != transport.StatusOpen || u.tr.Stats().Connects != 1 {
			t.Fatalf("after the refused Send: server %q, status %v, connects %d; want the flow kept",
				r, u.tr.Status(), u.tr.Stats().Connects)
		}
	})
}

func testPersonaOneFrame(t *testing.T, p persona, b backend) {
	srv := p.start(t, "ws", p.po)
	u := newUA(t, b, "alice", "ws", personaConfig(t, srv, p.mode))
	u.connect(t)
	c := serverConn(t, srv)
	msg := messageOfSize(u, 60000)
	u.transact(t, msg, 200)
	for _, f := range c.Frames() {
		if bytes.Contains(f.Payload, []byte("Call-ID: "+msg.CallID)) {
			if !f.Fin || f.Op != sipserver.OpText || len(f.Payload) != len(msg.Raw) {
				t.Errorf("the MESSAGE went out as a %v frame of %d bytes (FIN %v), want one final text frame of %d",
					f.Op, len(f.Payload), f.Fin, len(msg.Raw))
			}
		}
	}
	if r := c.EndReason(); r != "" {
		t.Fatalf("server: %s", r)
	}
}

// The slow-callback experiments: a Message callback of slowCallback, a
// burst of slowBurst MESSAGEs of slowBody bytes sent by Asterisk, then its
// "\r\n\r\n" ping.
const (
	slowCallback = 200 * time.Millisecond
	slowBurst    = 10
	slowBody     = 4 << 10
	// slowFill is the burst that fills 4 KiB socket buffers (set on a
	// connected socket, so the windows already offered stay: tens of KiB).
	slowFill = 50
)

type slowVariant int

const (
	slowBacklog      slowVariant = iota // pong timeout above the backlog: the flow holds
	slowPongTimeout                     // pong timeout below it: the flow holds all the same (a busy reader is alive)
	slowWriteTimeout                    // small socket buffers: Asterisk's write blocks
)

// events returns u's event callbacks (as newUAOver sets them) with
// another Message callback.
func (u *ua) eventsWith(message func(*sipmsg.Message)) transport.Events {
	return transport.Events{
		Connected: func(s selector.Server) { u.record(event{kind: "connected", server: s.URI}) },
		Disconnected: func(s selector.Server, err error) {
			u.record(event{kind: "disconnected", server: s.URI, err: err})
		},
		TransportError: func(err error) { u.record(event{kind: "transport error", err: err}) },
		Message:        message,
		MessageDropped: func(raw []byte, reason error) {
			u.mu.Lock()
			u.dropped = append(u.dropped, fmt.Sprintf("%q: %v", sipua.StartLine(raw), reason))
			u.mu.Unlock()
		},
	}
}

// testSlowCallback measures what a slow Events.Message does to keepalives:
// Asterisk (its keepalive sent by the test, at chosen moments) sends a
// burst of MESSAGEs and then "\r\n\r\n"; the UA's callback takes
// slowCallback per message; its own keepalive is ws-ping.
func testSlowCallback(t *testing.T, p persona, b backend, v slowVariant) {
	po := sipserver.PersonaOptions{KeepAlive: -1} // WriteTimeout: Asterisk's 100 ms
	var nd netDial
	if v == slowWriteTimeout {
		po.SendBuffer = 4096
		nd = func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				nc.(*net.TCPConn).SetReadBuffer(4096)
			}
			return nc, err
		}
	}
	srv := p.start(t, "ws", po)
	cfg := personaConfig(t, srv, keepalive.WebSocketPing)
	backlog := slowBurst * slowCallback
	cfg.KeepAlivePongTimeout = backlog + time.Second
	if v == slowPongTimeout {
		cfg.KeepAlivePongTimeout = backlog / 2
	}
	u := newUAOver(t, b, "alice", "ws", cfg, nd)
	var delivered atomic.Int64
	u.tr.SetEvents(u.eventsWith(func(m *sipmsg.Message) {
		time.Sleep(slowCallback) // the work under test: a slow callback
		delivered.Add(1)
		u.receive(m)
	}))
	u.connect(t)
	c := serverConn(t, srv)

	// crlfAnswers counts the UA's answers to the server's CRLF pings.
	crlfAnswers := func() int {
		n := 0
		for _, m := range c.Received() {
			if string(m) == keepalive.CRLFPong {
				n++
			}
		}
		return n
	}
	// ping sends Asterisk's keepalive and waits for its answer; it returns
	// the delay and how many MESSAGEs had been delivered by then.
	ping := func(what string, bound time.Duration) (time.Duration, int64) {
		before := crlfAnswers()
		start := time.Now()
		if err := c.Send([]byte(keepalive.CRLFPing)); err != nil {
			t.Fatalf("server: ping: %v", err)
		}
		var at int64
		serverWait(t, srv, "answer to its ping "+what, bound, func() bool {
			if crlfAnswers() > before {
				at = delivered.Load()
				return true
			}
			return false
		})
		return time.Since(start), at
	}

	idleDelay, _ := ping("on an idle flow", wait)
	// The burst: each MESSAGE waits for the callbacks of those before it.
	sent, burst := 0, slowBurst
	if v == slowWriteTimeout {
		burst = slowFill
	}
	var sendErr error
	burstStart := time.Now()
	for ; sent < burst; sent++ {
		if _, sendErr = c.SendRequest("MESSAGE", u.sip.Contact(), strings.Repeat("m", slowBody)); sendErr != nil {
			break
		}
	}
	sendTook := time.Since(burstStart)

	switch v {
	case slowBacklog:
		if sendErr != nil {
			t.Fatalf("server: MESSAGE %d: %v (the socket buffers hold the burst)", sent+1, sendErr)
		}
		delay, at := ping("behind the burst", backlog+wait)
		st := u.tr.Stats()
		t.Logf("idle ping answered in %v; %d MESSAGEs of %d bytes written in %v; the ping behind them answered in %v, "+
			"after %d deliveries; own ws-ping: last RTT %v, %d answered (mean %v), pong timeouts %d (pong timeout %v)",
			idleDelay.Round(time.Millisecond), sent, slowBody, sendTook.Round(time.Millisecond), delay.Round(time.Millisecond),
			at, st.LastKeepaliveRTT.Round(time.Millisecond), st.KeepaliveRTT.Count,
			meanRTT(st).Round(time.Millisecond), st.PongTimeouts, cfg.KeepAlivePongTimeout)
		// The rule: nothing is read while a callback runs, so the answer
		// to a ping comes only after every message queued before it.
		if at != slowBurst {
			t.Errorf("the ping behind %d MESSAGEs was answered after %d deliveries, want all %d first (head-of-line)", slowBurst, at, slowBurst)
		}
		if st.PongTimeouts != 0 || st.Connects != 1 || u.tr.Status() != transport.StatusOpen {
			t.Errorf("pong timeouts %d, connects %d, status %v with a pong timeout above the backlog; want 0, 1, OPEN",
				st.PongTimeouts, st.Connects, u.tr.Status())
		}
		if r := c.EndReason(); r != "" {
			t.Errorf("server: %s (the backlog fits the socket buffers)", r)
		}
	case slowPongTimeout:
		if sendErr != nil {
			t.Fatalf("server: MESSAGE %d: %v", sent+1, sendErr)
		}
		// The pong timeout is below the backlog, but the reader is busy in
		// a callback, and every message read is a sign of life: the flow
		// is not cut, and every MESSAGE is delivered.
		delay, at := ping("behind the burst", backlog+wait)
		st := u.tr.Stats()
		t.Logf("pong timeout %v below the %v backlog: the ping behind the burst answered in %v after %d deliveries; "+
			"pong timeouts %d, connects %d", cfg.KeepAlivePongTimeout, backlog, delay.Round(time.Millisecond), at,
			st.PongTimeouts, st.Connects)
		if st.PongTimeouts != 0 || st.Connects != 1 || delivered.Load() != int64(sent) {
			t.Errorf("pong timeouts %d, connects %d, %d of %d delivered: a flow busy in its callbacks is alive, want 0, 1, all",
				st.PongTimeouts, st.Connects, delivered.Load(), sent)
		}
	case slowWriteTimeout:
		t.Logf("4 KiB socket buffers: MESSAGE %d of %d (%d bytes each) failed %v after the first: %v; server: %q",
			sent+1, burst, slowBody, sendTook.Round(time.Millisecond), sendErr, c.EndReason())
		if sendErr == nil {
			t.Fatalf("the server wrote %d MESSAGEs of %d bytes into 4 KiB buffers with a slow reader", sent, slowBody)
		}
		if !strings.Contains(c.EndReason(), "1011") {
			t.Errorf("server EndReason %q, want Asterisk's close 1011", c.EndReason())
		}
		dis, _ := u.awaitEvent(t, "Disconnected after Asterisk's write timeout", 0, backlog+wait, isEvent("disconnected", ""))
		t.Logf("alice: Disconnected %v: %v", dis.at.Sub(burstStart).Round(time.Millisecond), dis.err)
	}
}

func meanRTT(st transport.Stats) time.Duration {
	if st.KeepaliveRTT.Count == 0 {
		return 0
	}
	return st.KeepaliveRTT.Sum / time.Duration(st.KeepaliveRTT.Count)
}
