package conformance

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/transport"
)

// transportCases drive the backend through transport.Base, the way a SIP
// stack uses it: each checks a behaviour of SPEC.md that depends on the
// backend reporting what happened on the wire the way package dialer says.
var transportCases = []testCase{
	{
		name: "Transport/ConnectSendReceive",
		rule: must("Connect opens the flow, Send writes a request, and its answer reaches Events.Message exactly once, in order (SPEC.md \"Connecting\", \"Sending\", \"Receiving\")"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			f := e.flow(e.config(at(s, 0)))
			f.mustConnect()
			if st := f.b.Status(); st != transport.StatusOpen {
				e.t.Errorf("Status after Connect = %v; want OPEN", st)
			}
			for n := 1; n <= 2; n++ {
				if err := f.send(optionsRequest(n)); err != nil {
					e.t.Fatalf("Send(OPTIONS %d): %v; want nil", n, err)
				}
				ev, _ := f.waitEvents(patience, func(ev events) bool { return len(ev.messages) >= n || len(ev.dropped) > 0 })
				if len(ev.dropped) > 0 {
					e.t.Fatalf("the answer to OPTIONS %d reached Events.MessageDropped (%q); want Events.Message", n, truncate(ev.dropped[0]))
				}
				if len(ev.messages) < n {
					e.t.Fatalf("no answer to OPTIONS %d reached Events.Message within %v", n, patience)
				}
			}
			ev, _ := f.ev.snapshot()
			var got []string
			for _, m := range ev.messages {
				got = append(got, m.cseq)
				if m.status != 200 {
					e.t.Errorf("Events.Message got status %d for CSeq %s; want 200", m.status, m.cseq)
				}
			}
			if want := []string{"1 OPTIONS", "2 OPTIONS"}; !slices.Equal(got, want) {
				e.t.Errorf("Events.Message got answers with CSeq %q; want %q, each once", got, want)
			}
			if got := s.Received(); len(got) != 2 || string(got[0]) != optionsRequest(1) || string(got[1]) != optionsRequest(2) {
				e.t.Errorf("the server received %d messages; want the 2 requests as sent", len(got))
			}
		},
	},
	{
		name: "Transport/FailoverWhenPrimaryRefuses",
		rule: must("a server that refuses the upgrade is retried, marked in error with the refusal as a *dialer.HandshakeError, and the next server by weight is used (SPEC.md \"Connecting, failing over, recovering\" 3)"),
		run: func(e *env) {
			primary := e.server(sipserver.Options{Name: "primary"})
			primary.SetHandshake(sipserver.HandshakeRefuse)
			secondary := e.server(sipserver.Options{Name: "secondary"})
			f := e.flow(e.config(at(primary, 10), at(secondary, 1)))
			f.mustConnect()
			// Connect returns at OPEN; Events.Connected follows on the
			// transport's goroutine.
			ev, _ := f.waitEvents(patience, func(ev events) bool { return len(ev.connected) >= 1 })
			if len(ev.connected) != 1 || !sameServer(ev.connected[0], secondary) {
				e.t.Errorf("Events.Connected got %q; want the secondary %s only", ev.connected, secondary.URL())
			}
			if n := primary.Handshakes(); n != 2 {
				e.t.Errorf("the primary saw %d attempts; want 2 (one retry, MaxReconnectionAttempts 1)", n)
			}
			var se *transport.ServerError
			var he *dialer.HandshakeError
			switch {
			case len(ev.serverErrors) != 1 || !errors.As(ev.serverErrors[0], &se):
				e.t.Errorf("Events.TransportError got %v; want one *transport.ServerError for the primary", ev.serverErrors)
			case !sameServer(se.Server.URI, primary):
				e.t.Errorf("Events.TransportError named %s; want the primary %s", se.Server.URI, primary.URL())
			case !errors.As(se, &he) || he.StatusCode != 503:
				e.t.Errorf("the primary's error is %v; want a *dialer.HandshakeError with StatusCode 503", se.Err)
			}
		},
	},
	{
		name: "Transport/ReconnectAfterServerDrop",
		rule: must("a connection dropped without a close frame reaches Events.Disconnected as a *dialer.CloseError with code 1006, and the server is dialled again at once (SPEC.md \"Connecting, failing over, recovering\" 3; RFC 6455 §7.1.5)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			f := e.flow(e.config(at(s, 0)))
			f.mustConnect()
			s.DropAll()
			if _, ok := f.waitEvents(settle, func(ev events) bool { return len(ev.disconnected) >= 1 }); !ok {
				e.t.Fatalf("no Events.Disconnected within %v of the server dropping the connection", settle)
			}
			ev, ok := f.waitEvents(patience, func(ev events) bool { return len(ev.connected) >= 2 })
			var ce *dialer.CloseError
			if err := ev.disconnected[0].err; !errors.As(err, &ce) || ce.Code != dialer.CloseAbnormal {
				e.t.Errorf("Events.Disconnected got %v; want a *dialer.CloseError with code 1006", err)
			}
			if !ok {
				e.t.Errorf("Events.Connected fired %d times within %v; want a second connection", len(ev.connected), patience)
			}
		},
	},
	{
		name: "Transport/RecoveryAfterAllServersDown",
		rule: must("when every server fails, Connect returns a *transport.ConnectError and recovery keeps trying until a server answers again (SPEC.md \"Connecting, failing over, recovering\" 4, 5)"),
		run: func(e *env) {
			a := e.server(sipserver.Options{Name: "a"})
			b := e.server(sipserver.Options{Name: "b"})
			a.SetHandshake(sipserver.HandshakeCloseTCP)
			b.SetHandshake(sipserver.HandshakeCloseTCP)
			cfg := e.config(at(a, 1), at(b, 1))
			cfg.MaxReconnectionAttempts = -1
			f := e.flow(cfg)
			err := f.connect(patience)
			var ce *transport.ConnectError
			if !errors.As(err, &ce) || len(ce.Servers) != 2 {
				e.t.Fatalf("Connect with both servers down: %v; want a *transport.ConnectError naming both", err)
			}
			before := f.attempts()
			a.SetHandshake(sipserver.HandshakeAccept)
			b.SetHandshake(sipserver.HandshakeAccept)
			ev, ok := f.waitEvents(2*patience, func(ev events) bool { return len(ev.connected) >= 1 || ev.attempts() >= before+4 })
			if len(ev.connected) == 0 {
				e.t.Fatalf("no Events.Connected after %d attempts once the servers came back (%d and %d handshakes seen by them; in time: %v)",
					ev.attempts()-before, a.Handshakes(), b.Handshakes(), ok)
			}
			if st := f.b.Status(); st != transport.StatusOpen || !(sameServer(ev.connected[0], a) || sameServer(ev.connected[0], b)) {
				e.t.Errorf("after recovery: Status %v, connected to %q; want OPEN to one of the servers", st, ev.connected)
			}
		},
	},
	{
		name: "Transport/ConnectionTimeoutOnStalledHandshake",
		rule: must("an attempt whose handshake does not finish within ConnectionTimeout fails with an error wrapping transport.ErrConnectionTimeout, its socket is closed (SIP.js issue 706), and the next attempt follows (SPEC.md \"Connecting, failing over, recovering\" 3)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeStall)
			cfg := e.config(at(s, 0))
			cfg.ConnectionTimeout = handshakeStall
			cfg.MaxReconnectionAttempts = -1
			f := e.flow(cfg)
			began := time.Now()
			err := f.connect(handshakeStall + settle)
			if took := time.Since(began); !errors.Is(err, transport.ErrConnectionTimeout) {
				e.t.Fatalf("Connect against a stalled server returned %v after %v; want an error wrapping transport.ErrConnectionTimeout after ConnectionTimeout %v",
					err, took.Round(time.Millisecond), handshakeStall)
			}
			before := f.attempts()
			s.SetHandshake(sipserver.HandshakeAccept)
			if ev, _ := f.waitEvents(2*patience, func(ev events) bool { return len(ev.connected) >= 1 || ev.attempts() >= before+4 }); len(ev.connected) == 0 {
				e.t.Fatalf("no connection after %d attempts once the server answered again (%d handshakes, %d disconnections); want the next attempt to succeed",
					ev.attempts()-before, s.Handshakes(), len(ev.disconnected))
			}
			if !e.waitFor(s, settle, func() bool { return s.OpenTCP() == 1 }) {
				e.t.Errorf("%d TCP connections open after %d attempts; want 1, the open connection: every timed-out attempt must close its socket",
					s.OpenTCP(), s.Handshakes())
			}
		},
	},
	{
		name: "Transport/MissingSubprotocolIsFailedAttempt",
		rule: must("a server that does not select \"sip\" fails the attempt with dialer.ErrSubprotocol, and it counts like any failed attempt: one retry, then the server is marked in error (SPEC.md \"Server URIs\", \"Connecting\" 3; RFC 7118 §4)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeOmitSubprotocol)
			cfg := e.config(at(s, 0))
			cfg.NewRecoveryBackOff = func() backoff.BackOff { return &backoff.StopBackOff{} }
			f := e.flow(cfg)
			err := f.connect(patience)
			var ce *transport.ConnectError
			if !errors.As(err, &ce) || !errors.Is(err, dialer.ErrSubprotocol) {
				e.t.Errorf("Connect: %v; want a *transport.ConnectError wrapping dialer.ErrSubprotocol", err)
			}
			if n := s.Handshakes(); n != 2 {
				e.t.Errorf("the server saw %d attempts; want 2: the first and one retry (MaxReconnectionAttempts 1), no retry inside Dial", n)
			}
			if st := f.b.Status(); st != transport.StatusClosed {
				e.t.Errorf("Status = %v; want CLOSED", st)
			}
			if !e.waitFor(s, patience, func() bool { return s.OpenTCP() == 0 }) {
				e.t.Errorf("%d TCP connections still open; want 0: a failed attempt closes its socket", s.OpenTCP())
			}
		},
	},
	{
		name: "Transport/DisconnectDuringConnect",
		rule: must("Disconnect during a connection attempt aborts it promptly, closes its socket, leaves the transport CLOSED and no goroutine behind, and the waiting Connect returns transport.ErrDisconnected (SPEC.md \"Connecting, failing over, recovering\" 6)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeStall)
			cfg := e.config(at(s, 0))
			cfg.ConnectionTimeout = caseTimeout // only Disconnect can end the attempt
			f := e.flow(cfg)
			connecting := start(e, "Connect", func() error { return f.b.Connect(e.ctx) })
			if !e.waitFor(s, patience, func() bool { return len(s.Requests()) >= 1 }) {
				e.t.Fatalf("the server got no upgrade request within %v of Connect", patience)
			}
			if took, err := f.disconnect(settle); err != nil {
				e.t.Fatalf("Disconnect during the handshake returned %v after %v; want nil within %v", err, took.Round(time.Millisecond), settle)
			}
			if st := f.b.Status(); st != transport.StatusClosed {
				e.t.Errorf("Status after Disconnect = %v; want CLOSED", st)
			}
			if err := connecting.wait(settle); !errors.Is(err, transport.ErrDisconnected) {
				e.t.Errorf("the waiting Connect returned %v; want transport.ErrDisconnected", err)
			}
			if !e.waitFor(s, settle, func() bool { return s.OpenTCP() == 0 }) {
				e.t.Errorf("%d TCP connections still open after Disconnect; want 0: the aborted attempt closes its socket", s.OpenTCP())
			}
			e.closeServers()
			e.noLeaks("after Disconnect during a connection attempt")
		},
	},
	{
		name: "Transport/SendRacingDisconnect",
		rule: must("Send racing Disconnect returns nil or an error wrapping transport.ErrNotConnected, and never panics nor hangs: the backend's WriteMessage and Close run concurrently (SPEC.md \"Sending\"; dialer.Conn)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			f := e.flow(e.config(at(s, 0)))
			f.mustConnect()
			var senders []*future[error]
			for i := range 4 {
				senders = append(senders, start(e, "Send loop", func() error {
					for n := 0; ; n++ {
						if err := f.b.Send(context.Background(), []byte(optionsRequest(i*1_000_000+n))); err != nil {
							return err
						}
					}
				}))
			}
			if !e.waitFor(s, patience, func() bool { return len(s.Received()) >= 20 }) {
				e.t.Fatalf("the Send loops got %d messages through within %v; want 20", len(s.Received()), patience)
			}
			if took, err := f.disconnect(patience); err != nil {
				e.t.Errorf("Disconnect during Sends returned %v after %v; want nil", err, took.Round(time.Millisecond))
			}
			for _, fu := range senders {
				if err := fu.wait(patience); !errors.Is(err, transport.ErrNotConnected) {
					e.t.Errorf("a Send racing Disconnect returned %v; want nil or an error wrapping transport.ErrNotConnected", err)
				}
			}
			if err := f.send(optionsRequest(0)); !errors.Is(err, transport.ErrNotConnected) {
				e.t.Errorf("Send after Disconnect returned %v; want transport.ErrNotConnected", err)
			}
		},
	},
	{
		name: "Transport/PongTimeoutClosesHalfOpen",
		rule: must("with KeepAlivePongTimeout, a CRLF ping left unanswered means the flow failed: the socket is closed with 1001 within the interval and the pong timeout (here under one second of Connect), Events.Disconnected gets transport.ErrPongTimeout, and the transport reconnects (SPEC.md \"Keepalive\"; RFC 5626 §4.4.1)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{}) // a half-open flow: nothing answers the pings
			cfg := e.config(at(s, 0))
			cfg.KeepAliveInterval = 100 * time.Millisecond
			cfg.KeepAlivePongTimeout = 200 * time.Millisecond
			f := e.flow(cfg)
			// The first ping is due within the interval of OPEN (its period
			// is drawn in [0.8, 1) of it) and the pong timeout runs 200 ms
			// from it: the close comes 300 ms after OPEN at the latest.
			// Measured from before Connect, whatever the scheduler adds.
			const bound = time.Second
			began := time.Now()
			f.mustConnect()
			sc := firstConn(e, s)
			code, reason, ok := e.clientClose(s, sc, bound-time.Since(began))
			took := time.Since(began)
			switch {
			case !ok && took < bound:
				e.t.Fatalf("the flow ended without a close frame after %v (the server received %q)", took.Round(time.Millisecond), sc.Received())
			case !ok:
				e.t.Fatalf("no close frame within %v of Connect for pings unanswered (the server received %d messages); want the pong timeout to close the flow by 300 ms after OPEN", bound, len(sc.Received()))
			case code != dialer.CloseGoingAway:
				e.t.Errorf("the half-open flow was closed with %d %q; want 1001", code, reason)
			}
			if got := sc.Received(); len(got) == 0 || string(got[0]) != "\r\n\r\n" {
				e.t.Errorf("the server received %q before the close; want a CRLF CRLF ping", got)
			}
			ev, ok := f.waitEvents(patience, func(ev events) bool { return len(ev.connected) >= 2 })
			if len(ev.disconnected) == 0 || !errors.Is(ev.disconnected[0].err, transport.ErrPongTimeout) {
				e.t.Errorf("Events.Disconnected got %v; want transport.ErrPongTimeout", ev.disconnected)
			}
			if !ok {
				e.t.Errorf("Events.Connected fired %d times within %v; want a reconnection", len(ev.connected), patience)
			}
		},
	},
	{
		name: "Transport/ServerCloseCodeReachesDisconnected",
		rule: must("a close frame from the server ends the connection and its code and reason reach Events.Disconnected as a *dialer.CloseError (SPEC.md \"Receiving\"; RFC 6455 §7.1.5)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			f := e.flow(e.config(at(s, 0)))
			f.mustConnect()
			firstConn(e, s)
			s.CloseAll(4000, "bye")
			ev, ok := f.waitEvents(patience, func(ev events) bool { return len(ev.disconnected) >= 1 })
			if !ok {
				e.t.Fatalf("no Events.Disconnected within %v of the server's close frame", patience)
			}
			var ce *dialer.CloseError
			if err := ev.disconnected[0].err; !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "bye" {
				e.t.Errorf("Events.Disconnected got %v; want a *dialer.CloseError with code 4000 and reason \"bye\"", err)
			}
		},
	},
	{
		name: "Transport/DisconnectSends1000",
		rule: must("Disconnect closes an open connection with code 1000, returns once CLOSED, and Events.Disconnected gets a nil error (SPEC.md \"Connecting, failing over, recovering\" 6)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			f := e.flow(e.config(at(s, 0)))
			f.mustConnect()
			sc := firstConn(e, s)
			if took, err := f.disconnect(patience); err != nil {
				e.t.Fatalf("Disconnect returned %v after %v; want nil", err, took.Round(time.Millisecond))
			}
			if st := f.b.Status(); st != transport.StatusClosed {
				e.t.Errorf("Status after Disconnect = %v; want CLOSED", st)
			}
			if code, reason, ok := e.clientClose(s, sc, patience); !ok {
				e.t.Errorf("the connection ended without a close frame from the client after Disconnect")
			} else if code != dialer.CloseNormalClosure {
				e.t.Errorf("the server got close %d %q; want 1000", code, reason)
			}
			ev, _ := f.ev.snapshot()
			if len(ev.disconnected) != 1 || ev.disconnected[0].err != nil {
				e.t.Errorf("Events.Disconnected got %v; want one call with a nil error", ev.disconnected)
			}
		},
	},
	{
		name: "Transport/CRLFPingAnswered",
		rule: must("a CRLF CRLF from the server is a keepalive ping: the transport answers CRLF and delivers nothing (SPEC.md \"Keepalive\"; RFC 5626 §4.4.1)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			f := e.flow(e.config(at(s, 0)))
			f.mustConnect()
			sc := firstConn(e, s)
			// The ping, then a request: once the request is delivered, the
			// ping before it has been read, and answered.
			serverSendText(e, sc, "\r\n\r\n")
			serverSendText(e, sc, optionsRequest(1))
			ev, _ := f.waitEvents(patience, func(ev events) bool { return len(ev.messages)+len(ev.dropped) > 0 })
			if len(ev.messages)+len(ev.dropped) == 0 {
				e.t.Fatalf("the request sent after the CRLF CRLF ping reached no event within %v", patience)
			}
			if !e.waitFor(s, settle, func() bool { return slices.ContainsFunc(sc.Received(), isPong) }) {
				e.t.Errorf("the server received %q, and no CRLF pong, %v after the request it sent behind its CRLF CRLF ping was delivered", sc.Received(), settle)
			}
			ev, _ = f.ev.snapshot()
			if len(ev.messages) != 1 || len(ev.dropped) != 0 || ev.messages[0].cseq != "1 OPTIONS" {
				e.t.Errorf("Events.Message got %d messages and MessageDropped %d; want the request alone: the ping is neither", len(ev.messages), len(ev.dropped))
			}
		},
	},
	{
		name: "Transport/DisconnectLeavesNoGoroutine",
		rule: must("once Disconnect returns, no goroutine of the transport or the backend is left (SPEC.md \"Connecting, failing over, recovering\" 6; dialer.Conn)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			f := e.flow(e.config(at(s, 0)))
			f.mustConnect()
			if err := f.send(optionsRequest(1)); err != nil {
				e.t.Fatalf("Send: %v", err)
			}
			if _, ok := f.waitEvents(patience, func(ev events) bool { return len(ev.messages) >= 1 }); !ok {
				e.t.Fatalf("no answer within %v", patience)
			}
			if _, err := f.disconnect(patience); err != nil {
				e.t.Fatalf("Disconnect: %v", err)
			}
			e.closeServers()
			e.noLeaks("after Disconnect")
		},
	},
	{
		name: "Transport/ConnectOverWSS",
		rule: must("over wss the transport verifies the server against Dial.TLSConfig and the URI's host, then works as over ws (SPEC.md \"Server URIs\")"),
		run: func(e *env) {
			s := e.server(sipserver.Options{TLS: true})
			cfg := e.config(at(s, 0))
			cfg.Dial.TLSConfig = s.ClientTLSConfig()
			f := e.flow(cfg)
			f.mustConnect()
			if err := f.send(optionsRequest(1)); err != nil {
				e.t.Fatalf("Send: %v", err)
			}
			ev, ok := f.waitEvents(patience, func(ev events) bool { return len(ev.messages) >= 1 })
			if !ok || ev.messages[0].status != 200 {
				e.t.Errorf("no 200 answer reached Events.Message within %v over wss (got %d messages)", patience, len(ev.messages))
			}
		},
	},
}

// firstConn returns the server's first open connection, waiting for it.
func firstConn(e *env, s *sipserver.Server) *sipserver.Conn {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, patience)
	defer cancel()
	conns, err := s.WaitConns(ctx, 1)
	if err != nil {
		e.t.Fatalf("the server has no open connection: %v", err)
	}
	return conns[0]
}

func isPong(p []byte) bool { return string(p) == "\r\n" }
