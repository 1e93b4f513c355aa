package sipmsg

import "strconv"

// A Problem is the outcome of Check: OK, or the first sanity check a
// message failed (SPEC.md "Receiving", after SIP.js's sanity checks and
// RFC 3261 §8.1.3.3, §8.2.2.1, §18.1.2 and §18.3).
type Problem uint8

const (
	// OK: the message passed every check.
	OK Problem = iota
	// MissingHeader: Via, From, To, Call-ID or CSeq is absent, or each of
	// its lines is empty. The message is dropped silently, even a request.
	MissingHeader
	// BadRequestURIScheme: a request whose Request-URI scheme is not sip.
	// Answered 416.
	BadRequestURIScheme
	// BodyTooShort: the body is shorter than Content-Length. A request is
	// answered 400; a response is dropped.
	BodyTooShort
	// ResponseMultipleVia: a response with more than one Via value. It is
	// dropped.
	ResponseMultipleVia
	// ResponseViaMismatch: a response whose top Via host is not the
	// configured via host, or that carries a port. It is dropped.
	ResponseViaMismatch
)

var problemNames = [...]string{
	OK:                  "ok",
	MissingHeader:       "missing mandatory header",
	BadRequestURIScheme: "unsupported Request-URI scheme",
	BodyTooShort:        "body shorter than Content-Length",
	ResponseMultipleVia: "more than one Via in a response",
	ResponseViaMismatch: "response Via sent-by does not match",
}

// String returns a short description, e.g. "missing mandatory header".
func (p Problem) String() string {
	if int(p) < len(problemNames) {
		return problemNames[p]
	}
	return "Problem(" + strconv.Itoa(int(p)) + ")"
}

// Status returns the status of the stateless answer a request with this
// problem gets: 416 "Unsupported URI Scheme" for BadRequestURIScheme and
// 400 "Bad Request" for BodyTooShort. It returns 0 and "" for the others,
// which are dropped without an answer. Only requests are ever answered
// (a response with BodyTooShort is dropped), and never an ACK (RFC 3261
// §17.1.1.3: ACK gets no response); that is the caller's test.
func (p Problem) Status() (code int, reason string) {
	switch p {
	case BadRequestURIScheme:
		return 416, "Unsupported URI Scheme"
	case BodyTooShort:
		return 400, "Bad Request"
	}
	return 0, ""
}

// mandatory has a bit set for each header every message must carry (RFC
// 3261 §8.1.1, SIP.js's minimumHeaders), as Message.have does for those
// it carries with a value.
const mandatory = 1<<idVia | 1<<idFrom | 1<<idTo | 1<<idCallID | 1<<idCSeq

// Check runs the transport's sanity checks on a parsed message and returns
// the first that fails, in this order (SPEC.md "Receiving"):
//
//   - every message: Via, From, To, Call-ID and CSeq each present, in long
//     or compact form, with a non-empty value on at least one line, else
//     MissingHeader. A Message whose Parse failed has no headers, so it
//     gets MissingHeader too.
//   - requests: a Request-URI whose scheme is not "sip", compared
//     case-insensitively, is BadRequestURIScheme. This follows SIP.js
//     (ruri.scheme !== 'sip') exactly: "sips", "tel" and a URI without a
//     scheme all fail. Then a body shorter than Content-Length is
//     BodyTooShort.
//   - responses: more than one Via value (lines or commas, see ViaCount)
//     is ResponseMultipleVia. When viaHost is not empty, a top Via whose
//     host differs from viaHost (ASCII case-insensitive) or that has a
//     port at all is ResponseViaMismatch (RFC 3261 §18.1.2). Then a body
//     shorter than Content-Length is BodyTooShort.
//
// A Content-Length that is not a number fails no check (SIP.js compared
// it as a string and let it pass); the body is then all that follows the
// headers. Check allocates nothing and is safe for concurrent use with
// the read-only methods of m.
func Check(m *Message, viaHost string) Problem {
	if m.have != mandatory {
		return MissingHeader
	}
	if m.IsRequest() {
		if !hasScheme(m.RequestURI(), "sip") {
			return BadRequestURIScheme
		}
		if m.bodyTooShort() {
			return BodyTooShort
		}
		return OK
	}
	if m.vias > 1 {
		return ResponseMultipleVia
	}
	if viaHost != "" {
		host, port := ViaHostPort(m.TopVia())
		if port != nil || !equalFold(host, viaHost) {
			return ResponseViaMismatch
		}
	}
	if m.bodyTooShort() {
		return BodyTooShort
	}
	return OK
}

// bodyTooShort reports whether fewer bytes follow the headers than a valid
// Content-Length announces.
func (m *Message) bodyTooShort() bool {
	return m.clen >= 0 && uint64(m.clen) > uint64(m.rest)
}

// hasScheme reports whether uri starts with scheme and a colon, the scheme
// compared case-insensitively (RFC 3986 §3.1).
func hasScheme(uri []byte, scheme string) bool {
	return len(uri) > len(scheme) && uri[len(scheme)] == ':' && equalFold(uri[:len(scheme)], scheme)
}
