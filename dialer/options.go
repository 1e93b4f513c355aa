package dialer

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Options are the per-dial settings the Base hands to a Dialer. The Base
// fills them from transport.Config; a Dialer must treat them as read-only
// (in particular it must not modify TLSConfig or Header).
type Options struct {
	// TLSConfig is used for wss URIs. The Base passes a clone with
	// ServerName set to the host of the URI being dialed, so a failover
	// across hosts verifies each host. Nil means the zero tls.Config
	// (verification against the system roots).
	TLSConfig *tls.Config `json:"-"`

	// Header holds extra HTTP headers for the upgrade request (Origin,
	// Authorization, User-Agent...), whatever the case of their names. A
	// Host entry replaces the URL's host in the request's Host header.
	// Sec-WebSocket-Protocol is always set to Subprotocol and must not be
	// given here, nor any other header the handshake writes itself (see
	// Check).
	Header http.Header `json:"-"`

	// HandshakeTimeout bounds TCP connect, TLS and the WebSocket upgrade.
	// Zero means no limit of its own: the context passed to Dial still
	// applies (the Base sets it to the connection timeout).
	HandshakeTimeout time.Duration `json:"-"`

	// MaxMessageSize is the largest incoming message, in bytes. A larger
	// one closes the connection with 1009 and ReadMessage returns a
	// *CloseError that wraps ErrMessageTooLarge. Zero means
	// DefaultMaxMessageSize; negative is an error.
	MaxMessageSize int64 `json:"maxMessageSize,omitempty"`

	// MaxSendSize is the largest outgoing message, in bytes. WriteMessage
	// refuses a larger one with an error wrapping ErrSendTooLarge before
	// it writes a byte, so that no server receives a message it would cut
	// or refuse (Kamailio drops a frame over its 16 KiB read buffer
	// without a word). Zero means DefaultMaxSendSize; negative is an
	// error.
	MaxSendSize int `json:"maxSendSize,omitempty"`

	// Origin is the value of the handshake's Origin header (RFC 6455
	// §4.1, §10.2). Empty means the server's own origin, derived from the
	// URL dialed: "http://host[:port]" for ws and "https://host[:port]"
	// for wss, the port written only when it is not the scheme's default
	// (RFC 6454 §6.1). OpenSIPS refuses a handshake without an Origin.
	// An "Origin" entry in Header takes precedence over this field.
	Origin string `json:"origin,omitempty"`

	// NoOrigin sends no Origin header at all, whatever Origin says; an
	// "Origin" entry in Header is still sent.
	NoOrigin bool `json:"noOrigin,omitempty"`
}

// DefaultMaxSendSize is the largest outgoing message when
// Options.MaxSendSize is zero: 64 KiB, as DefaultMaxMessageSize. It is a
// ceiling, not what every server takes: stock Kamailio drops a frame over
// 16 KiB and Asterisk closes above 32 KiB, so set MaxSendSize for the
// server in use (docs/SERVERS.md has the figure for each).
const DefaultMaxSendSize = 64 << 10

// SendLimit returns MaxSendSize with its default applied.
func (o Options) SendLimit() int {
	if o.MaxSendSize <= 0 {
		return DefaultMaxSendSize
	}
	return o.MaxSendSize
}

// CheckSend returns an error wrapping ErrSendTooLarge when p is larger than
// SendLimit, and nil otherwise. A Conn calls it first thing in
// WriteMessage; it does not allocate when p fits.
func (o Options) CheckSend(p []byte) error {
	if limit := o.SendLimit(); len(p) > limit {
		return &SendTooLargeError{Size: len(p), Limit: limit}
	}
	return nil
}

// SendTooLargeError is the error of a message larger than
// Options.MaxSendSize; it wraps ErrSendTooLarge. Nothing of the message
// was written.
type SendTooLargeError struct {
	Size, Limit int
}

func (e *SendTooLargeError) Error() string {
	return fmt.Sprintf("%v: %d > %d bytes", ErrSendTooLarge, e.Size, e.Limit)
}

// Unwrap returns ErrSendTooLarge.
func (e *SendTooLargeError) Unwrap() error { return ErrSendTooLarge }

// OriginFor returns the Origin header the handshake to rawURL sends, and
// false when it sends none: Header's "Origin" when present, else nothing
// when NoOrigin is set, else Origin, else the server's own origin (see
// Origin). rawURL is a ws:// or wss:// URL; when it does not parse, the
// derived origin is left out.
func (o Options) OriginFor(rawURL string) (string, bool) {
	for k, v := range o.Header {
		if http.CanonicalHeaderKey(k) == "Origin" {
			if len(v) == 0 {
				return "", false
			}
			return v[0], true
		}
	}
	switch {
	case o.NoOrigin:
		return "", false
	case o.Origin != "":
		return o.Origin, true
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", false
	}
	scheme, defPort := "http", "80"
	if strings.EqualFold(u.Scheme, "wss") {
		scheme, defPort = "https", "443"
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); p == defPort {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return scheme + "://" + host, true
}

// HandshakeHeader returns the extra headers of the upgrade request to
// rawURL: a copy of Header with the Origin of OriginFor added when Header
// has none. Names are canonical (http.CanonicalHeaderKey). The result is
// the caller's: changing it does not change o. A backend sends exactly
// these, plus the headers the handshake writes itself.
func (o Options) HandshakeHeader(rawURL string) http.Header {
	h := make(http.Header, len(o.Header)+1)
	for k, v := range o.Header {
		ck := http.CanonicalHeaderKey(k)
		h[ck] = append(h[ck], v...)
	}
	if _, ok := h["Origin"]; !ok {
		if origin, ok := o.OriginFor(rawURL); ok {
			h["Origin"] = []string{origin}
		}
	}
	return h
}

// ReadLimit returns MaxMessageSize with its default applied.
func (o Options) ReadLimit() int64 {
	if o.MaxMessageSize <= 0 {
		return DefaultMaxMessageSize
	}
	return o.MaxMessageSize
}

// ErrOptions is wrapped by the error of a Dial given Options it cannot use.
var ErrOptions = errors.New("dialer: invalid options")

// Check reports whether a Dialer can use o: MaxMessageSize and MaxSendSize
// are not negative, Origin holds no line break, no Header value holds a
// line break or NUL (either would let a value write header lines of its
// own), and every Header name is an HTTP token (RFC 9110 §5.1) that the
// handshake does not write itself (Upgrade, Connection and the
// Sec-WebSocket-* headers). A Dialer calls it before it opens a socket and
// fails with its error, which wraps ErrOptions. Check only reads o.
func (o Options) Check() error {
	if o.MaxMessageSize < 0 {
		return fmt.Errorf("%w: negative MaxMessageSize %d", ErrOptions, o.MaxMessageSize)
	}
	if o.MaxSendSize < 0 {
		return fmt.Errorf("%w: negative MaxSendSize %d", ErrOptions, o.MaxSendSize)
	}
	if strings.ContainsAny(o.Origin, "\r\n") {
		return fmt.Errorf("%w: Origin %q holds a line break", ErrOptions, o.Origin)
	}
	for k, vs := range o.Header {
		if !isToken(k) {
			return fmt.Errorf("%w: header name %q is not a token", ErrOptions, k)
		}
		for _, v := range vs {
			if strings.ContainsAny(v, "\r\n\x00") {
				return fmt.Errorf("%w: header %s: value %q holds a line break or NUL", ErrOptions, k, v)
			}
		}
		switch http.CanonicalHeaderKey(k) {
		case "Sec-Websocket-Protocol":
			return fmt.Errorf("%w: Header must not set %s: the handshake always offers %q", ErrOptions, k, Subprotocol)
		case "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions":
			return fmt.Errorf("%w: Header must not set %s: the handshake writes it", ErrOptions, k)
		}
	}
	return nil
}

// isToken reports whether k is an HTTP token, so that no header name can
// break the request line by line.
func isToken(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
