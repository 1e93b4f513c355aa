package integration

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/transport"
	"github.com/sipws/sipws/ws"
	"github.com/sipws/sipws/wsgobwas"
)

// TestNamedLoggers: a transport made by a backend's New logs through named
// loggers — "transport", "keepalive", "selector" and the backend's own
// ("ws", "wsgobwas") — and nothing below Info reaches a logger at Info
// (Config.Logger, SPEC.md "Tracing and logging").
func TestNamedLoggers(t *testing.T) {
	for _, b := range []struct {
		name string
		new  func(transport.Config) (transport.Transport, error)
	}{
		{"ws", func(c transport.Config) (transport.Transport, error) { return ws.New(c) }},
		{"wsgobwas", func(c transport.Config) (transport.Transport, error) { return wsgobwas.New(c) }},
	} {
		for _, level := range []hclog.Level{hclog.Trace, hclog.Info} {
			t.Run(b.name+"/"+level.String(), func(t *testing.T) {
				srv, err := sipserver.Start(sipserver.Options{})
				if err != nil {
					t.Fatal(err)
				}
				defer srv.Close()
				var mu sync.Mutex
				var buf bytes.Buffer
				log := hclog.New(&hclog.LoggerOptions{Level: level, Output: lockedBuffer{&mu, &buf}})
				servers, err := selector.Parse("ws://" + srv.Addr() + "/")
				if err != nil {
					t.Fatal(err)
				}
				tr, err := b.new(transport.Config{Servers: servers, Logger: log, KeepAliveInterval: 200 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), wait)
				defer cancel()
				defer tr.Disconnect(ctx)
				if err := tr.Connect(ctx); err != nil {
					t.Fatal(err)
				}
				// A keepalive round trip, logged at Trace.
				deadline := time.Now().Add(wait)
				for {
					mu.Lock()
					done := strings.Contains(buf.String(), "keepalive: pong")
					mu.Unlock()
					if done || level != hclog.Trace || time.Now().After(deadline) {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				if err := tr.Disconnect(ctx); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				out := buf.String()
				mu.Unlock()
				for _, want := range []struct {
					line  string
					level hclog.Level
				}{
					{"transport: connected", hclog.Info},
					{"keepalive: ping sent", hclog.Trace},
					{"keepalive: pong", hclog.Trace},
					{"selector: error marks reset", hclog.Debug},
					{b.name + ": handshake done", hclog.Debug},
					{b.name + ": connection ended", hclog.Debug},
				} {
					if got := strings.Contains(out, want.line); got != (want.level >= level) {
						t.Errorf("at %v, %q logged = %v, want %v:\n%s", level, want.line, got, want.level >= level, out)
					}
				}
			})
		}
	}
}

type lockedBuffer struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
