package transport

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
)

// TestConfigSIPjsJSON: a SIP.js transport configuration loads unchanged,
// with durations in seconds (SPEC.md "Configuration").
func TestConfigSIPjsJSON(t *testing.T) {
	const sipjs = `{
		"wsServers": [{"wsUri": "wss://edge1.example.com:8443/sip?KEY=1234", "weight": 10},
		              {"wsUri": "ws://edge2.example.com", "weight": 1}],
		"connectionTimeout": 2.5,
		"maxReconnectionAttempts": 5,
		"reconnectionTimeout": 3,
		"keepAliveInterval": 30,
		"keepAliveDebounce": 12,
		"traceSip": true,
		"connectionRecoveryMinInterval": 1,
		"connectionRecoveryMaxInterval": 60,
		"hackWssInTransport": true,
		"uri": "sip:alice@example.com"
	}`
	var c Config
	if err := json.Unmarshal([]byte(sipjs), &c); err != nil {
		t.Fatal(err)
	}
	b, err := NewBase(c, new(dialertest.Network))
	if err != nil {
		t.Fatal(err)
	}
	got := b.Config()
	checks := []struct {
		name      string
		got, want any
	}{
		{"servers", len(got.Servers), 2},
		{"first URI", got.Servers[0].URI, "wss://edge1.example.com:8443/sip?KEY=1234"},
		{"first weight", got.Servers[0].Weight, 10},
		{"second URI (default port)", got.Servers[1].URI, "ws://edge2.example.com:80"},
		{"connectionTimeout", got.ConnectionTimeout, 2500 * time.Millisecond},
		{"maxReconnectionAttempts", got.MaxReconnectionAttempts, 5},
		{"reconnectionTimeout", got.ReconnectionTimeout, 3 * time.Second},
		{"keepAliveInterval", got.KeepAliveInterval, 30 * time.Second},
		{"keepAliveDebounce", got.KeepAliveDebounce, 12 * time.Second},
		{"traceSip", got.TraceSIP, true},
		{"recovery min", got.RecoveryMinInterval, time.Second},
		{"recovery max", got.RecoveryMaxInterval, time.Minute},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestConfigDefaults: the zero value of every field is the SIP.js default.
func TestConfigDefaults(t *testing.T) {
	b, err := NewBase(Config{Servers: servers(t, "ws://a")}, new(dialertest.Network))
	if err != nil {
		t.Fatal(err)
	}
	c := b.Config()
	if c.ConnectionTimeout != 5*time.Second || c.MaxReconnectionAttempts != 3 ||
		c.ReconnectionTimeout != 4*time.Second || c.KeepAliveInterval != 0 ||
		c.KeepAliveDebounce != 10*time.Second || c.KeepAlivePongTimeout != 0 ||
		c.RecoveryMinInterval != 2*time.Second || c.RecoveryMaxInterval != 30*time.Second ||
		c.Dial.MaxMessageSize != 64<<10 || c.Logger == nil || c.NewRecoveryBackOff == nil {
		t.Errorf("defaults = %+v", c)
	}
}

// TestConfigErrors: every invalid field is named, all in one error.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		json   string
		cfg    Config
		fields []string
	}{
		{name: "no servers", cfg: Config{}, fields: []string{"wsServers"}},
		{name: "bad scheme", json: `{"wsServers": "http://x"}`, fields: []string{"wsServers"}},
		{name: "negative durations, all reported",
			json:   `{"wsServers": "ws://a", "connectionTimeout": -1, "reconnectionTimeout": -2, "keepAliveInterval": -3}`,
			fields: []string{"connectionTimeout", "reconnectionTimeout", "keepAliveInterval"}},
		{name: "negative max message size", json: `{"wsServers": "ws://a", "maxMessageSize": -1}`, fields: []string{"maxMessageSize"}},
		{name: "reserved upgrade header", cfg: Config{Servers: selector.Servers{{URI: "ws://a"}},
			Dial: dialer.Options{Header: http.Header{"Sec-WebSocket-Protocol": {"chat"}}}}, fields: []string{"dial.header"}},
		{name: "header name that is not a token", cfg: Config{Servers: selector.Servers{{URI: "ws://a"}},
			Dial: dialer.Options{Header: http.Header{"X-A\r\nX-B": {"1"}}}}, fields: []string{"dial.header"}},
		{name: "jitter above 1", json: `{"wsServers": "ws://a", "reconnectionJitter": 1.5}`, fields: []string{"reconnectionJitter"}},
		{name: "header value with a line break", cfg: Config{Servers: selector.Servers{{URI: "ws://a"}},
			Dial: dialer.Options{Header: http.Header{"X-Token": {"a\r\nX-Injected: 1"}}}}, fields: []string{"dial.header"}},
		{name: "recovery min above max", json: `{"wsServers": "ws://a", "connectionRecoveryMinInterval": 40, "connectionRecoveryMaxInterval": 30}`,
			fields: []string{"connectionRecoveryMinInterval"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			if tc.json != "" {
				if err := json.Unmarshal([]byte(tc.json), &c); err != nil {
					// A bad server list is reported by the JSON decoder.
					if len(tc.fields) == 1 && tc.fields[0] == "wsServers" {
						return
					}
					t.Fatal(err)
				}
			}
			_, err := NewBase(c, new(dialertest.Network))
			if err == nil {
				t.Fatal("NewBase accepted an invalid config")
			}
			for _, f := range tc.fields {
				if !strings.Contains(err.Error(), "config "+f+":") {
					t.Errorf("error %q does not name %s", err, f)
				}
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("error %v is not a *ConfigError", err)
			}
		})
	}
	if _, err := NewBase(Config{Servers: servers(t, "ws://a")}, nil); err == nil {
		t.Error("NewBase accepted a nil dialer")
	}
	var c Config
	if err := json.Unmarshal([]byte(`{"wsServers": "ws://a", "keepAliveInterval": 1e300}`), &c); err == nil {
		t.Error("an out-of-range duration was accepted")
	}
}

// TestNegativeMaxReconnectionAttemptsNormalised keeps "no retries".
func TestNegativeMaxReconnectionAttemptsNormalised(t *testing.T) {
	b, err := NewBase(Config{Servers: servers(t, "ws://a"), MaxReconnectionAttempts: -7}, new(dialertest.Network))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Config().MaxReconnectionAttempts; got != -1 {
		t.Errorf("MaxReconnectionAttempts = %d, want -1", got)
	}
}
