package dialer

import (
	"encoding/binary"
	"time"
	"unicode/utf8"
)

// The close-frame rules of RFC 6455 that every backend applies the same
// way, for the shipped backends and third parties alike: which codes go on
// the wire, how a close frame's body is built and read, and how long Close
// may take.

// CloseTimeout is the bound of Conn.Close: one second from the call to its
// return, whatever the peer does, the wait for a write in progress
// included (see Conn.Close). The conformance suite holds every backend to
// this number.
const CloseTimeout = time.Second

// MaxCloseReason is the longest reason a close frame carries: a control
// frame's payload is at most 125 bytes (RFC 6455 §5.5), two of them the
// code.
const MaxCloseReason = 125 - 2

// ValidCloseCode reports whether code may appear in a close frame on the
// wire, in either direction: the codes RFC 6455 §7.4.1 and the IANA
// registry define for it (1000–1003, 1007–1014) and those for libraries
// and applications (3000–4999). 1004, 1005, 1006 and 1015 are reserved
// and must never be sent (RFC 6455 §7.4.1), 0–999 are not used, 1016–2999
// are reserved for future RFCs, and nothing is defined above 4999.
//
// A backend sends a close frame with a body only for such a code (see
// AppendCloseBody), and fails a connection whose server sent any other
// with 1002 (see ParseCloseBody).
func ValidCloseCode(code int) bool {
	switch {
	case 1000 <= code && code <= 1003, 1007 <= code && code <= 1014:
		return true
	default:
		return 3000 <= code && code <= 4999
	}
}

// AppendCloseBody appends to b the payload of a close frame with code and
// reason, and returns the extended slice. For a code that ValidCloseCode
// refuses it appends nothing: the frame goes out without a body, which the
// peer reads as 1005. A reason that is not valid UTF-8 is left out (the
// peer would fail the connection with 1007), and one longer than
// MaxCloseReason is cut there, or before, so as not to split a character.
// It allocates nothing when b has room for 125 bytes.
func AppendCloseBody(b []byte, code int, reason string) []byte {
	if !ValidCloseCode(code) {
		return b
	}
	if !utf8.ValidString(reason) {
		reason = ""
	}
	if len(reason) > MaxCloseReason {
		n := MaxCloseReason
		for n > 0 && !utf8.RuneStart(reason[n]) {
			n-- // reason[n] continues a character: cut before it starts
		}
		reason = reason[:n]
	}
	b = binary.BigEndian.AppendUint16(b, uint16(code))
	return append(b, reason...)
}

// ParseCloseBody reads the payload of a close frame received from the
// server (RFC 6455 §5.5.1, §7.1.5). For a well-formed one it returns the
// code, CloseNoStatus (1005) when the payload is empty, and the reason,
// with fail 0: the backend answers with a close frame of its own and
// reports &CloseError{Code: code, Reason: reason}. For a malformed one it
// returns fail, the code to fail the connection with instead (RFC 6455
// §7.1.7): CloseProtocolError (1002) for a one-byte payload or a code that
// ValidCloseCode refuses, CloseInvalidPayload (1007) for a reason that is
// not valid UTF-8 (§8.1). The reason is a copy; p is only read.
func ParseCloseBody(p []byte) (code int, reason string, fail int) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, "", 0
	case len(p) == 1:
		return 0, "", CloseProtocolError
	}
	code = int(binary.BigEndian.Uint16(p))
	if !ValidCloseCode(code) {
		return code, "", CloseProtocolError
	}
	if !utf8.Valid(p[2:]) {
		return code, "", CloseInvalidPayload
	}
	return code, string(p[2:]), 0
}
