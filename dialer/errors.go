package dialer

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// WebSocket close codes (RFC 6455 §7.4.1) that the Base and the backends use.
const (
	CloseNormalClosure   = 1000 // Disconnect
	CloseGoingAway       = 1001 // keepalive pong timeout: the flow failed
	CloseProtocolError   = 1002
	CloseUnsupportedData = 1003
	CloseNoStatus        = 1005 // a close frame without a code
	CloseAbnormal        = 1006 // the stream ended without a close frame
	CloseInvalidPayload  = 1007
	ClosePolicyViolation = 1008
	CloseMessageTooBig   = 1009 // a message above Options.MaxMessageSize
	CloseInternalError   = 1011
)

// ErrSubprotocol means the server accepted the upgrade without selecting
// the "sip" subprotocol; RFC 7118 §4 makes that a failed connection.
var ErrSubprotocol = errors.New("dialer: server did not select the sip subprotocol")

// ErrMessageTooLarge is wrapped by the *CloseError a Conn returns when an
// incoming message exceeds Options.MaxMessageSize.
var ErrMessageTooLarge = errors.New("dialer: message larger than the max message size")

// ErrSendTooLarge is wrapped by the error of WriteMessage (and of
// transport.Base.Send) for a message larger than Options.MaxSendSize;
// nothing of it was written.
var ErrSendTooLarge = errors.New("dialer: message larger than the max send size")

// HandshakeError reports an upgrade refused with an HTTP status.
type HandshakeError struct {
	StatusCode int    // the HTTP status, e.g. 400, 404, 503
	Status     string // the status line's text, e.g. "400 Bad Request"
	Header     http.Header
}

func (e *HandshakeError) Error() string {
	s := e.Status
	if s == "" {
		s = strconv.Itoa(e.StatusCode)
	}
	return "dialer: handshake refused: HTTP " + s
}

// CloseError reports how a connection ended. Every backend translates its
// library's close error into this type; callers use errors.As.
type CloseError struct {
	Code   int    // RFC 6455 close code; 1006 when no close frame arrived
	Reason string // the close frame's reason, if any
	Err    error  // the underlying cause (io.EOF, a socket error, ErrMessageTooLarge), if any
}

func (e *CloseError) Error() string {
	msg := "dialer: connection closed: " + strconv.Itoa(e.Code)
	if e.Reason != "" {
		msg += " " + strconv.Quote(e.Reason)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *CloseError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, &CloseError{Code: c}) match any CloseError with
// code c, whatever its reason.
func (e *CloseError) Is(target error) bool {
	t, ok := target.(*CloseError)
	return ok && t.Code == e.Code && (t.Reason == "" || t.Reason == e.Reason)
}

// Abnormal returns the *CloseError for a stream that ended without a close
// frame (1006), wrapping cause.
func Abnormal(cause error) *CloseError {
	return &CloseError{Code: CloseAbnormal, Err: cause}
}

// TooLarge returns the *CloseError for an incoming message of size bytes
// above limit; a negative size means the size is unknown.
func TooLarge(size, limit int64) *CloseError {
	err := fmt.Errorf("%w: %d > %d bytes", ErrMessageTooLarge, size, limit)
	if size < 0 {
		err = fmt.Errorf("%w: more than %d bytes", ErrMessageTooLarge, limit)
	}
	return &CloseError{Code: CloseMessageTooBig, Reason: "message too big", Err: err}
}
