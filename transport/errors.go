package transport

import (
	"errors"
	"strings"

	"github.com/sipws/sipws/selector"
)

// ErrNotConnected is returned by Send when the transport is not OPEN. SIP
// transactions retransmit, so the transport does not queue.
var ErrNotConnected = errors.New("transport: not connected")

// ErrDisconnected is returned by a Connect that was still waiting when
// Disconnect was called.
var ErrDisconnected = errors.New("transport: disconnected")

// ErrInCallback is returned by a Connect called from an event callback
// while the transport is not OPEN: waiting there would wait for the
// goroutine that runs the callback. The transport has been started and
// goes on connecting; Events.Connected tells when it is OPEN.
var ErrInCallback = errors.New("transport: Connect cannot wait inside an event callback")

// ErrPongTimeout is the cause reported in Disconnected when a keepalive ping
// got no pong within KeepAlivePongTimeout (RFC 5626 §4.4.1: the flow failed).
var ErrPongTimeout = errors.New("transport: keepalive pong timeout")

// ErrFailback is the error Events.Disconnected reports for the connection a
// transport left for a better server (Config.FailbackInterval): the new
// connection was OPEN before the old one closed, and Connected follows.
var ErrFailback = errors.New("transport: moved to a better server (failback)")

// ServerError is the last error seen on one server before it was marked in
// error. TransportError receives it, and ConnectError holds one per server.
type ServerError struct {
	Server selector.Server
	Err    error
}

func (e *ServerError) Error() string {
	return "transport: " + e.Server.URI + ": " + errText(e.Err)
}

// errText is err's text, or "unknown error" for a nil error, so that an
// error value built by hand never makes Error panic.
func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}

func (e *ServerError) Unwrap() error { return e.Err }

// ConnectError is returned by Connect when a whole pass over every server
// failed. Recovery goes on in the background until Disconnect.
type ConnectError struct {
	Servers []*ServerError // one per server, in the order they were tried
}

func (e *ConnectError) Error() string {
	var b strings.Builder
	b.WriteString("transport: no server available")
	for i, s := range e.Servers {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if s == nil {
			b.WriteString("unknown server")
			continue
		}
		b.WriteString(s.Server.URI + ": " + errText(s.Err))
	}
	return b.String()
}

// Unwrap returns every server's cause, so errors.Is and errors.As look into
// each of them.
func (e *ConnectError) Unwrap() []error {
	errs := make([]error, len(e.Servers))
	for i, s := range e.Servers {
		errs[i] = s
	}
	return errs
}
