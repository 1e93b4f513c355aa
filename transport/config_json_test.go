package transport

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/keepalive"
	"github.com/sipws/sipws/selector"
)

// jsonOnly returns c without the fields that have no JSON form, with its
// servers normalised: what a JSON round trip must give back.
func jsonOnly(t testing.TB, c Config) Config {
	t.Helper()
	if len(c.Servers) == 0 {
		c.Servers = nil
	} else {
		s, err := c.Servers.Normalize()
		if err != nil {
			t.Fatalf("servers %v: %v", c.Servers, err)
		}
		c.Servers = s
	}
	c.Logger, c.Events, c.NewRecoveryBackOff = nil, Events{}, nil
	c.Dial.TLSConfig, c.Dial.Header, c.Dial.HandshakeTimeout = nil, nil, 0
	return c
}

// roundTrip marshals c with encoding/json and unmarshals the result into a
// zero Config.
func roundTrip(t testing.TB, c Config) (Config, []byte) {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("Marshal(%+v): %v", c, err)
	}
	var got Config
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("Unmarshal(%s): %v", b, err)
	}
	return got, b
}

// TestConfigJSONRoundTrip: json.Marshal then json.Unmarshal gives back the
// same Config, for every field that has a JSON name (issue 10 item 3; SPEC
// "JSON fidelity"): durations exact to the nanosecond, the server list
// kept, SIP URIs included.
func TestConfigJSONRoundTrip(t *testing.T) {
	full := Config{
		Servers: servers(t, "wss://edge1.example.com:8443/sip?KEY=1234", "ws://[::1]/ws", "wss://b.example.com:443",
			"ws://c.example.com"),
		ConnectionTimeout:       2500 * time.Millisecond,
		MaxReconnectionAttempts: 7,
		ReconnectionTimeout:     3*time.Second + 1,
		KeepAliveInterval:       30 * time.Second,
		KeepAliveDebounce:       12 * time.Second,
		KeepAlivePongTimeout:    10 * time.Second,
		KeepAliveMode:           keepalive.Options,
		ReconnectionJitter:      0.25,
		ServerHoldDown:          -1,
		FailbackInterval:        time.Minute,
		RecoveryMinInterval:     time.Second,
		RecoveryMaxInterval:     time.Hour,
		ViaHost:                 "df7jal23ls0d.invalid",
		TraceSIP:                true,
		Dial: dialer.Options{MaxMessageSize: 1 << 20, MaxSendSize: 16 << 10,
			Origin: "https://app.example.com", NoOrigin: true},
	}
	full.Servers[0].Weight, full.Servers[1].Weight = 10, 5
	withDefaults, err := NewBase(Config{Servers: servers(t, "wss://sip.example.com/ws")}, new(dialertest.Network))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"zero", Config{}},
		{"every field", full},
		{"five seconds stays five seconds", Config{ConnectionTimeout: 5 * time.Second}},
		{"one nanosecond", Config{KeepAliveInterval: 1}},
		{"largest durations", Config{ConnectionTimeout: math.MaxInt64, ServerHoldDown: math.MinInt64}},
		{"negative durations, for NewBase to refuse", Config{ReconnectionTimeout: -1500 * time.Millisecond}},
		{"no retries (-1)", Config{MaxReconnectionAttempts: -1}},
		{"no retries (-7)", Config{MaxReconnectionAttempts: -7}},
		{"no jitter", Config{ReconnectionJitter: -1}},
		{"ws-ping", Config{KeepAliveMode: keepalive.WebSocketPing}},
		{"largest sizes", Config{Dial: dialer.Options{MaxMessageSize: math.MaxInt64, MaxSendSize: math.MaxInt}}},
		{"servers not yet normalised", Config{Servers: selector.Servers{{URI: "WSS://Sip.Example.com/ws", Weight: 3}}}},
		{"empty server list", Config{Servers: selector.Servers{}}},
		{"Base.Config, defaults applied", withDefaults.Config()},
		{"non-JSON fields are left out", Config{Logger: withDefaults.Config().Logger,
			Dial: dialer.Options{HandshakeTimeout: time.Second, TLSConfig: tlsConfigForTest()}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, b := roundTrip(t, tc.cfg)
			want := jsonOnly(t, tc.cfg)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip through %s:\n got %+v\nwant %+v", b, got, want)
			}
			// What reads back writes the same bytes as what it stands for.
			again, err := json.Marshal(got)
			if wantJSON, _ := json.Marshal(want); err != nil || string(again) != string(wantJSON) {
				t.Errorf("second Marshal = %s, %v; want %s", again, err, wantJSON)
			}
		})
	}
}

// TestConfigMarshalJSONForm: MarshalJSON writes SIP.js's names, seconds,
// and the server list as wsServers objects; zero fields are left out.
func TestConfigMarshalJSONForm(t *testing.T) {
	c := Config{
		Servers:                 servers(t, "wss://edge.example.com/ws", "ws://lab.example.com:8080"),
		ConnectionTimeout:       5 * time.Second,
		MaxReconnectionAttempts: -1,
		ReconnectionTimeout:     1500 * time.Millisecond,
		KeepAliveInterval:       time.Nanosecond,
		KeepAliveMode:           keepalive.WebSocketPing,
		ReconnectionJitter:      -1,
		ServerHoldDown:          90 * time.Second,
		TraceSIP:                true,
		Dial:                    dialer.Options{MaxSendSize: 4096, Origin: "https://app.example.com"},
	}
	c.Servers[0].Weight = 10
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"wsServers":[{"wsUri":"wss://edge.example.com/ws","weight":10},{"wsUri":"ws://lab.example.com:8080","weight":0}],` +
		`"connectionTimeout":5,"maxReconnectionAttempts":0,"reconnectionTimeout":1.5,"keepAliveInterval":0.000000001,` +
		`"keepAliveMode":"ws-ping","reconnectionJitter":-1,"serverHoldDown":90,"traceSip":true,` +
		`"maxSendSize":4096,"origin":"https://app.example.com"}`
	if string(b) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", b, want)
	}
	if b, _ := json.Marshal(Config{}); string(b) != "{}" {
		t.Errorf("Marshal(Config{}) = %s, want {}", b)
	}
	// A Config inside another value marshals the same way.
	b, _ = json.Marshal(struct{ Transport *Config }{&Config{ConnectionTimeout: time.Second}})
	if string(b) != `{"Transport":{"connectionTimeout":1}}` {
		t.Errorf("nested Marshal = %s", b)
	}
}

// TestConfigMarshalJSONErrors: values that have no JSON form that reads
// back the same are refused, each named.
func TestConfigMarshalJSONErrors(t *testing.T) {
	c := Config{ReconnectionJitter: math.NaN(), KeepAliveMode: 9, ViaHost: "a\xffb",
		Servers: selector.Servers{{URI: "ws://a/\xff"}}}
	_, err := c.MarshalJSON()
	for _, f := range []string{"reconnectionJitter", "keepAliveMode", "viaHost", "wsServers"} {
		if err == nil || !strings.Contains(err.Error(), "config "+f+":") {
			t.Errorf("error %v does not name %s", err, f)
		}
	}
	if _, err := (Config{ReconnectionJitter: math.Inf(1)}).MarshalJSON(); err == nil {
		t.Error("an infinite jitter was written")
	}
}

// load unmarshals one JSON text into a zero Config.
func load(t *testing.T, text string) Config {
	t.Helper()
	var c Config
	if err := json.Unmarshal([]byte(text), &c); err != nil {
		t.Fatalf("Unmarshal(%s): %v", text, err)
	}
	return c
}

// TestConfigJSONKeysExact: keys match exactly, as in package selector; a
// key that differs from a name only in case is unknown, and unknown keys
// are ignored, as SIP.js ignores them.
func TestConfigJSONKeysExact(t *testing.T) {
	c := load(t, `{"wsservers": "ws://a", "WsServers": "ws://b", "ConnectionTimeout": 9, "connectiontimeout": 8,
		"TraceSip": true, "MaxReconnectionAttempts": 0, "KEEPALIVEINTERVAL": 1, "hackWssInTransport": true,
		"uri": "sip:alice@example.com", "connectionTimeout": 2}`)
	if want := (Config{ConnectionTimeout: 2 * time.Second}); !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v, want %+v: keys that differ in case must be ignored", c, want)
	}
	// Case-folded keys with invalid values are ignored too, not reported.
	load(t, `{"ConnectionTimeout": "soon", "wsservers": 7}`)
}

// TestConfigJSONMaxReconnectionAttemptsZero: an explicit 0 means no
// retries in JSON, as in SIP.js, so the Go field becomes -1; the Go field
// keeps zero-means-default (issue 15; SPEC "JSON fidelity").
func TestConfigJSONMaxReconnectionAttemptsZero(t *testing.T) {
	for _, tc := range []struct {
		json string
		want int
	}{
		{`{"maxReconnectionAttempts": 0}`, -1},
		{`{"maxReconnectionAttempts": "0"}`, -1},
		{`{"maxReconnectionAttempts": 0.0}`, -1},
		{`{"reconnectionAttempts": 0}`, -1},
		{`{"maxReconnectionAttempts": 5}`, 5},
		{`{"maxReconnectionAttempts": -3}`, -3},
		{`{}`, 0},
		{`{"maxReconnectionAttempts": null}`, 0},
	} {
		if got := load(t, tc.json).MaxReconnectionAttempts; got != tc.want {
			t.Errorf("%s: MaxReconnectionAttempts = %d, want %d", tc.json, got, tc.want)
		}
	}
	c := load(t, `{"wsServers": "ws://a", "maxReconnectionAttempts": 0}`)
	b, err := NewBase(c, new(dialertest.Network))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Config().MaxReconnectionAttempts; got != -1 {
		t.Errorf("after NewBase: %d, want -1 (no retries)", got)
	}
	b, err = NewBase(Config{Servers: c.Servers}, new(dialertest.Network))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Config().MaxReconnectionAttempts; got != DefaultMaxReconnectionAttempts {
		t.Errorf("Go zero after NewBase: %d, want the default %d", got, DefaultMaxReconnectionAttempts)
	}
}

// TestConfigJSONNumbers: numbers may be given as strings holding a JSON
// number, as SIP.js accepted them; durations are exact to the nanosecond.
func TestConfigJSONNumbers(t *testing.T) {
	for _, tc := range []struct {
		json string
		want Config
	}{
		{`{"connectionTimeout": "7"}`, Config{ConnectionTimeout: 7 * time.Second}},
		{`{"connectionTimeout": " 0.5 "}`, Config{ConnectionTimeout: 500 * time.Millisecond}},
		{`{"connectionTimeout": "1e1"}`, Config{ConnectionTimeout: 10 * time.Second}},
		{`{"connectionTimeout": 2.5E-1}`, Config{ConnectionTimeout: 250 * time.Millisecond}},
		{`{"connectionTimeout": 0.000000001}`, Config{ConnectionTimeout: 1}},
		{`{"connectionTimeout": 0.0000000015}`, Config{ConnectionTimeout: 2}}, // rounded half away from zero
		{`{"connectionTimeout": 0.0000000004}`, Config{}},
		{`{"connectionTimeout": 1e-999999999999999999999}`, Config{}},
		{`{"connectionTimeout": 9223372036.854775807}`, Config{ConnectionTimeout: math.MaxInt64}},
		{`{"serverHoldDown": -9223372036.854775808}`, Config{ServerHoldDown: math.MinInt64}},
		{`{"keepAliveInterval": 0}`, Config{}},
		{`{"reconnectionJitter": "0.1"}`, Config{ReconnectionJitter: 0.1}},
		{`{"maxMessageSize": "65536", "maxSendSize": 1e3}`, Config{Dial: dialer.Options{MaxMessageSize: 65536, MaxSendSize: 1000}}},
		{`{"maxReconnectionAttempts": "4"}`, Config{MaxReconnectionAttempts: 4}},
	} {
		if got := load(t, tc.json); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.json, got, tc.want)
		}
	}
}

// goTypeName matches what encoding/json's own messages say about Go types.
var goTypeName = regexp.MustCompile(`Go (struct|value)|of type|jsonConfig|float64|int64|RawMessage|transport\.|selector\.Servers|map\[`)

// TestConfigJSONErrors: every invalid option is reported at once, each
// naming its field; a bad wsServers hides nothing; no message names a Go
// type; and the Config is left unchanged.
func TestConfigJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		json   string
		fields []string
	}{
		{"every kind of bad value at once",
			`{"wsServers": ["http://x", 7], "connectionTimeout": "soon", "maxReconnectionAttempts": 2.5,
			  "reconnectionTimeout": true, "keepAliveInterval": [30], "keepAliveDebounce": {},
			  "keepAlivePongTimeout": "", "keepAliveMode": "CRLF", "reconnectionJitter": "half",
			  "serverHoldDown": "0x10", "failbackInterval": "Infinity", "connectionRecoveryMinInterval": 1e400,
			  "connectionRecoveryMaxInterval": "+5", "viaHost": 5, "traceSip": "true", "maxMessageSize": 1.5,
			  "maxSendSize": 1e30, "origin": false, "noOrigin": 1}`,
			[]string{"wsServers", "connectionTimeout", "maxReconnectionAttempts", "reconnectionTimeout",
				"keepAliveInterval", "keepAliveDebounce", "keepAlivePongTimeout", "keepAliveMode",
				"reconnectionJitter", "serverHoldDown", "failbackInterval", "connectionRecoveryMinInterval",
				"connectionRecoveryMaxInterval", "viaHost", "traceSip", "maxMessageSize", "maxSendSize",
				"origin", "noOrigin"}},
		{"a bad server list does not hide the rest", `{"wsServers": "http://x", "connectionTimeout": "x"}`,
			[]string{"wsServers", "connectionTimeout"}},
		{"wsServers of the wrong form", `{"wsServers": 5, "traceSip": 1}`, []string{"wsServers", "traceSip"}},
		{"SIP.js 0.16+ server", `{"server": ["wss://a"], "keepAliveInterval": "x"}`, []string{"server", "keepAliveInterval"}},
		{"bad server URI", `{"server": "http://a"}`, []string{"server"}},
		{"nested fields are named with their path",
			`{"transportOptions": {"server": "ftp://a", "connectionTimeout": "x"}, "reconnectionDelay": "y"}`,
			[]string{"transportOptions.server", "transportOptions.connectionTimeout", "reconnectionDelay"}},
		{"transportOptions that is not an object", `{"transportOptions": "wss://a", "traceSip": "no"}`,
			[]string{"transportOptions", "traceSip"}},
		{"out of range, next to valid options", `{"connectionTimeout": 9223372036.854775808, "maxReconnectionAttempts": 1e19,
			"viaHost": "changed", "wsServers": "ws://changed"}`,
			[]string{"connectionTimeout", "maxReconnectionAttempts"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{ViaHost: "kept", ConnectionTimeout: time.Second}
			err := json.Unmarshal([]byte(tc.json), &c)
			if err == nil {
				t.Fatal("no error")
			}
			for _, f := range tc.fields {
				if !strings.Contains(err.Error(), "transport: config "+f+": ") {
					t.Errorf("error does not name %s:\n%v", f, err)
				}
			}
			if n := strings.Count(err.Error(), "transport: config "); n != len(tc.fields) {
				t.Errorf("%d errors, want %d:\n%v", n, len(tc.fields), err)
			}
			if m := goTypeName.FindString(err.Error()); m != "" {
				t.Errorf("error names a Go type (%q):\n%v", m, err)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("%v is not a *ConfigError", err)
			}
			if c.ViaHost != "kept" || c.ConnectionTimeout != time.Second || c.Servers != nil {
				t.Errorf("a failed Unmarshal changed the Config: %+v", c)
			}
		})
	}
	for _, text := range []string{`[]`, `"wss://a"`, `5`, `true`} {
		var c Config
		err := json.Unmarshal([]byte(text), &c)
		if err == nil || !strings.Contains(err.Error(), "want a JSON object") || goTypeName.MatchString(err.Error()) {
			t.Errorf("Unmarshal(%s) = %v, want an error asking for an object", text, err)
		}
	}
	var c Config
	if err := c.UnmarshalJSON([]byte(`{"connectionTimeout": `)); err == nil || goTypeName.MatchString(err.Error()) {
		t.Errorf("UnmarshalJSON of a cut object = %v", err)
	}
}

// TestConfigJSONNullAndAbsent: absent options and null keep the values in
// c; a whole null leaves c unchanged.
func TestConfigJSONNullAndAbsent(t *testing.T) {
	start := Config{ConnectionTimeout: time.Second, ViaHost: "kept", Servers: servers(t, "ws://a")}
	for _, text := range []string{`null`, `{}`, `{"connectionTimeout": null, "viaHost": null, "wsServers": null}`,
		`{"transportOptions": null}`, `{"transportOptions": {}}`} {
		c := start
		if err := json.Unmarshal([]byte(text), &c); err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if !reflect.DeepEqual(c, start) {
			t.Errorf("%s changed the Config to %+v", text, c)
		}
	}
}

// TestConfigJSONPrecedence: when one option is given more than once, a
// newer SIP.js name wins over an older one, and transportOptions wins over
// the top level; the value that loses is not read.
func TestConfigJSONPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name string
		json string
		want Config
	}{
		{"server over wsServers, as SIP.js 0.16+",
			`{"server": "wss://new.example.com", "wsServers": [{"wsUri": "wss://old.example.com", "weight": 5}]}`,
			Config{Servers: servers(t, "wss://new.example.com")}},
		{"wsServers when server is absent (every entry, not only the first)",
			`{"wsServers": ["wss://a.example.com", "wss://b.example.com"]}`,
			Config{Servers: servers(t, "wss://a.example.com", "wss://b.example.com")}},
		{"a losing wsServers is not read", `{"server": "wss://new.example.com", "wsServers": 42}`,
			Config{Servers: servers(t, "wss://new.example.com")}},
		{"transportOptions over the top level",
			`{"connectionTimeout": 9, "traceSip": false, "transportOptions": {"connectionTimeout": 3, "traceSip": true}}`,
			Config{ConnectionTimeout: 3 * time.Second, TraceSIP: true}},
		{"the top level fills what transportOptions leaves out",
			`{"keepAliveInterval": 30, "viaHost": "ua.invalid", "transportOptions": {"connectionTimeout": 3}}`,
			Config{ConnectionTimeout: 3 * time.Second, KeepAliveInterval: 30 * time.Second, ViaHost: "ua.invalid"}},
		{"a nested null falls back to the top level",
			`{"connectionTimeout": 9, "transportOptions": {"connectionTimeout": null}}`,
			Config{ConnectionTimeout: 9 * time.Second}},
		{"a newer name at the top level over an older one nested, as SIP.js 0.21's UA",
			`{"reconnectionAttempts": 1, "reconnectionDelay": 2, "transportOptions": {"maxReconnectionAttempts": 8, "reconnectionTimeout": 9}}`,
			Config{MaxReconnectionAttempts: 1, ReconnectionTimeout: 2 * time.Second}},
		{"the older names alone",
			`{"transportOptions": {"maxReconnectionAttempts": 8, "reconnectionTimeout": 9}}`,
			Config{MaxReconnectionAttempts: 8, ReconnectionTimeout: 9 * time.Second}},
		{"nested server over a top-level one",
			`{"server": "wss://top.example.com", "transportOptions": {"server": "wss://nested.example.com"}}`,
			Config{Servers: servers(t, "wss://nested.example.com")}},
		{"a newer name anywhere over an older one anywhere",
			`{"server": "wss://top.example.com", "transportOptions": {"wsServers": "wss://nested.example.com"}}`,
			Config{Servers: servers(t, "wss://top.example.com")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := load(t, tc.json); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestConfigJSONSIPjsFiles: configurations written for SIP.js load and give
// the values SIP.js would use: a 0.13 transport configuration and UA
// configuration, SIP.js 0.21 transport options, and a whole SIP.js 0.21 UA
// configuration (issue 15). Absent options take sipws's defaults.
func TestConfigJSONSIPjsFiles(t *testing.T) {
	server := func(uri string, weight int) selector.Server {
		s, err := selector.ParseServer(uri, weight)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// What NewBase makes of every option a file leaves out.
	defaults := func(set func(c *Config)) Config {
		c := Config{ConnectionTimeout: 5 * time.Second, MaxReconnectionAttempts: 3, ReconnectionTimeout: 4 * time.Second,
			KeepAliveDebounce: 10 * time.Second, ReconnectionJitter: DefaultReconnectionJitter,
			ServerHoldDown: DefaultServerHoldDown, RecoveryMinInterval: 2 * time.Second, RecoveryMaxInterval: 30 * time.Second,
			Dial: dialer.Options{MaxMessageSize: dialer.DefaultMaxMessageSize, MaxSendSize: dialer.DefaultMaxSendSize}}
		set(&c)
		return c
	}
	for _, tc := range []struct {
		file string
		want Config
	}{
		{"sipjs-0.13-transport.json", defaults(func(c *Config) {
			c.Servers = selector.Servers{server("wss://edge1.example.com:8443/sip?KEY=1234", 10),
				server("wss://edge2.example.com", 1), server("ws://lab.example.com:8080", 0)}
			c.ConnectionTimeout = 4 * time.Second
			c.MaxReconnectionAttempts = -1 // "0": no reconnection
			c.ReconnectionTimeout = 2 * time.Second
			c.KeepAliveInterval = 30 * time.Second // "30"
			c.KeepAliveDebounce = 5 * time.Second
			c.TraceSIP = true
		})},
		{"sipjs-0.13-ua.json", defaults(func(c *Config) {
			c.Servers = selector.Servers{server("wss://edge.example.com/ws", 0)}
			c.MaxReconnectionAttempts = 2
			c.ReconnectionTimeout = 3 * time.Second
			c.KeepAliveInterval = 45 * time.Second
			c.TraceSIP = true
		})},
		{"sipjs-0.21-transport-options.json", defaults(func(c *Config) {
			c.Servers = selector.Servers{server("wss://sip.example.com:7443/ws", 0)}
			c.ConnectionTimeout = 3 * time.Second
			c.KeepAliveInterval = 30 * time.Second
			c.KeepAliveDebounce = 15 * time.Second
		})},
		{"sipjs-0.21-ua.json", defaults(func(c *Config) {
			c.Servers = selector.Servers{server("wss://sip.example.com/ws", 0)}
			c.ConnectionTimeout = 5 * time.Second
			c.MaxReconnectionAttempts = 5           // the UA's reconnectionAttempts
			c.ReconnectionTimeout = 2 * time.Second // the UA's reconnectionDelay
			c.KeepAliveInterval = 20 * time.Second
			c.TraceSIP = true
			c.ViaHost = "k2j4h5g6.invalid"
		})},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "sipjs", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var c Config
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			base, err := NewBase(c, new(dialertest.Network))
			if err != nil {
				t.Fatal(err)
			}
			if got := jsonOnly(t, base.Config()); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestParseDecimal: the decimal reader behind every JSON number is exact,
// rounds half away from zero, and refuses what does not fit.
func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		s           string
		scale, bits int
		v           int64
		exact, fits bool
	}{
		{"0", 9, 64, 0, true, true},
		{"-0.0", 9, 64, 0, true, true},
		{"5", 9, 64, 5e9, true, true},
		{"1.5", 9, 64, 1.5e9, true, true},
		{"0.000000001", 9, 64, 1, true, true},
		{"0.0000000005", 9, 64, 1, false, true},
		{"-0.0000000005", 9, 64, -1, false, true},
		{"0.00000000049", 9, 64, 0, false, true},
		{"1e-10", 9, 64, 0, false, true},
		{"1.99999999999", 9, 64, 2e9, false, true},
		{"9.9999999995", 9, 64, 1e10, false, true},
		{"9223372036.854775807", 9, 64, math.MaxInt64, true, true},
		{"9223372036.854775808", 9, 64, 0, true, false},
		{"-9223372036.854775808", 9, 64, math.MinInt64, true, true},
		{"-9223372036.854775809", 9, 64, 0, true, false},
		{"1e400", 9, 64, 0, true, false},
		{"1e99999999999999999999999", 0, 64, 0, true, false},
		{"0e99999999999999999999999", 0, 64, 0, true, true},
		{"10.0", 0, 64, 10, true, true},
		{"1E+1", 0, 64, 10, true, true},
		{"2.5", 0, 64, 3, false, true},
		{"2147483647", 0, 32, math.MaxInt32, true, true},
		{"2147483648", 0, 32, 0, true, false},
		{"-2147483648", 0, 32, math.MinInt32, true, true},
		{"0.00000000000000000000000000001e29", 0, 64, 1, true, true},
	} {
		v, exact, fits := parseDecimal(tc.s, tc.scale, tc.bits)
		if fits != tc.fits || (fits && (v != tc.v || exact != tc.exact)) {
			t.Errorf("parseDecimal(%q, %d, %d) = %d, %v, %v; want %d, %v, %v",
				tc.s, tc.scale, tc.bits, v, exact, fits, tc.v, tc.exact, tc.fits)
		}
	}
	for _, s := range []string{"", "-", "+1", "01", ".5", "5.", "1e", "1e+", "0x10", "Infinity", "NaN", "1 ", "1_000"} {
		if isJSONNumber(s) {
			t.Errorf("isJSONNumber(%q) = true", s)
		}
	}
}

// FuzzConfigJSONRoundTrip: whatever JSON loads gives a Config that
// marshals, and reads back to the same Config, which marshals to the same
// bytes.
func FuzzConfigJSONRoundTrip(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "sipjs", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"connectionTimeout": "0.0000000015", "maxReconnectionAttempts": 0, "serverHoldDown": -1e-9}`))
	f.Add([]byte(`{"server": "wss://[::1]/ws", "wsServers": 5, "transportOptions": {"keepAliveMode": "options"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Config
		if json.Unmarshal(b, &c) != nil {
			return
		}
		got, out := roundTrip(t, c)
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("%s loads as %+v, which reads back through %s as %+v", b, c, out, got)
		}
		if again, err := json.Marshal(got); err != nil || string(again) != string(out) {
			t.Fatalf("%s marshals as %s, then as %s (%v)", b, out, again, err)
		}
	})
}

// FuzzConfigMarshalRoundTrip: a Config built in Go with any values reads
// back the same after json.Marshal, or Marshal refuses it with a
// *ConfigError.
func FuzzConfigMarshalRoundTrip(f *testing.F) {
	f.Add("wss://a.example.com/ws", 10, int64(5e9), int64(1), int64(-1), 3, 0.5, uint8(1), "via.invalid", "https://o", int64(1<<20), 4096, true)
	f.Add("ws://[::1]:80", 0, int64(math.MaxInt64), int64(math.MinInt64), int64(0), -1, math.Copysign(0, -1), uint8(2), "", "", int64(-1), -1, false)
	f.Fuzz(func(t *testing.T, uri string, weight int, d1, d2, d3 int64, attempts int, jitter float64, mode uint8,
		via, origin string, maxMsg int64, maxSend int, flag bool) {
		c := Config{
			ConnectionTimeout: time.Duration(d1), ReconnectionTimeout: time.Duration(d2),
			KeepAliveInterval: time.Duration(d3), KeepAliveDebounce: time.Duration(d1 ^ d2),
			KeepAlivePongTimeout: time.Duration(d2 ^ d3), ServerHoldDown: time.Duration(-d1),
			FailbackInterval: time.Duration(d3 / 7), RecoveryMinInterval: time.Duration(d1 / 3),
			RecoveryMaxInterval:     time.Duration(d2 * 3),
			MaxReconnectionAttempts: attempts, ReconnectionJitter: jitter, KeepAliveMode: keepalive.Mode(mode),
			ViaHost: via, TraceSIP: flag,
			Dial: dialer.Options{MaxMessageSize: maxMsg, MaxSendSize: maxSend, Origin: origin, NoOrigin: !flag},
		}
		if s, err := selector.ParseServer(uri, weight); err == nil {
			c.Servers = selector.Servers{s}
		}
		b, err := json.Marshal(c)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Marshal: %v, not a *ConfigError", err)
			}
			return
		}
		var got Config
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s does not read back: %v", b, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("%+v\nwrites %s\nreads back as %+v", c, b, got)
		}
	})
}
