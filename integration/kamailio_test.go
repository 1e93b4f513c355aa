package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/sipua"
	"github.com/sipws/sipws/keepalive"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/transport"
)

// kamailioCase is one behaviour checked against a real Kamailio.
type kamailioCase struct {
	name    string
	rule    string   // what must hold, and why
	schemes []string // nil: ws and wss
	run     func(t *testing.T, k *peers, b backend, scheme string)
}

var kamailioCases = []kamailioCase{
	{
		name: "RegisterMessage",
		rule: "two UAs REGISTER (200 each); a MESSAGE from one is relayed by Kamailio to the other's " +
			"connection, and the callee's 200 goes back to the caller (RFC 7118 §5, RFC 3428)",
		run: testRegisterMessage,
	},
	{
		name: "Options",
		rule: "an OPTIONS to the server itself gets 200, whose empty header values parse (kamailio/README.md)",
		run:  testOptions,
	},
	{
		name: "Keepalive",
		rule: "CRLF pings get CRLF pongs within the pong timeout, so the flow stays OPEN (RFC 5626 §3.5.1, §4.4.1)",
		run:  testKeepalive,
	},
	{
		name: "KeepaliveModes",
		rule: "every keepalive mode holds the flow with the pong timeout on: Kamailio answers CRLF with CRLF, " +
			"a WS Ping with a Pong, and the transport's own OPTIONS itself with 200 (options_reply)",
		run: testKeepaliveModes,
	},
	{
		name: "ServerPing",
		rule: "Kamailio pings a WebSocket idle for its keepalive timeout and silently drops it when no Pong " +
			"comes; the backend answers every Ping, so an idle flow survives (RFC 6455 §5.5.2, kamailio/README.md)",
		// The ping count is read off the TCP stream, which TLS hides.
		schemes: []string{"ws"},
		run:     testServerPing,
	},
	{
		name: "StockReadBuffer",
		rule: "with Kamailio's stock tcp_rd_buf_size (16384) a frame over 16383 bytes, its header included (so a " +
			"message over 16375 bytes from a client), is dropped with the connection, without a close frame " +
			"(sipserver's Kamailio persona); a message within Dial.MaxSendSize 16000, as docs/SERVERS.md " +
			"recommends, gets through",
		run: testStockReadBuffer,
	},
	{
		name: "Restart",
		rule: "when Kamailio restarts under an OPEN transport, the transport reports Disconnected (1006: " +
			"no Close frame), reconnects to it by retrying, and a new REGISTER gets 200 (SPEC.md: reconnection)",
		run: testRestart,
	},
	{
		name: "Failover",
		rule: "the transport prefers the higher weight, fails over to the other server when it stops, " +
			"and recovers to the preferred one when only it is back (SPEC.md: failing over, recovering)",
		run: testFailover,
	},
}

// TestKamailio runs every case as Backend/Scheme/Case.
func TestKamailio(t *testing.T) {
	k := needKamailio(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, scheme := range []string{"ws", "wss"} {
				t.Run(scheme, func(t *testing.T) {
					for _, c := range kamailioCases {
						if c.schemes != nil && !slices.Contains(c.schemes, scheme) {
							continue
						}
						t.Run(c.name, func(t *testing.T) {
							t.Cleanup(func() {
								if t.Failed() {
									t.Log("rule: " + c.rule)
								}
							})
							k.up(t, 1) // a no-op when an earlier case left it running
							c.run(t, k, b, scheme)
						})
					}
				})
			}
		})
	}
}

// config returns a transport configuration for servers with short, real
// timeouts; over wss it trusts the instances' certificate.
func (k *peers) config(t *testing.T, scheme string, servers ...selector.Server) transport.Config {
	cfg := transport.Config{
		Servers:             servers,
		ConnectionTimeout:   time.Second,
		ReconnectionTimeout: 200 * time.Millisecond,
		RecoveryMinInterval: 500 * time.Millisecond,
		RecoveryMaxInterval: time.Second,
	}
	if scheme == "wss" {
		cfg.Dial.TLSConfig = k.tlsConfig(t)
	}
	return cfg
}

// slack covers scheduling on a loaded machine (-race, shared cores) on top
// of the bounds computed from a configuration.
const slack = time.Second

// serverBudget is the longest cfg lets the transport spend on one server
// before it marks it in error: 1 + MaxReconnectionAttempts attempts of
// ConnectionTimeout each, with ReconnectionTimeout between all but the
// first two (the first retry goes at once).
func serverBudget(cfg transport.Config) time.Duration {
	retries := time.Duration(cfg.MaxReconnectionAttempts)
	return (1+retries)*cfg.ConnectionTimeout + max(retries-1, 0)*cfg.ReconnectionTimeout
}

// within fails t unless took is at most bound.
func within(t *testing.T, what string, took, bound time.Duration) {
	t.Helper()
	if took > bound {
		t.Errorf("%s took %v, want at most %v (from the configuration)", what, took.Round(time.Millisecond), bound)
	}
}

func testRegisterMessage(t *testing.T, k *peers, b backend, scheme string) {
	srv := k.server(t, 1, scheme, 0)
	alice := newUA(t, b, "alice", scheme, k.config(t, scheme, srv))
	bob := newUA(t, b, "bob", scheme, k.config(t, scheme, srv))
	alice.connect(t)
	bob.connect(t)
	alice.register(t)
	bob.register(t)

	text := "hello bob over " + scheme
	msg := alice.sip.Message("bob", text)
	start := time.Now()
	alice.send(t, msg.Raw)
	in := bob.await(t, "MESSAGE from alice", wait, requestFor("MESSAGE", msg.CallID))
	t.Logf("bob: received %q %v after alice sent it", sipua.StartLine(in.raw), in.at.Sub(start).Round(time.Microsecond))

	if got := string(in.msg.Body()); got != text {
		t.Errorf("bob: MESSAGE body = %q, want %q", got, text)
	}
	// Kamailio delivers to the registered Contact: bob's own .invalid host.
	if got := string(in.msg.RequestURI()); got != bob.sip.Contact() {
		t.Errorf("bob: MESSAGE Request-URI = %q, want bob's contact %s", got, bob.sip.Contact())
	}
	vias := headerValues(in.raw, "Via")
	if len(vias) != 2 || !strings.HasPrefix(vias[0], "SIP/2.0/"+strings.ToUpper(scheme)+" ") ||
		!strings.Contains(vias[1], alice.host) || !strings.Contains(vias[1], "branch="+msg.Branch) {
		t.Errorf("bob: MESSAGE Vias = %q, want Kamailio's (SIP/2.0/%s) then alice's (%s, branch %s)",
			vias, strings.ToUpper(scheme), alice.host, msg.Branch)
	}
	t.Logf("bob: MESSAGE Vias %q", vias)

	tag := sipua.RandomHex(4)
	bob.send(t, answer(in.raw, 200, "OK", tag))
	resp := alice.await(t, "200 to the MESSAGE", wait, responseTo(msg, true))
	t.Logf("alice: MESSAGE -> %q in %v", sipua.StartLine(resp.raw), resp.at.Sub(start).Round(time.Microsecond))
	if got := resp.msg.StatusCode(); got != 200 {
		t.Errorf("alice: MESSAGE answered %q, want 200 (bob's answer)", sipua.StartLine(resp.raw))
	}
	if to := headerValues(resp.raw, "To"); len(to) != 1 || !strings.Contains(to[0], "tag="+tag) {
		t.Errorf("alice: To of the 200 = %q, want bob's tag %s", to, tag)
	}
	if vias := headerValues(resp.raw, "Via"); len(vias) != 1 || !strings.Contains(vias[0], "branch="+msg.Branch) {
		t.Errorf("alice: Vias of the 200 = %q, want only hers (Kamailio strips its own)", vias)
	}
}

func testOptions(t *testing.T, k *peers, b backend, scheme string) {
	alice := newUA(t, b, "alice", scheme, k.config(t, scheme, k.server(t, 1, scheme, 0)))
	alice.connect(t)
	resp := alice.transact(t, alice.sip.Options(), 200)
	t.Logf("alice: OPTIONS 200 Supported=%q Accept-Encoding=%q Server=%q",
		headerValues(resp.raw, "Supported"), headerValues(resp.raw, "Accept-Encoding"), headerValues(resp.raw, "Server"))
	// The empty values must reach the SIP stack as empty, not be lost.
	for _, name := range []string{"Supported", "Accept-Encoding"} {
		if got := resp.msg.Header(name); !resp.msg.HasHeader(name) || len(got) != 0 {
			t.Errorf("alice: %s of the 200 = %q (present %v), want present and empty",
				name, got, resp.msg.HasHeader(name))
		}
	}
}

func testKeepalive(t *testing.T, k *peers, b backend, scheme string) {
	const (
		interval    = 500 * time.Millisecond // pings every 0.4–0.5 s
		pongTimeout = time.Second            // Kamailio answers in under a millisecond
		pongs       = 4
	)
	cfg := k.config(t, scheme, k.server(t, 1, scheme, 0))
	cfg.KeepAliveInterval = interval
	cfg.KeepAlivePongTimeout = pongTimeout
	alice := newUA(t, b, "alice", scheme, cfg)
	start := time.Now()
	alice.connect(t)

	// Real time on purpose: the pongs come from Kamailio. There is no
	// keepalive event, so poll the counters, bounded: the pings are due
	// by pongs x interval, and a missing pong closes the flow within
	// pongTimeout of its ping. Both counters are waited for: a pong can
	// be counted before its ping (Stats), so In reaching pongs first is
	// no sign that Out has.
	deadline := time.Now().Add(pongs*interval + pongTimeout + slack)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var st transport.Stats
	for {
		st = alice.tr.Stats()
		if st.KeepalivesIn >= pongs && st.KeepalivesOut >= pongs || alice.tr.Status() != transport.StatusOpen || time.Now().After(deadline) {
			break
		}
		<-tick.C
	}
	t.Logf("alice: after %v: keepalives out %d, in %d, last RTT %v, pong timeouts %d",
		time.Since(start).Round(time.Millisecond), st.KeepalivesOut, st.KeepalivesIn, st.LastKeepaliveRTT, st.PongTimeouts)
	if st.KeepalivesIn < pongs || st.KeepalivesOut < pongs {
		t.Errorf("keepalives out %d, in %d after %v, want at least %d each (interval %v)",
			st.KeepalivesOut, st.KeepalivesIn, time.Since(start).Round(time.Millisecond), pongs, interval)
	}
	if st.PongTimeouts != 0 || st.Connects != 1 || st.Dials != 1 {
		t.Errorf("pong timeouts %d, connects %d, dials %d; want 0, 1, 1 (Kamailio answers every CRLF ping)",
			st.PongTimeouts, st.Connects, st.Dials)
	}
	if st.LastKeepaliveRTT <= 0 || st.LastKeepaliveRTT >= pongTimeout {
		t.Errorf("last keepalive RTT %v, want in (0, %v)", st.LastKeepaliveRTT, pongTimeout)
	}
	if got := alice.tr.Status(); got != transport.StatusOpen {
		t.Fatalf("status %v after the keepalives, want OPEN; events %v", got, alice.eventsSnapshot())
	}
	// The WebSocket is still usable after the pongs, and nothing but the
	// pongs arrived (a stray message would be in the inbox at cleanup).
	alice.transact(t, alice.sip.Options(), 200)
}

func testKeepaliveModes(t *testing.T, k *peers, b backend, scheme string) {
	const (
		interval    = 500 * time.Millisecond // pings every 0.4–0.5 s
		pongTimeout = time.Second            // Kamailio answers in under a millisecond
		pongs       = 4                      // own pings answered in a row
	)
	for _, mode := range []keepalive.Mode{keepalive.CRLF, keepalive.WebSocketPing, keepalive.Options} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := k.config(t, scheme, k.server(t, 1, scheme, 0))
			cfg.KeepAliveMode = mode
			cfg.KeepAliveInterval = interval
			cfg.KeepAlivePongTimeout = pongTimeout
			// The keepalive OPTIONS and its answers are consumed, never
			// delivered: the SIP trace is where Kamailio's answer shows.
			tr := &traceLog{}
			cfg.TraceSIP = true
			cfg.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, JSONFormat: true, Output: tr})
			alice := newUA(t, b, "alice", scheme, cfg)
			start := time.Now()
			alice.connect(t)
			bound := (pongs+1)*interval + pongTimeout + slack
			st := pollStats(alice.tr, bound, func(st transport.Stats) bool {
				return st.KeepaliveRTT.Count >= pongs || st.PongTimeouts > 0 || st.Connects > 1
			})
			answers := tr.keepaliveAnswers()
			t.Logf("alice %s: after %v: own pings answered %d, RTT last %v mean %v, pong timeouts %d; OPTIONS answers %q",
				mode, time.Since(start).Round(time.Millisecond), st.KeepaliveRTT.Count,
				st.LastKeepaliveRTT.Round(time.Microsecond), meanRTT(st).Round(time.Microsecond), st.PongTimeouts, answers)
			if st.KeepaliveRTT.Count < pongs || st.PongTimeouts != 0 || st.Connects != 1 || st.Dials != 1 {
				t.Fatalf("%s: %d pings answered, %d pong timeouts, %d connects, %d dials within %v; want %d, 0, 1, 1",
					mode, st.KeepaliveRTT.Count, st.PongTimeouts, st.Connects, st.Dials, bound, pongs)
			}
			if st.LastKeepaliveRTT <= 0 || st.LastKeepaliveRTT >= pongTimeout {
				t.Errorf("last keepalive RTT %v, want in (0, %v)", st.LastKeepaliveRTT, pongTimeout)
			}
			if mode == keepalive.Options {
				if len(answers) < pongs || slices.ContainsFunc(answers, func(a string) bool { return a != "SIP/2.0 200 OK" }) {
					t.Errorf("Kamailio answered the keepalive OPTIONS with %q, want %d or more 200s (options_reply)", answers, pongs)
				}
			}
			if got := alice.tr.Status(); got != transport.StatusOpen {
				t.Fatalf("status %v after the keepalives, want OPEN; events %v", got, alice.eventsSnapshot())
			}
			alice.transact(t, alice.sip.Options(), 200)
		})
	}
}

// traceLog keeps the JSON lines of a transport's SIP trace.
type traceLog struct {
	mu    sync.Mutex
	lines [][]byte
}

func (l *traceLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for line := range bytes.SplitSeq(p, []byte("\n")) {
		if len(line) > 0 {
			l.lines = append(l.lines, bytes.Clone(line))
		}
	}
	return len(p), nil
}

// keepaliveAnswers returns the status lines of the responses to the
// transport's keepalive OPTIONS it received, in order.
func (l *traceLog) keepaliveAnswers() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		var e struct {
			Msg     string `json:"@message"`
			Message string `json:"message"`
		}
		if json.Unmarshal(line, &e) != nil || e.Msg != "SIP received" ||
			!strings.Contains(e.Message, "Call-ID: sipws-keepalive-") || !strings.HasPrefix(e.Message, "SIP/2.0 ") {
			continue
		}
		out = append(out, sipua.StartLine([]byte(e.Message)))
	}
	return out
}

func testStockReadBuffer(t *testing.T, k *peers, b backend, scheme string) {
	// Instance 3 with the stock buffer; stopped again at the end, so that
	// ServerPing starts it with its own setting.
	k.down(t, 3)
	k.up(t, 3, "KAMAILIO_TCP_RD_BUF=16384", "WS_KEEPALIVE_TIMEOUT=30")
	t.Cleanup(func() { k.down(t, 3) })
	srv := k.server(t, 3, scheme, 0)
	for _, tt := range []struct {
		size int
		pass bool
	}{{16000, true}, {16375, true}, {16376, false}, {20 << 10, false}} {
		t.Run(fmt.Sprint(tt.size), func(t *testing.T) {
			alice := newUA(t, b, "alice", scheme, k.config(t, scheme, srv))
			alice.connect(t)
			req := optionsOfSize(alice, tt.size)
			if tt.pass {
				alice.transact(t, req, 200)
				return
			}
			start := time.Now()
			// Usually nil: the frame went out whole. Over wss Kamailio may
			// drop the connection on the first TLS record, before the
			// client has written the second: the write then fails, on
			// the socket the backend closed when its read side saw the
			// drop (the cause is then still the read side's 1006), or
			// on the reset itself, when the write saw it first.
			err := alice.tr.Send(context.Background(), req.Raw)
			dis, _ := alice.awaitEvent(t, "Disconnected after the large OPTIONS", 0, wait, isEvent("disconnected", srv.URI))
			t.Logf("alice: %d-byte OPTIONS: Send %v; Disconnected %v later: %v", tt.size, err,
				dis.at.Sub(start).Round(time.Millisecond), dis.err)
			reset := errors.Is(dis.err, syscall.ECONNRESET) || errors.Is(dis.err, syscall.EPIPE)
			if code := closeCode(dis.err); code != dialer.CloseAbnormal && (err == nil || !reset) {
				t.Errorf("Disconnected %v (Send %v), want 1006, no close frame, or the reset of a write that failed", dis.err, err)
			}
		})
	}
}

// optionsOfSize builds an OPTIONS to the server of exactly n bytes, a body
// padding it.
func optionsOfSize(u *ua, n int) sipua.Request {
	pad := 0
	for {
		req := u.sip.NewRequest("OPTIONS", sipua.Fields{RURI: "sip:127.0.0.1", To: "sip:127.0.0.1",
			ContentType: "text/plain", Body: strings.Repeat("x", pad)})
		if len(req.Raw) == n {
			return req
		}
		pad = max(pad+n-len(req.Raw), 0)
	}
}

func testServerPing(t *testing.T, k *peers, b backend, scheme string) {
	// Instance 3 pings after 1 s idle (checked every second): an answered
	// flow sees a Ping about every 2-3 s; an unanswered Ping is followed by
	// no other, and Kamailio drops the flow, which it then reports to the
	// client only on its next write (measured: after 5 s idle).
	const keepaliveTimeout = time.Second
	k.up(t, 3, fmt.Sprintf("WS_KEEPALIVE_TIMEOUT=%d", int(keepaliveTimeout/time.Second)))
	// Once in about 20 runs on a loaded machine, Kamailio drops a flow
	// whose every Ping was answered. The likely cause (not checked in its
	// source here): it sets its "awaiting pong" flag after its Ping's send
	// returns, in its timer process, and a Pong from 127.0.0.1 (100-400 µs
	// later) handled first by its TCP worker clears nothing. Either way it
	// is the server's doing, not the client's: when it happens with every
	// Ping answered within 50 ms, the case runs once more.
	for attempt := 1; ; attempt++ {
		dropped, answered := serverPingAttempt(t, k, b, scheme, keepaliveTimeout)
		if !dropped {
			return
		}
		if !answered || attempt == 2 {
			t.Fatalf("Kamailio dropped the idle flow (attempt %d; every Ping answered within 50 ms: %v)", attempt, answered)
		}
		t.Logf("attempt %d: Kamailio dropped the flow although every Ping was answered within 50 ms (its keepalive flag race); once more", attempt)
	}
}

// serverPingAttempt runs one idle flow against instance 3 and reports
// whether Kamailio dropped it, and whether every Ping it sent was answered
// with a Pong within 50 ms. It fails t on anything else.
func serverPingAttempt(t *testing.T, k *peers, b backend, scheme string, keepaliveTimeout time.Duration) (dropped, answered bool) {
	const pings = 2
	tap := newWireTap()
	alice := newUAOver(t, b, "alice", scheme, k.config(t, scheme, k.server(t, 3, scheme, 0)), tap.dial)
	start := time.Now()
	alice.connect(t)

	// Real time on purpose: the Pings come from Kamailio's timer, and the
	// transport reports no control frame; poll the tap, bounded by the
	// answered schedule with a margin.
	deadline := time.Now().Add(pings*3*keepaliveTimeout + slack)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for tap.count(opPing) < pings && time.Now().Before(deadline) && len(alice.eventsSnapshot()) == 1 {
		<-tick.C
	}
	idle := time.Since(start)
	// The Pong to the Ping just seen may be a few hundred µs behind it.
	for end := time.Now().Add(50 * time.Millisecond); tap.pongsWritten() < tap.count(opPing) && time.Now().Before(end); {
		<-tick.C
	}
	answered, slowest := tap.answeredWithin(50 * time.Millisecond)
	t.Logf("alice: %d WebSocket Pings from Kamailio in %v idle, %d Pongs, slowest answer %v",
		tap.count(opPing), idle.Round(time.Millisecond), tap.pongsWritten(), slowest)
	if ev := alice.eventsSnapshot(); len(ev) != 1 || alice.tr.Status() != transport.StatusOpen {
		t.Logf("status %v, events %v; want OPEN since the first connect", alice.tr.Status(), ev)
		alice.tr.Disconnect(context.Background())
		return true, answered
	}
	if got := tap.count(opPing); got < pings {
		t.Errorf("%d Pings from Kamailio in %v, want %d: a second Ping comes only when the first was answered",
			got, idle.Round(time.Millisecond), pings)
	}
	if !answered {
		t.Errorf("a Ping from Kamailio was not answered with a Pong within 50 ms")
	}
	// Kamailio still serves the flow.
	alice.transact(t, alice.sip.Options(), 200)
	return false, answered
}

func testRestart(t *testing.T, k *peers, b backend, scheme string) {
	srv := k.server(t, 1, scheme, 0)
	cfg := k.config(t, scheme, srv)
	// Enough retries to outlast the stop and the start, so this case
	// shows reconnection; Failover shows what follows when they run out.
	cfg.MaxReconnectionAttempts = int((stopTimeout + startTimeout) / cfg.ReconnectionTimeout)
	alice := newUA(t, b, "alice", scheme, cfg)
	alice.connect(t)
	alice.register(t)

	from := len(alice.eventsSnapshot())
	stopped := time.Now()
	k.down(t, 1)
	dis, i := alice.awaitEvent(t, "Disconnected after Kamailio stopped", from, wait, isEvent("disconnected", srv.URI))
	t.Logf("alice: Disconnected %v after SIGTERM: %v", dis.at.Sub(stopped).Round(time.Millisecond), dis.err)
	if code := closeCode(dis.err); code != dialer.CloseAbnormal {
		t.Errorf("Disconnected error %v: close code %d, want %d (Kamailio sends no Close frame when it stops)",
			dis.err, code, dialer.CloseAbnormal)
	}

	started := time.Now()
	k.up(t, 1) // returns once Kamailio serves its ports
	// A retry is due within ReconnectionTimeout, after at most one attempt
	// in progress (it may have reached the instance as it started).
	bound := 2*cfg.ConnectionTimeout + cfg.ReconnectionTimeout + slack
	con, _ := alice.awaitEvent(t, "Connected after Kamailio restarted", i+1, bound, isEvent("connected", srv.URI))
	t.Logf("alice: Connected %v after start.sh began (%v after the stop began)",
		con.at.Sub(started).Round(time.Millisecond), con.at.Sub(stopped).Round(time.Millisecond))
	// Registrations live in Kamailio's memory only: register again.
	alice.register(t)

	st := alice.tr.Stats()
	if st.Connects != 2 || st.Reconnects < 1 || st.Failovers != 0 || st.Recoveries != 0 {
		t.Errorf("connects %d, reconnects %d, failovers %d, recoveries %d; want 2, at least 1, 0, 0",
			st.Connects, st.Reconnects, st.Failovers, st.Recoveries)
	}
	alice.logEvents(t)
}

func testFailover(t *testing.T, k *peers, b backend, scheme string) {
	k.up(t, 2)
	preferred := k.server(t, 1, scheme, 10)
	backup := k.server(t, 2, scheme, 1)
	// Listed backup first: the weight decides, not the order.
	cfg := k.config(t, scheme, backup, preferred)
	cfg.MaxReconnectionAttempts = 1
	alice := newUA(t, b, "alice", scheme, cfg)
	alice.connect(t)
	alice.wantServer(t, preferred)
	alice.register(t)

	// Stop the preferred server: one retry at once, refused, then the
	// backup at once.
	before := alice.tr.Stats()
	from := len(alice.eventsSnapshot())
	stopped := time.Now()
	k.down(t, 1)
	dis, i := alice.awaitEvent(t, "Disconnected from the preferred server", from, wait, isEvent("disconnected", preferred.URI))
	bound := serverBudget(cfg) + cfg.ConnectionTimeout + slack
	con, _ := alice.awaitEvent(t, "Connected to the backup", i+1, bound, isEvent("connected", backup.URI))
	t.Logf("alice: Disconnected %v after the preferred server got SIGTERM (%v), on the backup %v later",
		dis.at.Sub(stopped).Round(time.Millisecond), dis.err, con.at.Sub(dis.at).Round(time.Millisecond))
	within(t, "failing over to the backup", con.at.Sub(dis.at), bound)
	alice.wantServer(t, backup)
	alice.register(t)
	after := alice.tr.Stats()
	if got, want := after.Reconnects-before.Reconnects, uint64(cfg.MaxReconnectionAttempts); got != want {
		t.Errorf("%d retries on the preferred server before failing over, want MaxReconnectionAttempts = %d", got, want)
	}
	if got := after.Failovers - before.Failovers; got != 1 {
		t.Errorf("%d servers marked in error when the preferred one stopped, want 1", got)
	}

	// Stop the backup and bring the preferred server back: recovery finds it.
	from = len(alice.eventsSnapshot())
	stopped = time.Now()
	k.down(t, 2)
	_, i = alice.awaitEvent(t, "Disconnected from the backup", from, wait, isEvent("disconnected", backup.URI))
	started := time.Now()
	k.up(t, 1)
	// At worst a pass over both servers is under way, then a recovery
	// wait, then the first attempt of the next pass (the preferred).
	bound = 2*serverBudget(cfg) + cfg.RecoveryMaxInterval + cfg.ConnectionTimeout + slack
	con, _ = alice.awaitEvent(t, "Connected to the preferred server again", i+1, bound, isEvent("connected", preferred.URI))
	t.Logf("alice: back on the preferred server %v after start.sh began (%v after the backup got SIGTERM)",
		con.at.Sub(started).Round(time.Millisecond), con.at.Sub(stopped).Round(time.Millisecond))
	alice.wantServer(t, preferred)
	alice.register(t)
	if st := alice.tr.Stats(); st.Recoveries < 1 {
		t.Errorf("recoveries %d after both servers failed, want at least 1", st.Recoveries)
	}
	alice.logEvents(t)
}

// wantServer fails t unless the transport is OPEN on want.
func (u *ua) wantServer(t *testing.T, want selector.Server) {
	t.Helper()
	if got, ok := u.tr.Server(); !ok || got.URI != want.URI {
		t.Fatalf("%s: on server %q (open: %v), want %q; events %v", u.user, got.URI, ok, want.URI, u.eventsSnapshot())
	}
}

// logEvents logs every event with its time since the UA was made.
func (u *ua) logEvents(t *testing.T) {
	t.Helper()
	var b strings.Builder
	for _, e := range u.eventsSnapshot() {
		b.WriteString("\n  +" + e.at.Sub(u.created).Round(time.Millisecond).String() + " " + e.String())
	}
	st := u.tr.Stats()
	t.Logf("%s: events:%s\n  stats: dials %d, connects %d, reconnects %d, failovers %d, recoveries %d",
		u.user, b.String(), st.Dials, st.Connects, st.Reconnects, st.Failovers, st.Recoveries)
}
