package conformance

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/hashicorp/go-hclog"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// The transport cases' timing: real sockets, short real timeouts. The
// exact schedules are tested with synctest in package transport; here a
// timeout only has to be short enough for the case to be quick.
const (
	reconnectionTimeout = 50 * time.Millisecond
	recoveryInterval    = 50 * time.Millisecond
	connectionTimeout   = patience // when a case does not test the timeout itself
)

// config returns the suite's transport configuration for servers: one
// retry per server 50 ms apart, recovery every 50 ms, and the transport's
// logs in the case's log.
func (e *env) config(servers ...selector.Server) transport.Config {
	return transport.Config{
		Servers:                 servers,
		ConnectionTimeout:       connectionTimeout,
		MaxReconnectionAttempts: 1,
		ReconnectionTimeout:     reconnectionTimeout,
		NewRecoveryBackOff: func() backoff.BackOff {
			return backoff.NewConstantBackOff(recoveryInterval)
		},
		Logger: hclog.New(&hclog.LoggerOptions{Output: e, Level: hclog.Debug}),
	}
}

// at names server s with weight w in a transport configuration.
func at(s *sipserver.Server, w int) selector.Server {
	return selector.Server{URI: s.URL(), Weight: w}
}

// flow is a transport.Base over the case's Dialer, with every event
// recorded. The case's cleanup disconnects it.
type flow struct {
	e  *env
	b  *transport.Base
	ev *eventLog
}

// flow makes a transport with cfg over the case's Dialer.
func (e *env) flow(cfg transport.Config) *flow {
	e.t.Helper()
	ev := &eventLog{changed: make(chan struct{})}
	cfg.Events = ev.events()
	b, err := transport.NewBase(cfg, e.dialer())
	if err != nil {
		e.t.Fatalf("transport.NewBase: %v", err)
	}
	e.t.Cleanup(func() {
		if e.t.Failed() {
			// A backend that broke may hold a dial the servers' close
			// ends; Disconnect then need not wait for it.
			e.closeServers()
		}
		start(e, "Disconnect at the end of the case", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), patience)
			defer cancel()
			return b.Disconnect(ctx)
		}).settle(patience + time.Second)
	})
	return &flow{e: e, b: b, ev: ev}
}

// connect calls Connect with a context that ends after d and returns its
// result; Connect itself must return by then.
func (f *flow) connect(d time.Duration) error {
	f.e.t.Helper()
	return within(f.e, "Connect", d+patience, func() error {
		ctx, cancel := context.WithTimeout(f.e.ctx, d)
		defer cancel()
		return f.b.Connect(ctx)
	})
}

// mustConnect connects and fails the case unless it succeeds.
func (f *flow) mustConnect() {
	f.e.t.Helper()
	if err := f.connect(patience); err != nil {
		f.e.t.Fatalf("Connect: %v; want nil", err)
	}
}

// disconnect calls Disconnect with a context that ends after d and
// returns how long it took and its result.
func (f *flow) disconnect(d time.Duration) (time.Duration, error) {
	f.e.t.Helper()
	began := time.Now()
	err := within(f.e, "Disconnect", d+patience, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return f.b.Disconnect(ctx)
	})
	return time.Since(began), err
}

// send calls Send, bounded.
func (f *flow) send(msg string) error {
	f.e.t.Helper()
	return within(f.e, "Send", patience, func() error {
		return f.b.Send(f.e.ctx, []byte(msg))
	})
}

// waitEvents waits at most d until cond holds on the events recorded so
// far, and returns them with whether it did.
func (f *flow) waitEvents(d time.Duration, cond func(events) bool) (events, bool) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		ev, changed := f.ev.snapshot()
		if cond(ev) {
			return ev, true
		}
		select {
		case <-changed:
		case <-timer.C:
			return ev, false
		case <-f.e.ctx.Done():
			return ev, false
		}
	}
}

// attempts returns the connection attempts so far: the transitions to
// CONNECTING.
func (f *flow) attempts() int {
	ev, _ := f.ev.snapshot()
	return ev.attempts()
}

func (ev events) attempts() int {
	n := 0
	for _, st := range ev.statuses {
		if st == transport.StatusConnecting {
			n++
		}
	}
	return n
}

// events is a copy of what a transport reported.
type events struct {
	connected    []string // server URIs
	disconnected []disconnection
	messages     []delivered
	dropped      [][]byte
	serverErrors []error // TransportError
	statuses     []transport.Status
}

type disconnection struct {
	server string
	err    error
}

// delivered is one message given to Events.Message.
type delivered struct {
	raw    []byte
	status int    // 0 for a request
	cseq   string // the CSeq header
}

// eventLog records a transport's events; every callback runs on the
// transport's goroutine, never the case's.
type eventLog struct {
	mu      sync.Mutex
	ev      events
	changed chan struct{}
}

func (l *eventLog) record(f func(ev *events)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(&l.ev)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *eventLog) snapshot() (events, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ev := l.ev
	ev.connected = slices.Clone(ev.connected)
	ev.disconnected = slices.Clone(ev.disconnected)
	ev.messages = slices.Clone(ev.messages)
	ev.dropped = slices.Clone(ev.dropped)
	ev.serverErrors = slices.Clone(ev.serverErrors)
	ev.statuses = slices.Clone(ev.statuses)
	return ev, l.changed
}

func (l *eventLog) events() transport.Events {
	return transport.Events{
		Connected: func(s selector.Server) {
			l.record(func(ev *events) { ev.connected = append(ev.connected, s.URI) })
		},
		Disconnected: func(s selector.Server, err error) {
			l.record(func(ev *events) { ev.disconnected = append(ev.disconnected, disconnection{s.URI, err}) })
		},
		Message: func(m *sipmsg.Message) {
			d := delivered{raw: bytes.Clone(m.Bytes()), status: m.StatusCode(), cseq: string(m.Header("CSeq"))}
			l.record(func(ev *events) { ev.messages = append(ev.messages, d) })
		},
		MessageDropped: func(raw []byte, _ error) {
			p := bytes.Clone(raw)
			l.record(func(ev *events) { ev.dropped = append(ev.dropped, p) })
		},
		TransportError: func(err error) {
			l.record(func(ev *events) { ev.serverErrors = append(ev.serverErrors, err) })
		},
		StatusChanged: func(_, to transport.Status) {
			l.record(func(ev *events) { ev.statuses = append(ev.statuses, to) })
		},
	}
}

// optionsRequest returns an OPTIONS request with CSeq n, which the test
// server answers with a 200 and the transport's checks accept.
func optionsRequest(n int) string {
	return fmt.Sprintf("OPTIONS sip:conformance@127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/WS conformance.invalid;branch=z9hG4bK-conformance-%d\r\n"+
		"Max-Forwards: 70\r\n"+
		"To: <sip:conformance@127.0.0.1>\r\n"+
		"From: <sip:suite@conformance.invalid>;tag=suite\r\n"+
		"Call-ID: conformance-%d\r\n"+
		"CSeq: %d OPTIONS\r\n"+
		"Content-Length: 0\r\n\r\n", n, n, n)
}

// sameServer reports whether uri, as the transport normalised it, names
// server s.
func sameServer(uri string, s *sipserver.Server) bool {
	u, err := url.Parse(uri)
	return err == nil && u.Host == s.Addr()
}
