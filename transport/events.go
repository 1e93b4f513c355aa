package transport

import (
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
)

// Events are the callbacks a transport reports to, in the manner of
// net/http/httptrace.ClientTrace: every field is optional.
//
// Callbacks are called in order and never concurrently with each other: all
// of them run on the transport's single connection goroutine, which also
// reads. A slow callback therefore delays reading, and with it the answers
// to the server's keepalives: return from Message within about 10 ms, copy
// what you keep and hand heavy work to another goroutine (docs/SERVERS.md
// has the measurements). The transport's own pong timeout does not fire
// while a callback runs. A callback may call Send, Status, SetEvents,
// Disconnect and DisconnectWith (which then return without waiting for
// this goroutine); Connect there returns nil when OPEN and ErrInCallback
// otherwise.
type Events struct {
	// Connected is called once the connection to s is OPEN.
	Connected func(s selector.Server)

	// Disconnected is called when the connection to s ends: err is nil
	// after Disconnect, otherwise the cause, whatever ended the
	// connection first (a *dialer.CloseError, ErrPongTimeout, a write's
	// error...). A write that failed only because the backend had closed
	// the socket after its read side saw the end is not the cause: the
	// read side's error is.
	Disconnected func(s selector.Server, err error)

	// Message is called for each received SIP message that passed the
	// sanity checks, in arrival order, exactly once. m and the bytes it
	// points into are valid only during the call: copy what you keep.
	Message func(m *sipmsg.Message)

	// MessageDropped is called for each received message that is neither
	// keepalive traffic nor delivered: empty (reason ErrEmptyMessage),
	// unparseable (reason wraps sipmsg.ErrMalformed) or failing a sanity
	// check (reason is a *SanityError). raw is valid only during the call.
	// Requests answered with 400 or 416 are reported here too.
	MessageDropped func(raw []byte, reason error)

	// TransportError is called when a server is marked in error after its
	// reconnection attempts; err is a *ServerError.
	TransportError func(err error)

	// StatusChanged is called on every status transition, in order.
	StatusChanged func(from, to Status)
}
