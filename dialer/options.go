package dialer

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
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
	// Authorization, User-Agent...). Sec-WebSocket-Protocol is always set
	// to Subprotocol and must not be given here.
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

// Check reports whether a Dialer can use o: MaxMessageSize is not negative,
// and every Header name is an HTTP token (RFC 9110 §5.1) that the
// handshake does not write itself (Upgrade, Connection and the
// Sec-WebSocket-* headers). A Dialer calls it before it opens a socket and
// fails with its error, which wraps ErrOptions. Check only reads o.
func (o Options) Check() error {
	if o.MaxMessageSize < 0 {
		return fmt.Errorf("%w: negative MaxMessageSize %d", ErrOptions, o.MaxMessageSize)
	}
	for k := range o.Header {
		if !isToken(k) {
			return fmt.Errorf("%w: header name %q is not a token", ErrOptions, k)
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
