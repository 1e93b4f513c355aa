package keepalive

// Ping is the client's keepalive: a double CRLF (RFC 5626 §3.5.1). The
// Keeper passes this slice to Config.Send; Send must not modify it.
var Ping = []byte("\r\n\r\n")

// Pong is the answer to a ping: a single CRLF (RFC 5626 §3.5.1). The Keeper
// passes this slice to Config.Send; Send must not modify it.
var Pong = []byte("\r\n")

// IsKeepalive reports whether p is keepalive traffic: non-empty and made
// only of CR and LF bytes. SIP messages start with a method or "SIP/", so
// no SIP message is ever classified as keepalive. It is stateless, does not
// allocate, and is safe for concurrent use.
func IsKeepalive(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	for _, c := range p {
		if c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// isServerPing reports whether p is exactly a double CRLF: a ping sent by
// the server, which the client answers with a pong.
func isServerPing(p []byte) bool {
	return string(p) == "\r\n\r\n"
}
