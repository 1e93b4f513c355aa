package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipws/sipws/keepalive"
	"github.com/sipws/sipws/selector"
)

// The JSON form of Config is SIP.js's, of both generations of its
// WebSocket transport. What each one calls an option, as read in
// github.com/onsip/SIP.js:
//
//   - 0.7–0.13 (src/Web/Transport.ts, loadConfig and getConfigurationCheck,
//     0.13): "wsServers", "connectionTimeout", "maxReconnectionAttempts",
//     "reconnectionTimeout", "keepAliveInterval", "keepAliveDebounce",
//     "traceSip". Every time is in seconds (the code multiplies each by
//     1000). Numbers go through Utils.isDecimal and Number(), so "7" is 7;
//     isDecimal takes whole numbers only, and a fraction (2.5, "0.5") is
//     a ConfigurationError there: sipws takes fractions. null and "" mean
//     the default. "maxReconnectionAttempts": 0 is valid and means no
//     reconnection. Up to 0.10 these were top-level UA options; from 0.11
//     on they sit in the UA's "transportOptions".
//   - 0.16–0.21 (src/platform/web/transport/transport-options.ts and
//     transport.ts, 0.21.2): "server" (one ws:// or wss:// URL),
//     "connectionTimeout" (seconds, default 5), "keepAliveInterval"
//     (seconds, default 0), "keepAliveDebounce" (seconds, default 10),
//     "traceSip" (default true); all of them in the UA's
//     "transportOptions". Reconnection moved to the UA
//     (src/api/user-agent-options.ts and user-agent.ts):
//     "reconnectionAttempts" (default 0) and "reconnectionDelay" (seconds,
//     default 4), both marked deprecated; the UA copies a transportOptions
//     "maxReconnectionAttempts" and "reconnectionTimeout" to them when they
//     are not given, and the transport reads "wsServers" when "server" is
//     not given (only its first entry). "viaHost" is a UA option too.
//
// Names match exactly, case included, as in package selector: a key that
// differs from a name only in case is unknown, and unknown keys are
// ignored, as SIP.js ignores them (a UA configuration holds many other
// options).

// jsonOption is one Config field in JSON: the names that set it, newest
// SIP.js name first, and how a JSON value is stored into c.
type jsonOption struct {
	names []string
	set   func(c *Config, raw json.RawMessage) error
}

// jsonOptions are every option UnmarshalJSON reads, in Config's order.
var jsonOptions = []jsonOption{
	{[]string{"server", "wsServers"}, nil}, // servers: see setServers
	{[]string{"connectionTimeout"}, setSeconds(func(c *Config) *time.Duration { return &c.ConnectionTimeout })},
	{[]string{"reconnectionAttempts", "maxReconnectionAttempts"}, setAttempts},
	{[]string{"reconnectionDelay", "reconnectionTimeout"}, setSeconds(func(c *Config) *time.Duration { return &c.ReconnectionTimeout })},
	{[]string{"reconnectionJitter"}, setJitter},
	{[]string{"keepAliveInterval"}, setSeconds(func(c *Config) *time.Duration { return &c.KeepAliveInterval })},
	{[]string{"keepAliveDebounce"}, setSeconds(func(c *Config) *time.Duration { return &c.KeepAliveDebounce })},
	{[]string{"keepAlivePongTimeout"}, setSeconds(func(c *Config) *time.Duration { return &c.KeepAlivePongTimeout })},
	{[]string{"keepAliveMode"}, setMode},
	{[]string{"serverHoldDown"}, setSeconds(func(c *Config) *time.Duration { return &c.ServerHoldDown })},
	{[]string{"failbackInterval"}, setSeconds(func(c *Config) *time.Duration { return &c.FailbackInterval })},
	{[]string{"connectionRecoveryMinInterval"}, setSeconds(func(c *Config) *time.Duration { return &c.RecoveryMinInterval })},
	{[]string{"connectionRecoveryMaxInterval"}, setSeconds(func(c *Config) *time.Duration { return &c.RecoveryMaxInterval })},
	{[]string{"viaHost"}, setString(func(c *Config) *string { return &c.ViaHost })},
	{[]string{"traceSip"}, setBool(func(c *Config) *bool { return &c.TraceSIP })},
	{[]string{"maxMessageSize"}, setMaxMessageSize},
	{[]string{"maxSendSize"}, setMaxSendSize},
	{[]string{"origin"}, setString(func(c *Config) *string { return &c.Dial.Origin })},
	{[]string{"noOrigin"}, setBool(func(c *Config) *bool { return &c.Dial.NoOrigin })},
}

// UnmarshalJSON reads a SIP.js configuration of either generation (see
// docs/SPEC.md, "JSON fidelity"):
//
//   - a SIP.js 0.1x transport configuration: "wsServers" (every form
//     selector.Servers reads), "connectionTimeout", "maxReconnectionAttempts",
//     "reconnectionTimeout", "keepAliveInterval", "keepAliveDebounce",
//     "traceSip", and sipws's own options under the names MarshalJSON
//     writes;
//   - SIP.js 0.16+ transport options: "server" (one URI) with
//     "connectionTimeout", "keepAliveInterval", "keepAliveDebounce" and
//     "traceSip", and the UA's "reconnectionAttempts" and
//     "reconnectionDelay", which mean maxReconnectionAttempts and
//     reconnectionTimeout;
//   - a whole UA configuration holding either of them as
//     "transportOptions", next to its other options ("uri",
//     "authorizationUsername"...), which are ignored.
//
// Precedence, when one option is given more than once: a newer SIP.js name
// wins over an older one ("server" over "wsServers", "reconnectionAttempts"
// over "maxReconnectionAttempts", "reconnectionDelay" over
// "reconnectionTimeout"), as in SIP.js 0.16+; for one name,
// "transportOptions" wins over the top level, where SIP.js 0.11+ never
// looks. Only the winner is read; a value that loses is ignored, as SIP.js
// ignores it.
//
// Values: a duration is a number of seconds, fractions allowed, exact to
// the nanosecond; sizes are in bytes; a number may also be given as a
// string that holds a JSON number ("7", "0.5"), as SIP.js accepted it.
// An explicit "maxReconnectionAttempts" (or "reconnectionAttempts") of 0
// means no retries, as in SIP.js, and sets MaxReconnectionAttempts to -1:
// in Go, 0 means the default. A value that is null is absent. Keys match
// exactly, case included: "ConnectionTimeout" is an unknown key, and
// unknown keys are ignored.
//
// Options absent from the JSON keep their values in c; SIP.js 0.21's own
// defaults (traceSip true, reconnectionAttempts 0) are not applied: what a
// file leaves out means what it means in Go. Every invalid option is
// reported, each as a *ConfigError naming it ("connectionTimeout",
// "transportOptions.server"), joined in one error, and then c is unchanged.
// Ranges (negative durations and the like) are checked by NewBase, as for
// a Config written in Go.
func (c *Config) UnmarshalJSON(b []byte) error {
	top, err := jsonObject(b)
	if err != nil || top == nil {
		return err // top == nil: JSON null leaves c unchanged
	}
	var errs []error
	levels := []jsonLevel{{"", top}}
	if raw, ok := top["transportOptions"]; ok && !isNull(raw) {
		if nested, err := jsonObject(raw); err == nil {
			levels = []jsonLevel{{"transportOptions.", nested}, {"", top}}
		} else {
			errs = append(errs, &ConfigError{"transportOptions", errors.New("want an object of transport options, got " + describe(raw))})
		}
	}

	next := *c
	for _, o := range jsonOptions {
		field, name, raw, ok := lookup(levels, o.names)
		if !ok {
			continue
		}
		set := o.set
		if set == nil {
			set = setServers(name)
		}
		if err := set(&next, raw); err != nil {
			errs = append(errs, &ConfigError{field, err})
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	*c = next
	return nil
}

// A jsonLevel is one object options are read from, with the prefix that
// names its options in errors.
type jsonLevel struct {
	prefix string
	m      map[string]json.RawMessage
}

// lookup returns the value that wins for an option (see UnmarshalJSON),
// the name it was given under, and the field to report it by: that name
// with its level's prefix.
func lookup(levels []jsonLevel, names []string) (field, name string, raw json.RawMessage, ok bool) {
	for _, name := range names {
		for _, l := range levels {
			if raw, ok := l.m[name]; ok && !isNull(raw) {
				return l.prefix + name, name, raw, true
			}
		}
	}
	return "", "", nil, false
}

// jsonObject decodes a JSON object with exact keys (a map: encoding/json
// matches struct fields case-insensitively); JSON null gives nil.
func jsonObject(b []byte) (map[string]json.RawMessage, error) {
	b = bytes.TrimSpace(b)
	if isNull(b) {
		return nil, nil
	}
	if len(b) == 0 || b[0] != '{' {
		return nil, errors.New("transport: config: want a JSON object of SIP.js options, got " + describe(b))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		// Only a syntax error can get here, whose text names no Go type.
		return nil, fmt.Errorf("transport: config: %w", err)
	}
	return m, nil
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

// describe is a JSON value for an error message: its text, cut to 64 bytes.
func describe(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	const max = 64
	switch {
	case len(raw) == 0:
		return "nothing"
	case len(raw) > max:
		return string(raw[:max]) + "..."
	}
	return string(raw)
}

// setServers reads "wsServers" (every SIP.js form) or "server" (one URI).
func setServers(name string) func(c *Config, raw json.RawMessage) error {
	return func(c *Config, raw json.RawMessage) error {
		if name == "wsServers" {
			var s selector.Servers
			if err := s.UnmarshalJSON(raw); err != nil {
				return err
			}
			c.Servers = s
			return nil
		}
		uri, err := jsonString(raw)
		if err != nil {
			return errors.New("want a ws:// or wss:// URI string, got " + describe(raw))
		}
		s, err := selector.ParseServer(uri, 0)
		if err != nil {
			return err
		}
		c.Servers = selector.Servers{s}
		return nil
	}
}

func setSeconds(field func(*Config) *time.Duration) func(*Config, json.RawMessage) error {
	return func(c *Config, raw json.RawMessage) error {
		d, err := jsonSeconds(raw)
		if err == nil {
			*field(c) = d
		}
		return err
	}
}

func setString(field func(*Config) *string) func(*Config, json.RawMessage) error {
	return func(c *Config, raw json.RawMessage) error {
		s, err := jsonString(raw)
		if err != nil {
			return errors.New("want a string, got " + describe(raw))
		}
		*field(c) = s
		return nil
	}
}

func setBool(field func(*Config) *bool) func(*Config, json.RawMessage) error {
	return func(c *Config, raw json.RawMessage) error {
		switch string(bytes.TrimSpace(raw)) {
		case "true":
			*field(c) = true
		case "false":
			*field(c) = false
		default:
			return errors.New("want true or false, got " + describe(raw))
		}
		return nil
	}
}

// setAttempts reads a SIP.js retry count: an explicit 0 means no retries.
func setAttempts(c *Config, raw json.RawMessage) error {
	n, err := jsonInteger(raw, strconv.IntSize)
	if err != nil {
		return err
	}
	if n == 0 {
		n = -1
	}
	c.MaxReconnectionAttempts = int(n)
	return nil
}

func setJitter(c *Config, raw json.RawMessage) error {
	text, err := numberText(raw)
	if err != nil {
		return errors.New("want a number, got " + describe(raw))
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return fmt.Errorf("%s is out of range", describe(raw))
	}
	c.ReconnectionJitter = f
	return nil
}

func setMode(c *Config, raw json.RawMessage) error {
	s, err := jsonString(raw)
	var m keepalive.Mode
	if err != nil || m.UnmarshalText([]byte(s)) != nil {
		return fmt.Errorf("want %q, %q or %q, got %s", keepalive.CRLF, keepalive.WebSocketPing, keepalive.Options, describe(raw))
	}
	c.KeepAliveMode = m
	return nil
}

func setMaxMessageSize(c *Config, raw json.RawMessage) error {
	n, err := jsonInteger(raw, 64)
	if err == nil {
		c.Dial.MaxMessageSize = n
	}
	return err
}

func setMaxSendSize(c *Config, raw json.RawMessage) error {
	n, err := jsonInteger(raw, strconv.IntSize)
	if err == nil {
		c.Dial.MaxSendSize = int(n)
	}
	return err
}

// jsonString reads a JSON string.
func jsonString(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", errors.New("not a string")
	}
	return s, nil
}

// numberText returns the text of a JSON number, or of a string that holds
// one (surrounding white space allowed, as JavaScript's Number() allows it).
func numberText(raw json.RawMessage) (string, error) {
	text := string(bytes.TrimSpace(raw))
	if strings.HasPrefix(text, `"`) {
		s, err := jsonString(raw)
		if err != nil {
			return "", err
		}
		text = strings.TrimSpace(s)
	}
	if !isJSONNumber(text) {
		return "", errors.New("not a number")
	}
	return text, nil
}

// jsonSeconds reads a duration in seconds, rounded to the nanosecond.
func jsonSeconds(raw json.RawMessage) (time.Duration, error) {
	text, err := numberText(raw)
	if err != nil {
		return 0, errors.New("want a number of seconds, got " + describe(raw))
	}
	ns, _, ok := parseDecimal(text, 9, 64)
	if !ok {
		return 0, fmt.Errorf("%s seconds is out of range", describe(raw))
	}
	return time.Duration(ns), nil
}

// jsonInteger reads a whole number that fits in a signed integer of bits
// bits. 10.0 and 1e1 are whole numbers, as in JavaScript.
func jsonInteger(raw json.RawMessage, bits int) (int64, error) {
	text, err := numberText(raw)
	if err != nil {
		return 0, errors.New("want a whole number, got " + describe(raw))
	}
	n, exact, ok := parseDecimal(text, 0, bits)
	switch {
	case !ok:
		return 0, fmt.Errorf("%s is out of range", describe(raw))
	case !exact:
		return 0, errors.New("want a whole number, got " + describe(raw))
	}
	return n, nil
}

// isJSONNumber reports whether s is exactly a JSON number (RFC 8259 §6):
// no "+", no leading zeros, no ".5", no hexadecimal, no Infinity.
func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// parseDecimal returns the JSON number s (isJSONNumber) times 10^scale,
// rounded half away from zero to an integer; exact reports that nothing
// was rounded off, and ok that the result fits in a signed integer of bits
// bits. It is exact for every input: no float64 is involved.
func parseDecimal(s string, scale, bits int) (v int64, exact, ok bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return 0, true, true
	}
	// The power of ten of the last digit, in units; clamped so that it
	// cannot overflow, far beyond what any int64 needs.
	const clamp = 1 << 40
	e := int64(0)
	if exp != "" {
		expNeg := exp[0] == '-'
		for _, d := range strings.TrimLeft(exp, "+-") {
			if e < clamp {
				e = e*10 + int64(d-'0')
			}
		}
		if expNeg {
			e = -e
		}
	}
	e += int64(scale) - int64(len(frac))

	exact = true
	if e < 0 {
		drop := -e
		if drop > int64(len(digits)) {
			return 0, false, true // under a tenth of a unit: rounds to zero
		}
		keep := int64(len(digits)) - drop
		exact = strings.TrimRight(digits[keep:], "0") == ""
		roundUp := digits[keep] >= '5'
		digits = digits[:keep]
		e = 0
		if roundUp {
			digits = incremented(digits)
		}
		if strings.TrimLeft(digits, "0") == "" {
			return 0, exact, true
		}
	}
	limit := uint64(1)<<(bits-1) - 1 // the largest positive value
	if neg {
		limit++ // one more below zero
	}
	if int64(len(digits))+e > 20 {
		return 0, exact, false
	}
	var u uint64
	for _, d := range digits + strings.Repeat("0", int(e)) {
		if u > (limit-uint64(d-'0'))/10 {
			return 0, exact, false
		}
		u = u*10 + uint64(d-'0')
	}
	if neg {
		return int64(-u), exact, true // wraps to the limit itself for -2^(bits-1)
	}
	return int64(u), exact, true
}

// incremented returns the decimal digits s plus one.
func incremented(s string) string {
	b := []byte(s)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return string(b)
		}
		b[i] = '0'
	}
	return "1" + string(b)
}

// seconds is a duration written as an exact decimal number of seconds.
type seconds time.Duration

func (s seconds) MarshalJSON() ([]byte, error) { return appendSeconds(nil, time.Duration(s)), nil }

// appendSeconds writes d in seconds, exactly: 5s is 5, 1.5s is 1.5, 1ns is
// 0.000000001.
func appendSeconds(b []byte, d time.Duration) []byte {
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/1e9, 10)
	if ns := u % 1e9; ns != 0 {
		frac := strconv.AppendUint(nil, ns+1e9, 10)[1:] // nine digits, leading zeros kept
		b = append(b, '.')
		b = append(b, bytes.TrimRight(frac, "0")...)
	}
	return b
}

// jsonConfig is the object MarshalJSON writes, in Config's order.
type jsonConfig struct {
	Servers                 selector.Servers `json:"wsServers,omitempty"`
	ConnectionTimeout       seconds          `json:"connectionTimeout,omitempty"`
	MaxReconnectionAttempts *int             `json:"maxReconnectionAttempts,omitempty"`
	ReconnectionTimeout     seconds          `json:"reconnectionTimeout,omitempty"`
	KeepAliveInterval       seconds          `json:"keepAliveInterval,omitempty"`
	KeepAliveDebounce       seconds          `json:"keepAliveDebounce,omitempty"`
	KeepAlivePongTimeout    seconds          `json:"keepAlivePongTimeout,omitempty"`
	KeepAliveMode           string           `json:"keepAliveMode,omitempty"`
	ReconnectionJitter      float64          `json:"reconnectionJitter,omitempty"`
	ServerHoldDown          seconds          `json:"serverHoldDown,omitempty"`
	FailbackInterval        seconds          `json:"failbackInterval,omitempty"`
	RecoveryMinInterval     seconds          `json:"connectionRecoveryMinInterval,omitempty"`
	RecoveryMaxInterval     seconds          `json:"connectionRecoveryMaxInterval,omitempty"`
	ViaHost                 string           `json:"viaHost,omitempty"`
	TraceSIP                bool             `json:"traceSip,omitempty"`
	MaxMessageSize          int64            `json:"maxMessageSize,omitempty"`
	MaxSendSize             int              `json:"maxSendSize,omitempty"`
	Origin                  string           `json:"origin,omitempty"`
	NoOrigin                bool             `json:"noOrigin,omitempty"`
}

// MarshalJSON writes c in the SIP.js 0.1x form that UnmarshalJSON reads:
// SIP.js's names (sipws's own for options beyond SIP.js), durations in
// seconds written exactly (1.5, 0.000000001), sizes in bytes, and the
// servers as "wsServers", a list of {"wsUri", "weight"}.
//
// A zero field is left out, since an absent option means the default as a
// zero field does; so is an empty server list. MaxReconnectionAttempts -1
// (no retries) is written as 0, SIP.js's way to say it; other negative
// values, which mean the same, are written as they are, so that each
// reads back unchanged. Fields without a JSON form are not written:
// Logger, Events, NewRecoveryBackOff, Dial.TLSConfig, Dial.Header and
// Dial.HandshakeTimeout.
//
// Unmarshalling the result into a zero Config gives back c, those fields
// excepted, with its servers normalised as selector.Servers.Normalize
// normalises them (a Config from Base.Config or from UnmarshalJSON already
// is). A jitter that is NaN or infinite, a KeepAliveMode that is not a
// mode, and a string that is not UTF-8 (ViaHost, Dial.Origin, a server
// URI) have no JSON form that reads back the same: MarshalJSON fails with
// a *ConfigError naming each.
func (c Config) MarshalJSON() ([]byte, error) {
	var errs []error
	if math.IsNaN(c.ReconnectionJitter) || math.IsInf(c.ReconnectionJitter, 0) {
		errs = append(errs, &ConfigError{"reconnectionJitter", fmt.Errorf("%v has no JSON form", c.ReconnectionJitter)})
	}
	if !c.KeepAliveMode.Valid() {
		errs = append(errs, &ConfigError{"keepAliveMode", fmt.Errorf("%v: %w", c.KeepAliveMode, keepalive.ErrMode)})
	}
	for _, f := range []struct{ name, s string }{{"viaHost", c.ViaHost}, {"origin", c.Dial.Origin}} {
		if !utf8.ValidString(f.s) {
			errs = append(errs, &ConfigError{f.name, fmt.Errorf("%q is not UTF-8 text", f.s)})
		}
	}
	for i, s := range c.Servers {
		if !utf8.ValidString(s.URI) {
			errs = append(errs, &ConfigError{"wsServers", fmt.Errorf("[%d] %q is not UTF-8 text", i, s.URI)})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	j := jsonConfig{
		ConnectionTimeout:    seconds(c.ConnectionTimeout),
		ReconnectionTimeout:  seconds(c.ReconnectionTimeout),
		KeepAliveInterval:    seconds(c.KeepAliveInterval),
		KeepAliveDebounce:    seconds(c.KeepAliveDebounce),
		KeepAlivePongTimeout: seconds(c.KeepAlivePongTimeout),
		ReconnectionJitter:   c.ReconnectionJitter,
		ServerHoldDown:       seconds(c.ServerHoldDown),
		FailbackInterval:     seconds(c.FailbackInterval),
		RecoveryMinInterval:  seconds(c.RecoveryMinInterval),
		RecoveryMaxInterval:  seconds(c.RecoveryMaxInterval),
		ViaHost:              c.ViaHost,
		TraceSIP:             c.TraceSIP,
		MaxMessageSize:       c.Dial.MaxMessageSize,
		MaxSendSize:          c.Dial.MaxSendSize,
		Origin:               c.Dial.Origin,
		NoOrigin:             c.Dial.NoOrigin,
	}
	if c.KeepAliveMode != keepalive.CRLF {
		j.KeepAliveMode = c.KeepAliveMode.String()
	}
	switch n := c.MaxReconnectionAttempts; {
	case n == -1:
		zero := 0
		j.MaxReconnectionAttempts = &zero
	case n != 0:
		j.MaxReconnectionAttempts = &n
	}
	j.Servers = c.Servers // selector.Servers writes each URI as it was written
	return json.Marshal(j)
}
