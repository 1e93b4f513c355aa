package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/sipua"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
	"github.com/sipws/sipws/ws"
	"github.com/sipws/sipws/wsgobwas"
)

// wait bounds every wait for a message or an event from Kamailio, which
// answers in well under a millisecond on 127.0.0.1.
const wait = 5 * time.Second

// sipTransport is what the tests use of a backend's *Transport.
type sipTransport interface {
	transport.Transport
	Stats() transport.Stats
	Server() (selector.Server, bool)
}

// netDial opens the TCP connection under a backend's WebSocket.
type netDial = func(ctx context.Context, network, addr string) (net.Conn, error)

// backend makes transports of one shipped backend, over a Dialer whose
// TCP connections nd opens (nil: the Dialer's default, as New uses).
type backend struct {
	name string
	new  func(c transport.Config, nd netDial) (sipTransport, error)
}

var backends = []backend{
	{"ws", func(c transport.Config, nd netDial) (sipTransport, error) {
		return ws.NewWithDialer(c, &ws.Dialer{NetDial: nd})
	}},
	{"wsgobwas", func(c transport.Config, nd netDial) (sipTransport, error) {
		return wsgobwas.NewWithDialer(c, &wsgobwas.Dialer{NetDial: nd})
	}},
}

// received is one SIP message a UA received, copied out of the Message
// callback (whose message is valid only during the call).
type received struct {
	msg *sipmsg.Message // parsed from raw
	raw []byte
	at  time.Time
}

// event is one transport event a UA saw.
type event struct {
	kind   string // "connected", "disconnected" or "transport error"
	server string // the server's URI
	err    error
	at     time.Time
}

func (e event) String() string {
	s := e.kind
	if e.server != "" {
		s += " " + e.server
	}
	if e.err != nil {
		s += ": " + e.err.Error()
	}
	return s
}

// ua is a minimal SIP user agent over one transport: it sends the
// requests its sipua.UA builds and keeps what it receives until the test
// awaits it. Only the test goroutine uses sip (its CSeq is not guarded).
type ua struct {
	user    string // user part of the AOR, e.g. alice
	host    string // its random .invalid host (Via and Contact)
	sip     *sipua.UA
	tr      sipTransport
	created time.Time

	mu      sync.Mutex
	inbox   []received // received messages not yet awaited
	events  []event    // every event, in order
	notify  chan struct{}
	dropped []string // messages the transport did not deliver, with why
}

// newUA makes a UA for user over a new transport of backend b with cfg
// (Servers, timeouts...; Events and ViaHost are set here). It is not
// connected yet; it is disconnected when t ends, and t fails then if the
// transport dropped any message Kamailio sent.
func newUA(t *testing.T, b backend, user, scheme string, cfg transport.Config) *ua {
	t.Helper()
	return newUAOver(t, b, user, scheme, cfg, nil)
}

// newUAOver is newUA with the backend's TCP connections opened by nd.
func newUAOver(t *testing.T, b backend, user, scheme string, cfg transport.Config, nd netDial) *ua {
	t.Helper()
	sip := sipua.New(user, "127.0.0.1", scheme == "wss")
	sip.UserAgent = "sipws-integration"
	u := &ua{
		user:    user,
		host:    sip.Host,
		sip:     sip,
		created: time.Now(),
		notify:  make(chan struct{}, 1),
	}
	cfg.ViaHost = u.host // responses must carry our Via host, without a port
	if os.Getenv("SIPWS_TRACE") == "1" {
		cfg.TraceSIP = true
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Name: b.name + "/" + user, Level: hclog.Trace,
			Output: testWriter{t}, TimeFormat: "15:04:05.000000"})
	}
	cfg.Events = transport.Events{
		Connected: func(s selector.Server) { u.record(event{kind: "connected", server: s.URI}) },
		Disconnected: func(s selector.Server, err error) {
			u.record(event{kind: "disconnected", server: s.URI, err: err})
		},
		TransportError: func(err error) { u.record(event{kind: "transport error", err: err}) },
		Message:        u.receive,
		MessageDropped: func(raw []byte, reason error) {
			u.mu.Lock()
			u.dropped = append(u.dropped, fmt.Sprintf("%q: %v", sipua.StartLine(raw), reason))
			u.mu.Unlock()
		},
	}
	tr, err := b.new(cfg, nd)
	if err != nil {
		t.Fatalf("%s.New: %v", b.name, err)
	}
	u.tr = tr
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := tr.Disconnect(ctx); err != nil {
			t.Errorf("%s: Disconnect: %v", user, err)
		}
		if got := tr.Status(); got != transport.StatusClosed {
			t.Errorf("%s: status %v after Disconnect, want CLOSED", user, got)
		}
		u.mu.Lock()
		defer u.mu.Unlock()
		for _, d := range u.dropped {
			t.Errorf("%s: the transport dropped a message from Kamailio: %s", user, d)
		}
		for _, r := range u.inbox {
			t.Logf("%s: received but not awaited: %s", user, sipua.StartLine(r.raw))
		}
	})
	return u
}

// receive copies a delivered message into the inbox.
func (u *ua) receive(m *sipmsg.Message) {
	raw := bytes.Clone(m.Bytes())
	pm := new(sipmsg.Message)
	if err := pm.Parse(raw); err != nil {
		// The transport parsed these very bytes a moment ago.
		u.mu.Lock()
		u.dropped = append(u.dropped, fmt.Sprintf("%q: delivered but does not parse again: %v", sipua.StartLine(raw), err))
		u.mu.Unlock()
		return
	}
	u.mu.Lock()
	u.inbox = append(u.inbox, received{msg: pm, raw: raw, at: time.Now()})
	u.mu.Unlock()
	u.wake()
}

func (u *ua) record(e event) {
	e.at = time.Now()
	u.mu.Lock()
	u.events = append(u.events, e)
	u.mu.Unlock()
	u.wake()
}

func (u *ua) wake() {
	select {
	case u.notify <- struct{}{}:
	default:
	}
}

// connect connects the transport and fails t if it is not OPEN in time.
func (u *ua) connect(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	start := time.Now()
	if err := u.tr.Connect(ctx); err != nil {
		t.Fatalf("%s: Connect: %v", u.user, err)
	}
	s, _ := u.tr.Server()
	t.Logf("%s: connected to %s in %v", u.user, s.URI, time.Since(start).Round(time.Microsecond))
}

// send sends one message and fails t if the transport refuses it.
func (u *ua) send(t *testing.T, raw []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := u.tr.Send(ctx, raw); err != nil {
		t.Fatalf("%s: Send %q: %v", u.user, sipua.StartLine(raw), err)
	}
}

// await returns the first received message, in arrival order, for which
// match is true, and removes it from the inbox. It fails t after timeout,
// listing what did arrive.
func (u *ua) await(t *testing.T, what string, timeout time.Duration, match func(received) bool) received {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		u.mu.Lock()
		for i, r := range u.inbox {
			if match(r) {
				u.inbox = append(u.inbox[:i], u.inbox[i+1:]...)
				u.mu.Unlock()
				return r
			}
		}
		u.mu.Unlock()
		select {
		case <-u.notify:
		case <-deadline.C:
			u.mu.Lock()
			defer u.mu.Unlock()
			var got []string
			for _, r := range u.inbox {
				got = append(got, sipua.StartLine(r.raw))
			}
			t.Fatalf("%s: no %s within %v; received and not awaited: %q; events: %v; status %v",
				u.user, what, timeout, got, u.events, u.tr.Status())
			return received{}
		}
	}
}

// awaitEvent returns the first event at index from or later for which
// match is true, with its index. It fails t after timeout, listing the
// events seen.
func (u *ua) awaitEvent(t *testing.T, what string, from int, timeout time.Duration, match func(event) bool) (event, int) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		u.mu.Lock()
		for i := from; i < len(u.events); i++ {
			if match(u.events[i]) {
				e := u.events[i]
				u.mu.Unlock()
				return e, i
			}
		}
		u.mu.Unlock()
		select {
		case <-u.notify:
		case <-deadline.C:
			u.mu.Lock()
			defer u.mu.Unlock()
			t.Fatalf("%s: no %s within %v; events: %v; status %v; stats %+v",
				u.user, what, timeout, u.events, u.tr.Status(), u.tr.Stats())
			return event{}, 0
		}
	}
}

// eventsSnapshot returns a copy of the events so far.
func (u *ua) eventsSnapshot() []event {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]event(nil), u.events...)
}

// isEvent matches an event of kind on server (any server when empty).
func isEvent(kind, server string) func(event) bool {
	return func(e event) bool { return e.kind == kind && (server == "" || e.server == server) }
}

// responseTo matches a response to req (same Call-ID, CSeq number and
// method), provisional or final as final says.
func responseTo(req sipua.Request, final bool) func(received) bool {
	return func(r received) bool {
		return req.IsResponse(r.msg) && (r.msg.StatusCode() >= 200) == final
	}
}

// requestFor matches a received request of method with this Call-ID.
func requestFor(method, callID string) func(received) bool {
	return func(r received) bool {
		m := r.msg
		return m.IsRequest() && string(m.Method()) == method && string(m.Header("Call-ID")) == callID
	}
}

// transact sends req and returns its final response, after checking that
// its status is want and that its top Via is ours, branch included. It
// logs the status line and the round-trip time.
func (u *ua) transact(t *testing.T, req sipua.Request, want int) received {
	t.Helper()
	start := time.Now()
	u.send(t, req.Raw)
	resp := u.await(t, fmt.Sprintf("final response to %s (CSeq %d)", req.Method, req.CSeq), wait, responseTo(req, true))
	t.Logf("%s: %s -> %q in %v", u.user, req.Method, sipua.StartLine(resp.raw), resp.at.Sub(start).Round(time.Microsecond))
	if got := resp.msg.StatusCode(); got != want {
		t.Fatalf("%s: %s answered %q, want %d\n%s", u.user, req.Method, sipua.StartLine(resp.raw), want, resp.raw)
	}
	vias := headerValues(resp.raw, "Via")
	if len(vias) != 1 || !strings.Contains(vias[0], u.host) || !strings.Contains(vias[0], "branch="+req.Branch) {
		t.Errorf("%s: %s response Vias = %q, want one with host %s and branch %s", u.user, req.Method, vias, u.host, req.Branch)
	}
	return resp
}

// register REGISTERs the UA and checks the 200 lists its contact.
func (u *ua) register(t *testing.T) {
	t.Helper()
	resp := u.transact(t, u.sip.Register(600), 200)
	contacts := headerValues(resp.raw, "Contact")
	if len(contacts) != 1 || !strings.Contains(contacts[0], "<"+u.sip.Contact()+">") {
		t.Errorf("%s: REGISTER 200 Contacts = %q, want exactly our binding <%s>", u.user, contacts, u.sip.Contact())
	}
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// closeCode returns the WebSocket close code in err, or 0 when err holds
// no *dialer.CloseError.
func closeCode(err error) int {
	var c *dialer.CloseError
	if errors.As(err, &c) {
		return c.Code
	}
	return 0
}
