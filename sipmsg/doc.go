// Package sipmsg is a zero-allocation view of one SIP message (RFC 3261
// §7), with the sanity checks a SIP-over-WebSocket transport (RFC 7118)
// runs on what it receives, the stateless response it sends back to a
// bad request, and the redacted copy of a message its SIP trace logs.
//
// # Model
//
// Over WebSocket every SIP message arrives whole, in one WebSocket message
// (RFC 7118 §5.1), so there is no framing to do: [Message.Parse] takes the
// bytes of one message and records where the start line, each header line
// and the body are. Nothing is copied or decoded. Every accessor returns a
// sub-slice of the parsed input, and a [Message] is a fixed-size value meant
// to be reused for message after message, so parsing a message allocates
// nothing, and neither do [Check] and [AppendResponse] given a buffer with
// room.
//
// Lookups are by header name, case-insensitive, with the long and compact
// forms of a header equivalent (RFC 3261 §7.3.3): Header("v") and
// Header("Via") read the same lines. [Message.Header] returns the first
// line's value; [Message.Values] splits list headers at commas.
//
// The parser is lenient where real servers need it: bare LF line endings,
// empty header values, folded header lines, any reason phrase, white space
// inside a Via's sent-protocol (Kamailio sends "SIP/2.0/WS  127.0.0.1").
// It never panics, whatever the input. It does not validate what it does
// not need (URIs, parameters, header grammar beyond "name: value").
//
// # Receiving
//
// A transport parses each incoming message, then calls [Check]. A
// [Problem] other than [OK] means the message is dropped; for a request
// whose [Problem.Status] is not 0, the transport first answers with
// [AppendResponse] (416 for a Request-URI scheme other than sip, 400 for a
// body shorter than Content-Length).
//
// # Tracing
//
// [AppendRedacted] copies the raw bytes of a message for a log with the
// Authorization and Proxy-Authorization values, folded continuation lines
// included, replaced by "<redacted>". It works on bytes that do not parse
// too, so a transport can trace what it receives before parsing it.
//
// # Concurrency
//
// Parse writes to its Message and must not run concurrently with any other
// use of it. Every other method only reads, so once Parse has returned a
// Message may be read from many goroutines. The package-level functions
// hold no state and are safe for concurrent use.
package sipmsg
