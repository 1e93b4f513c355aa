package sipgows

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
	"github.com/sipws/sipws/ws"
	"github.com/sipws/sipws/wsgobwas"
)

// sipwsTransport is what ws.New and wsgobwas.New return, as the tests use it.
type sipwsTransport interface {
	transport.Transport
	Stats() transport.Stats
	Server() (selector.Server, bool)
}

// backends are the two shipped sipws backends; every end-to-end case runs
// on both.
var backends = []struct {
	name string
	new  func(transport.Config) (sipwsTransport, error)
}{
	{"ws", func(c transport.Config) (sipwsTransport, error) { return ws.New(c) }},
	{"gobwas", func(c transport.Config) (sipwsTransport, error) { return wsgobwas.New(c) }},
}

// wait bounds every wait of a loopback test.
const wait = 10 * time.Second

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// testViaHost is the ViaHost the loopback rigs configure, so that the
// transport's response check is on in every case.
const testViaHost = "a1b2c3d4.invalid"

// rig is a sipgo user agent over a bridge over a sipws transport connected
// to a loopback sipserver.
type rig struct {
	srv    *sipserver.Server
	tr     sipwsTransport
	b      *Bridge
	ua     *sipgo.UserAgent
	client *sipgo.Client
	server *sipgo.Server
	ev     *eventLog
}

type rigOptions struct {
	queueLen int
	tpOpts   []sip.TransportLayerOption // added to the bridge's
}

// newRig builds a rig and closes it, in order, when t ends: the user agent,
// the bridge, the transport, the server.
func newRig(t *testing.T, newTransport func(transport.Config) (sipwsTransport, error), o rigOptions) *rig {
	t.Helper()
	srv, err := sipserver.Start(sipserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s, err := selector.ParseServer(srv.URL(), 0)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{srv: srv, ev: &eventLog{}}
	r.tr, err = newTransport(transport.Config{
		Servers:           selector.Servers{s},
		ViaHost:           testViaHost,
		ConnectionTimeout: 2 * time.Second,
		Events:            r.ev.events(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := r.tr.Disconnect(ctx); err != nil {
			t.Errorf("Disconnect: %v", err)
		}
	})
	r.b, err = New(Config{Transport: r.tr, QueueLen: o.queueLen, Logger: HCLogFromSlog(testLogger(t))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.b.Close() })
	if err := r.tr.Connect(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	opts := append(r.b.TransportLayerOptions(), o.tpOpts...)
	r.ua, err = sipgo.NewUA(sipgo.WithUserAgent("alice"), sipgo.WithUserAgentHostname(testViaHost),
		sipgo.WithUserAgentTransportLayerOptions(opts...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.ua.Close() })
	if r.client, err = sipgo.NewClient(r.ua); err != nil {
		t.Fatal(err)
	}
	if r.server, err = sipgo.NewServer(r.ua); err != nil {
		t.Fatal(err)
	}
	return r
}

// conn returns the server's connection from the transport.
func (r *rig) conn(t *testing.T) *sipserver.Conn {
	t.Helper()
	cs, err := r.srv.WaitConns(testCtx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	return cs[0]
}

// waitReceived waits until the server has received a message for which
// match is true, and returns it.
func (r *rig) waitReceived(t *testing.T, what string, match func(m []byte) bool) []byte {
	t.Helper()
	var got []byte
	err := r.srv.Wait(testCtx(t), func() bool {
		for _, m := range r.srv.Received() {
			if match(m) {
				got = m
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("server: waiting for %s: %v; received %q", what, err, r.srv.Received())
	}
	return got
}

// isResponse matches a response with code to the request with callID.
func isResponse(code int, callID string) func([]byte) bool {
	return func(m []byte) bool {
		var msg sipmsg.Message
		return msg.Parse(m) == nil && msg.IsResponse() && msg.StatusCode() == code &&
			string(msg.Header("Call-ID")) == callID
	}
}

// isRequest matches a request with method and callID.
func isRequest(method, callID string) func([]byte) bool {
	return func(m []byte) bool {
		var msg sipmsg.Message
		return msg.Parse(m) == nil && msg.IsRequest() && string(msg.Method()) == method &&
			string(msg.Header("Call-ID")) == callID
	}
}

// inbound returns a MESSAGE as Kamailio relays one to a registered WS
// client: its own Via first, then the caller's.
func inbound(callID, body string) []byte {
	return fmt.Appendf(nil, "MESSAGE sip:alice@%s;transport=ws SIP/2.0\r\n"+
		"Via: SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK%s.k\r\n"+
		"Via: SIP/2.0/WS bob.invalid;rport=5555;received=127.0.0.1;branch=z9hG4bK%s.b\r\n"+
		"Max-Forwards: 69\r\n"+
		"From: <sip:bob@127.0.0.1>;tag=b%s\r\n"+
		"To: <sip:alice@127.0.0.1>\r\n"+
		"Call-ID: %s\r\n"+
		"CSeq: 1 MESSAGE\r\n"+
		"Content-Type: text/plain\r\n"+
		"Content-Length: %d\r\n\r\n%s", testViaHost, callID, callID, callID, callID, len(body), body)
}

// newRequest returns a request to the server, prepared for the bridge.
func newRequest(b *Bridge, method sip.RequestMethod, user string) *sip.Request {
	req := sip.NewRequest(method, sip.Uri{User: user, Host: "127.0.0.1"})
	b.Prepare(req)
	return req
}

// eventLog records the transport events the user's callbacks see.
type eventLog struct {
	mu    sync.Mutex
	list  []string
	drops []drop
}

type drop struct {
	raw    []byte
	reason error
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	l.list = append(l.list, e)
	l.mu.Unlock()
}

func (l *eventLog) events() transport.Events {
	return transport.Events{
		Connected:    func(s selector.Server) { l.add("connected " + s.URI) },
		Disconnected: func(s selector.Server, err error) { l.add(fmt.Sprintf("disconnected %s: %v", s.URI, err)) },
		MessageDropped: func(raw []byte, reason error) {
			l.mu.Lock()
			l.drops = append(l.drops, drop{bytes.Clone(raw), reason})
			l.mu.Unlock()
			l.add(fmt.Sprintf("dropped %d bytes: %v", len(raw), reason))
		},
		TransportError: func(err error) { l.add("transport error: " + err.Error()) },
		StatusChanged:  func(from, to transport.Status) { l.add("status " + from.String() + " -> " + to.String()) },
	}
}

func (l *eventLog) snapshot() ([]string, []drop) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.list...), append([]drop(nil), l.drops...)
}

// count returns how many recorded events start with prefix.
func (l *eventLog) count(prefix string) int {
	ev, _ := l.snapshot()
	n := 0
	for _, e := range ev {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// testLogger logs at debug level to stderr with SIPGOWS_DEBUG=1, else
// nowhere. (Not to t: sipgo closes pipes from its own goroutines, which may
// log after the test has returned.)
func testLogger(testing.TB) *slog.Logger {
	if os.Getenv("SIPGOWS_DEBUG") != "1" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: LevelTrace}))
}
