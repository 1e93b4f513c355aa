// Package dialer is the contract between transport.Base and a WebSocket
// backend: a Dialer opens one WebSocket connection that speaks the "sip"
// subprotocol (RFC 7118), and a Conn moves whole messages over it.
//
// The contract is deliberately small, in the manner of database/sql/driver.
// Everything that is the same whatever WebSocket library is used — status,
// reconnection, failover, keepalives, SIP sanity checks, tracing, serialising
// writers — lives once, in transport.Base. A backend only dials, reads,
// writes and closes. Package conformance checks every rule written here on
// a backend, with one call; dialertest is an in-memory Dialer that keeps
// the same rules.
//
// # Handshake
//
// A Dialer offers exactly one subprotocol, "sip" ([Subprotocol]), and fails
// unless the server selects it. It sends the headers of
// [Options.HandshakeHeader]: the caller's, with an Origin derived from the
// URL unless told otherwise. It follows no HTTP redirect (a 3xx is a
// refusal like any other status), offers no extension and fails when the
// server selects one anyway (RFC 6455 §4.1), and checks
// Sec-WebSocket-Accept.
//
// # Messages
//
// One SIP message travels as one WebSocket message. A backend writes it as
// one final frame, in one write to the socket, never fragmented (OpenSIPS
// closes on any fragment), as a text frame when the bytes are valid UTF-8
// and as a binary frame otherwise (RFC 7118 §5.2; see [IsText]), and
// refuses one larger than [Options.MaxSendSize] before writing anything.
// It accepts text and binary messages from the server, reassembles
// fragmented ones, answers pings with pongs, and refuses a message larger
// than [Options.MaxMessageSize] by closing with 1009, before it reads the
// payload where its library allows. It passes every data message through,
// the empty ones and those made only of CRLFs included: keepalives are the
// Base's.
//
// # Errors
//
// A backend reports conditions with the values of this package, so the Base
// cannot tell backends apart: [ErrSubprotocol] when the server did not select
// "sip", [*HandshakeError] when the server answered the upgrade with an HTTP
// status other than 101, [ErrOptions] for Options it cannot use, and
// [*CloseError] for every way a connection ends (a close frame, a dropped
// TCP stream as 1006, an oversized message as 1009 wrapping
// [ErrMessageTooLarge], a frame that breaks RFC 6455 as 1002, a close
// reason that is not UTF-8 as 1007). Errors are permanent: once ReadMessage
// has failed, every later call fails the same way at once.
//
// # Closing
//
// A server's close frame with a valid code ([ValidCloseCode]: 1000–1003,
// 1007–1014, 3000–4999) is reported with that code and reason and answered
// with a close frame; any other fails the connection ([ParseCloseBody]).
// Close sends a close frame built by [AppendCloseBody] and returns within
// [CloseTimeout], one second, whatever the peer does.
package dialer

import (
	"context"
	"unicode/utf8"
)

// Subprotocol is the WebSocket subprotocol of SIP (RFC 7118 §4). Every
// handshake offers it, and a connection whose server did not select it fails
// with ErrSubprotocol.
const Subprotocol = "sip"

// DefaultMaxMessageSize is the largest incoming message a Conn accepts when
// Options.MaxMessageSize is zero: 64 KiB, above the largest frame any of
// the servers sipws meets sends (Kamailio and OpenSIPS stop at 64 KiB,
// Asterisk at 32 KiB, stock Kamailio at 16 KiB; docs/SERVERS.md).
const DefaultMaxMessageSize = 64 << 10

// A Dialer opens WebSocket connections for SIP.
//
// Dial must be safe for concurrent use. It must honour ctx for the whole
// handshake (TCP, TLS and upgrade): when ctx ends, it stops, closes whatever
// socket it opened, and returns an error that wraps ctx.Err(). It must not
// retry, nor follow a redirect: retries, failover and their schedule belong
// to the Base. It calls Options.Check first, and fails with its error
// before opening any socket.
type Dialer interface {
	// Dial opens one connection to url (ws:// or wss://, already
	// validated and normalised by the Base) offering Subprotocol. It
	// fails with ErrSubprotocol when the server does not select it, and
	// with a *HandshakeError when the server answers with another status.
	Dial(ctx context.Context, url string, o Options) (Conn, error)
}

// A Conn is one open WebSocket connection.
//
// Concurrency: ReadMessage is called from one goroutine at a time and
// WriteMessage from one goroutine at a time (the Base serialises writers),
// but ReadMessage, WriteMessage and Close may run concurrently with each
// other, and Close may be called any number of times from any goroutine.
// Every frame goes out whole: a pong or a close frame never lands inside a
// data frame.
//
// A Conn must not start goroutines that outlive Close.
type Conn interface {
	// ReadMessage returns the payload of the next whole data message,
	// text or binary, fragmented or not, empty or made of CRLFs only,
	// answering pings and skipping pongs on the way. The slice is valid
	// only until the next call to ReadMessage; the Base copies nothing
	// it does not need to.
	//
	// When the connection ends, ReadMessage returns an error that
	// errors.As can turn into a *CloseError: the server's code and reason
	// for a close frame (after every message that came before it), 1006
	// when the stream ended without one or was cut inside a message
	// (nothing of which is returned), 1009 (wrapping ErrMessageTooLarge)
	// for an oversized message, 1002 or 1007 when the server broke the
	// protocol. After Close it returns such an error promptly. Once it has
	// returned an error, it returns an error with the same code at once,
	// every time.
	ReadMessage() ([]byte, error)

	// WriteMessage writes p as one message: text when p is valid UTF-8,
	// binary otherwise (see IsText), in one final frame and one write to
	// the socket; it must never fragment. It returns nil only once the
	// whole message has been written to the socket. A message larger
	// than Options.MaxSendSize is refused with an error wrapping
	// ErrSendTooLarge (Options.CheckSend) before anything is written,
	// and the connection stays usable. After Close it returns an error.
	// transport.Base reads an error wrapping net.ErrClosed, from a write
	// when it had not called Close, as "the backend has closed the
	// connection": it leaves the cause to ReadMessage's error and does
	// not call Close for it (Conn/ClosedErrorsWrapNetErrClosed). Any
	// other write error is the cause, and the Base calls Close.
	//
	// It must not modify p, not even for a moment: client masking
	// (RFC 6455 §5.3, a fresh random key per frame) happens in another
	// buffer. It must not retain p after returning, and must not retry.
	WriteMessage(p []byte) error

	// Close sends a close frame with code and reason (AppendCloseBody:
	// no body for a code ValidCloseCode refuses, the reason cut to
	// MaxCloseReason bytes), closes the socket, and unblocks a pending
	// ReadMessage or WriteMessage. It returns within CloseTimeout (one
	// second) even when the peer has stopped reading and a write is
	// blocked on it; it does not wait for the server's answer. It is
	// idempotent: only the first call sends a close frame.
	Close(code int, reason string) error
}

// IsText reports whether p goes out as a text frame: SIP is UTF-8, and
// RFC 7118 §5.2 sends anything else as binary.
func IsText(p []byte) bool { return utf8.Valid(p) }

// A Pinger is a Conn that can send native WebSocket pings (RFC 6455
// §5.5.2) and report their pongs: an optional ability, which the Base
// discovers with a type assertion, as database/sql discovers
// driver.Pinger. keepalive.WebSocketPing needs it; without it, a transport
// in that mode fails Connect with an error naming the mode, and every
// other mode works as before. Both shipped backends have it.
type Pinger interface {
	Conn

	// Ping writes one Ping frame carrying p (at most 125 bytes), whole,
	// in one write. It returns nil only once the frame was written. Like
	// WriteMessage it is called from one goroutine at a time, never
	// concurrently with WriteMessage (the Base serialises every writer),
	// and it must not modify p, not even for a moment.
	Ping(p []byte) error

	// SetPongHandler sets the function called with the payload of each
	// Pong frame the connection reads. It is called from inside
	// ReadMessage, on the reading goroutine, before ReadMessage returns
	// the next data message; the payload is valid only during the call.
	// Nil skips pongs. The Base calls SetPongHandler before its first
	// ReadMessage and not again.
	SetPongHandler(f func(payload []byte))
}
