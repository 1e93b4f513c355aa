package transport

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
)

// recorder wraps a dialer and records the virtual time of every dial.
type recorder struct {
	d     dialer.Dialer
	start time.Time
	mu    sync.Mutex
	at    []string // "URI@elapsed"
}

func (r *recorder) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	r.mu.Lock()
	r.at = append(r.at, fmt.Sprintf("%s@%v", strings.TrimPrefix(url, "ws://"), time.Since(r.start)))
	r.mu.Unlock()
	return r.d.Dial(ctx, url, o)
}

func (r *recorder) dials() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.at...)
}

// log collects events as strings, in order.
type log struct {
	mu    sync.Mutex
	start time.Time
	lines []string
	msgs  []string
}

func (l *log) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *log) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

func (l *log) messages() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

func (l *log) events() Events {
	return Events{
		Connected:    func(s selector.Server) { l.add("connected %s", s.URI) },
		Disconnected: func(s selector.Server, err error) { l.add("disconnected %s: %v", s.URI, err) },
		Message: func(m *sipmsg.Message) {
			l.mu.Lock()
			l.msgs = append(l.msgs, string(m.Bytes()))
			l.mu.Unlock()
		},
		MessageDropped: func(raw []byte, reason error) { l.add("dropped: %v", reason) },
		TransportError: func(err error) { l.add("transport error: %v", err) },
		StatusChanged:  func(from, to Status) { l.add("%v->%v", from, to) },
	}
}

// setup is one in-memory world: a network, a recording dialer and a Base.
type setup struct {
	net *dialertest.Network
	rec *recorder
	log *log
	b   *Base
}

func newSetup(t *testing.T, cfg Config) *setup { t.Helper(); return newSetupWith(t, cfg, nil) }

// newSetupWith is newSetup with the dialer wrapped by wrap, when not nil.
func newSetupWith(t *testing.T, cfg Config, wrap func(dialer.Dialer) dialer.Dialer) *setup {
	t.Helper()
	s := &setup{net: dialertest.NewNetwork(t), log: &log{start: time.Now()}}
	s.rec = &recorder{d: s.net, start: time.Now()}
	cfg.Events = s.log.events()
	if cfg.ReconnectionJitter == 0 {
		// SIP.js's exact schedule, so tests can name each dial's instant;
		// the jitter's own tests set it.
		cfg.ReconnectionJitter = -1
	}
	var d dialer.Dialer = s.rec
	if wrap != nil {
		d = wrap(d)
	}
	b, err := NewBase(cfg, d)
	if err != nil {
		t.Fatalf("NewBase: %v", err)
	}
	s.b = b
	t.Cleanup(func() {
		if err := b.Disconnect(context.Background()); err != nil {
			t.Errorf("Disconnect: %v", err)
		}
	})
	return s
}

func servers(t testing.TB, uris ...string) selector.Servers {
	t.Helper()
	var ss selector.Servers
	for _, u := range uris {
		weight := 0
		if i := strings.LastIndex(u, "#w"); i >= 0 {
			fmt.Sscan(u[i+2:], &weight)
			u = u[:i]
		}
		s, err := selector.ParseServer(u, weight)
		if err != nil {
			t.Fatalf("ParseServer(%q): %v", u, err)
		}
		ss = append(ss, s)
	}
	return ss
}

// sipServer answers CRLF pings with a CRLF pong (unless silent), answers
// OPTIONS with 200 OK, and passes every other message to got.
func sipServer(silent bool, got chan<- string) func(*dialertest.ServerConn) {
	return func(c *dialertest.ServerConn) {
		for {
			p, err := c.ReadMessage()
			if err != nil {
				return
			}
			switch {
			case string(p) == "\r\n\r\n":
				if !silent {
					c.WriteMessage([]byte("\r\n"))
				}
			case strings.HasPrefix(string(p), "OPTIONS "):
				var m sipmsg.Message
				if m.Parse(p) == nil {
					c.WriteMessage(sipmsg.AppendResponse(nil, &m, 200, "OK", "srv"))
				}
			default:
				if got != nil {
					select {
					case got <- string(p):
					case <-c.Done():
						return
					}
				}
			}
		}
	}
}

const options = "OPTIONS sip:127.0.0.1 SIP/2.0\r\n" +
	"Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n" +
	"Max-Forwards: 70\r\n" +
	"To: <sip:127.0.0.1>\r\n" +
	"From: <sip:alice@127.0.0.1>;tag=1928301774\r\n" +
	"Call-ID: a84b4c76e66710\r\n" +
	"CSeq: 63104 OPTIONS\r\n" +
	"Content-Length: 0\r\n\r\n"

// response builds a response with the given Via lines.
func response(code int, callID string, vias ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "SIP/2.0 %d OK\r\n", code)
	for _, v := range vias {
		b.WriteString("Via: " + v + "\r\n")
	}
	b.WriteString("To: <sip:bob@example.com>;tag=b1\r\nFrom: <sip:alice@example.com>;tag=a1\r\n")
	b.WriteString("Call-ID: " + callID + "\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n")
	return b.String()
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
