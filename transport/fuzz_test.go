package transport

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/sipmsg"
)

// FuzzConfigJSON: any JSON either fails to load or to validate with an
// error, or gives a Config whose every value is usable. Nothing panics.
func FuzzConfigJSON(f *testing.F) {
	f.Add([]byte(`{"wsServers": "wss://sip.example.com/ws", "connectionTimeout": 2.5, "keepAliveInterval": 30}`))
	f.Add([]byte(`{"wsServers": [{"wsUri": "ws://a:8080/sip?k=1", "weight": 10}, "wss://b"], "maxReconnectionAttempts": -1}`))
	f.Add([]byte(`{"wsServers": ["ws://a"], "maxMessageSize": -5, "reconnectionTimeout": 1e300}`))
	f.Add([]byte(`{"wsServers": "ws://a", "connectionRecoveryMinInterval": 40, "connectionRecoveryMaxInterval": 30}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Config
		if json.Unmarshal(b, &c) != nil {
			return
		}
		base, err := NewBase(c, dialFunc(func(context.Context, string, dialer.Options) (dialer.Conn, error) {
			return nil, context.Canceled
		}))
		if err != nil {
			return
		}
		got := base.Config()
		if len(got.Servers) == 0 || got.ConnectionTimeout <= 0 || got.ReconnectionTimeout <= 0 ||
			got.KeepAliveInterval < 0 || got.KeepAliveDebounce <= 0 || got.KeepAlivePongTimeout < 0 ||
			got.RecoveryMinInterval <= 0 || got.RecoveryMaxInterval < got.RecoveryMinInterval ||
			got.Dial.MaxMessageSize <= 0 || got.MaxReconnectionAttempts == 0 {
			t.Fatalf("NewBase accepted %s as %+v", b, got)
		}
	})
}

// unfolded returns v with every run of white space as one SP.
func unfolded(v []byte) string { return strings.Join(strings.Fields(string(v)), " ") }

// answeredCallID is the Call-ID an automatic answer to m carries: the
// first Call-ID line with a value, the one Check accepted
// (sipmsg.AppendResponse), not necessarily the first line.
func answeredCallID(m *sipmsg.Message) string {
	id, found := "", false
	m.VisitHeaders(func(name, value []byte) {
		n := string(name)
		if !found && (strings.EqualFold(n, "Call-ID") || strings.EqualFold(n, "i")) && unfolded(value) != "" {
			id, found = unfolded(value), true
		}
	})
	return id
}

// writeLog is a dialer.Conn that records what the Base writes.
type writeLog struct {
	nopConn
	mu     sync.Mutex
	writes [][]byte
}

func (w *writeLog) WriteMessage(p []byte) error {
	w.mu.Lock()
	w.writes = append(w.writes, append([]byte(nil), p...))
	w.mu.Unlock()
	return nil
}

// FuzzReceived: whatever a server sends, the Base never panics; a message
// it delivers parses and passes the sanity checks; and what it writes back
// is a CRLF pong or a 400/416 answer to the same request.
func FuzzReceived(f *testing.F) {
	seeds, _ := filepath.Glob("../sipmsg/testdata/*.sip")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte("MESSAGE tel:+1 SIP/2.0\r\nVia: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 MESSAGE\r\nContent-Length: 9\r\n\r\nshort"))

	conn := &writeLog{nopConn: nopConn{closed: make(chan struct{})}}
	var delivered []byte
	b, err := NewBase(Config{Servers: servers(f, "ws://a"), ViaHost: "a.invalid",
		Events: Events{Message: func(m *sipmsg.Message) {
			delivered = m.Bytes()
			if p := sipmsg.Check(m, "a.invalid"); p != sipmsg.OK {
				f.Fatalf("delivered a message failing %v", p)
			}
		}}},
		dialFunc(func(context.Context, string, dialer.Options) (dialer.Conn, error) { return conn, nil }))
	if err != nil {
		f.Fatal(err)
	}
	if err := b.Connect(context.Background()); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { b.Disconnect(context.Background()) })
	s := b.current.Load()

	f.Fuzz(func(t *testing.T, p []byte) {
		conn.mu.Lock()
		conn.writes = nil
		conn.mu.Unlock()
		delivered = nil
		s.received(p)
		if delivered != nil {
			var m sipmsg.Message
			if err := m.Parse(delivered); err != nil {
				t.Fatalf("delivered %q, which does not parse: %v", delivered, err)
			}
		}
		conn.mu.Lock()
		defer conn.mu.Unlock()
		for _, w := range conn.writes {
			if string(w) == "\r\n" {
				continue
			}
			var ans, req sipmsg.Message
			if err := ans.Parse(w); err != nil || (ans.StatusCode() != 400 && ans.StatusCode() != 416) {
				t.Fatalf("wrote %q for %q: want a pong or a 400/416 (%v)", w, p, err)
			}
			// The answer unfolds header values (line breaks become one SP).
			if req.Parse(p) != nil || !req.IsRequest() || answeredCallID(&req) != unfolded(ans.Header("Call-ID")) {
				t.Fatalf("answered %q to %q, which is not a request with that Call-ID", w, p)
			}
		}
	})
}
