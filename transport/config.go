package transport

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/hashicorp/go-hclog"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/keepalive"
	"github.com/sipws/sipws/selector"
)

// Defaults of SIP.js's WebSocket transport, applied to zero fields.
const (
	DefaultConnectionTimeout       = 5 * time.Second
	DefaultMaxReconnectionAttempts = 3
	DefaultReconnectionTimeout     = 4 * time.Second
	DefaultKeepAliveDebounce       = 10 * time.Second
	DefaultRecoveryMinInterval     = 2 * time.Second
	DefaultRecoveryMaxInterval     = 30 * time.Second

	// DefaultReconnectionJitter spreads each wait between retries over
	// [0.5, 1.5) × ReconnectionTimeout (beyond SIP.js).
	DefaultReconnectionJitter = 0.5

	// DefaultServerHoldDown is how long a server stays marked in error
	// when ServerHoldDown is zero (beyond SIP.js): the default recovery
	// ceiling, so a server that failed is retried no later than a
	// recovering transport would retry everything.
	DefaultServerHoldDown = DefaultRecoveryMaxInterval
)

// Config configures a transport. The zero value of every field means the
// SIP.js default; only Servers is required. JSON uses SIP.js's names with
// durations in seconds (fractions allowed), so a SIP.js transport
// configuration of either generation (0.1x "wsServers", 0.16+ "server"),
// alone or as the "transportOptions" of a whole UA configuration, loads
// unchanged (UnmarshalJSON); keys match exactly, and unknown keys are
// ignored. MarshalJSON writes the same form back: json.Marshal then
// json.Unmarshal gives back the same Config, except for the fields that
// have no JSON name (Logger, Events, NewRecoveryBackOff, Dial.TLSConfig,
// Dial.Header, Dial.HandshakeTimeout).
//
// NewBase copies a Config deeply: the server list, Dial.Header and
// Dial.TLSConfig (with its certificate pools) included, so changing the
// caller's Config, or the maps and pools it points to, afterwards has no
// effect on the transport. Events, Logger and NewRecoveryBackOff are
// shared. Transports made one after another from an unchanged pool share
// one copy of it, which nothing changes: a fleet holds its roots once.
type Config struct {
	// Servers is the SIP.js "wsServers" list: ws:// or wss:// URIs with
	// weights. The highest weight not in error is tried first.
	Servers selector.Servers

	// ConnectionTimeout bounds one attempt: TCP, TLS and the WebSocket
	// handshake ("connectionTimeout", default 5 s).
	ConnectionTimeout time.Duration

	// MaxReconnectionAttempts is the number of retries on one server before
	// it is marked in error and the next server is tried
	// ("maxReconnectionAttempts", SIP.js 0.16+ "reconnectionAttempts";
	// default 3; negative: no retries). In Go, 0 means the default; in
	// JSON, an explicit 0 means no retries, as in SIP.js, and is read as -1.
	MaxReconnectionAttempts int

	// ReconnectionTimeout is the wait between retries on the same server;
	// the first retry goes at once ("reconnectionTimeout", SIP.js 0.16+
	// "reconnectionDelay"; default 4 s).
	ReconnectionTimeout time.Duration

	// KeepAliveInterval is the period of CRLF keepalives; each connection
	// draws its own period in [0.8, 1.0) x this ("keepAliveInterval",
	// default 0: off).
	KeepAliveInterval time.Duration

	// KeepAliveDebounce is the pong-wait window: no new ping while one is
	// unanswered and younger than this ("keepAliveDebounce", default 10 s).
	KeepAliveDebounce time.Duration

	// KeepAlivePongTimeout, beyond SIP.js: a ping without a pong for this
	// long means the flow failed (RFC 5626 §4.4.1); the socket is closed
	// with 1001 and the transport reconnects ("keepAlivePongTimeout",
	// default 0: off).
	KeepAlivePongTimeout time.Duration

	// KeepAliveMode is what a keepalive ping is: keepalive.CRLF (the zero
	// value and SIP.js's), keepalive.WebSocketPing or keepalive.Options
	// ("keepAliveMode": "crlf", "ws-ping", "options"; beyond SIP.js).
	// Interval, debounce and pong timeout mean the same in every mode.
	KeepAliveMode keepalive.Mode

	// ReconnectionJitter, beyond SIP.js, spreads each wait between retries
	// on one server uniformly over [(1−j), (1+j)) × ReconnectionTimeout, so
	// that a fleet of transports that lost the same server does not come
	// back in step ("reconnectionJitter", default 0.5; at most 1). A
	// negative value means none: SIP.js's exact schedule.
	ReconnectionJitter float64

	// ServerHoldDown, beyond SIP.js, is how long a server stays marked in
	// error ("serverHoldDown", default DefaultServerHoldDown). A negative
	// value keeps marks until every server has failed, as SIP.js does.
	// When every server is marked, all marks reset and recovery waits,
	// whatever the hold-down.
	ServerHoldDown time.Duration

	// FailbackInterval, beyond SIP.js, turns failback on: while OPEN on a
	// server of lower weight than the best available one, the transport
	// probes the better servers every interval and moves to one that
	// answers, make-before-break ("failbackInterval", default 0: off).
	FailbackInterval time.Duration

	// RecoveryMinInterval and RecoveryMaxInterval clamp the default
	// recovery schedule ("connectionRecoveryMinInterval" and
	// "connectionRecoveryMaxInterval" of SIP.js 0.7–0.10; 2 s and 30 s).
	RecoveryMinInterval time.Duration
	RecoveryMaxInterval time.Duration

	// NewRecoveryBackOff, when set, replaces the default recovery schedule:
	// it is called once per Connect and the BackOff it returns gives the
	// wait before each new pass over the servers. It is a factory because a
	// BackOff is stateful and not safe to share. backoff.Stop ends recovery.
	NewRecoveryBackOff func() backoff.BackOff `json:"-"`

	// ViaHost, beyond SIP.js, is the host this UA puts in its Via headers.
	// When set, responses whose top Via has another host, or any port, are
	// dropped ("viaHost", default empty: check off).
	ViaHost string

	// TraceSIP logs every message sent and received at Trace level, with
	// Authorization and Proxy-Authorization values redacted ("traceSip").
	TraceSIP bool

	// Dial holds the options handed to the backend on every dial. The JSON
	// names of its fields are "maxMessageSize" and "maxSendSize" (bytes,
	// default 64 KiB each), "origin" and "noOrigin"; TLSConfig, Header and
	// HandshakeTimeout have none.
	Dial dialer.Options

	// Logger receives the transport's logs (named "transport",
	// "keepalive"...). Nil means no logging.
	Logger hclog.Logger `json:"-"`

	// Events are the initial event callbacks; see Base.SetEvents.
	Events Events `json:"-"`
}

// ConfigError names one invalid field.
type ConfigError struct {
	Field string // the JSON name, e.g. "connectionTimeout"
	Err   error
}

func (e *ConfigError) Error() string { return "transport: config " + e.Field + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// ErrNegative is wrapped by the ConfigError of a negative duration or size.
var ErrNegative = errors.New("must not be negative")

// withDefaults validates c and returns a copy with every zero field set to
// its default. The error joins one *ConfigError per invalid field.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	bad := func(field string, err error) { errs = append(errs, &ConfigError{field, err}) }

	servers, err := c.Servers.Normalize()
	if err != nil {
		bad("wsServers", err)
	}
	c.Servers = servers

	durations := []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"connectionTimeout", &c.ConnectionTimeout, DefaultConnectionTimeout},
		{"reconnectionTimeout", &c.ReconnectionTimeout, DefaultReconnectionTimeout},
		{"keepAliveInterval", &c.KeepAliveInterval, 0},
		{"keepAliveDebounce", &c.KeepAliveDebounce, DefaultKeepAliveDebounce},
		{"keepAlivePongTimeout", &c.KeepAlivePongTimeout, 0},
		{"connectionRecoveryMinInterval", &c.RecoveryMinInterval, DefaultRecoveryMinInterval},
		{"connectionRecoveryMaxInterval", &c.RecoveryMaxInterval, DefaultRecoveryMaxInterval},
		{"dial.handshakeTimeout", &c.Dial.HandshakeTimeout, 0},
		{"failbackInterval", &c.FailbackInterval, 0},
	}
	for _, d := range durations {
		switch {
		case *d.v < 0:
			bad(d.name, fmt.Errorf("%v %w", *d.v, ErrNegative))
		case *d.v == 0:
			*d.v = d.def
		}
	}
	if c.RecoveryMinInterval > c.RecoveryMaxInterval && c.RecoveryMinInterval > 0 && c.RecoveryMaxInterval > 0 {
		bad("connectionRecoveryMinInterval", fmt.Errorf("%v is above connectionRecoveryMaxInterval %v",
			c.RecoveryMinInterval, c.RecoveryMaxInterval))
	}
	switch {
	case c.ServerHoldDown == 0:
		c.ServerHoldDown = DefaultServerHoldDown
	case c.ServerHoldDown < 0:
		c.ServerHoldDown = -1 // marks last until every server has failed
	}
	switch j := c.ReconnectionJitter; {
	case math.IsNaN(j) || j > 1:
		bad("reconnectionJitter", fmt.Errorf("%v is not a fraction of at most 1", j))
	case j == 0:
		c.ReconnectionJitter = DefaultReconnectionJitter
	case j < 0:
		c.ReconnectionJitter = -1 // none: SIP.js's exact schedule
	}
	if !c.KeepAliveMode.Valid() {
		bad("keepAliveMode", fmt.Errorf("%v: %w", c.KeepAliveMode, keepalive.ErrMode))
	}
	switch {
	case c.MaxReconnectionAttempts == 0:
		c.MaxReconnectionAttempts = DefaultMaxReconnectionAttempts
	case c.MaxReconnectionAttempts < 0:
		c.MaxReconnectionAttempts = -1 // no retries: fail over after the first failure
	}
	if c.Dial.MaxSendSize < 0 {
		bad("maxSendSize", fmt.Errorf("%d %w", c.Dial.MaxSendSize, ErrNegative))
	}
	if c.Dial.MaxMessageSize < 0 {
		bad("maxMessageSize", fmt.Errorf("%d %w", c.Dial.MaxMessageSize, ErrNegative))
	}
	if c.Dial.MaxMessageSize >= 0 && c.Dial.MaxSendSize >= 0 {
		if err := c.Dial.Check(); err != nil {
			bad("dial.header", err) // a header or Origin the handshake cannot send
		}
	}
	if c.Dial.MaxMessageSize == 0 {
		c.Dial.MaxMessageSize = dialer.DefaultMaxMessageSize
	}
	if c.Dial.MaxSendSize == 0 {
		c.Dial.MaxSendSize = dialer.DefaultMaxSendSize
	}
	if c.Logger == nil {
		c.Logger = hclog.NewNullLogger()
	}
	if c.NewRecoveryBackOff == nil {
		lo, hi := c.RecoveryMinInterval, c.RecoveryMaxInterval
		c.NewRecoveryBackOff = func() backoff.BackOff { return NewRecoveryBackOff(lo, hi) }
	}
	return c, errors.Join(errs...)
}
