package keepalive

// CRLFPing is the CRLF keepalive ping: a double CRLF (RFC 5626 §3.5.1).
const CRLFPing = "\r\n\r\n"

// CRLFPong is the answer to a CRLF ping: a single CRLF (RFC 5626 §3.5.1).
const CRLFPong = "\r\n"

// ping and pong are what the Keeper passes to Config.Send, which must not
// modify them; unexported, so no importer can change them for every
// connection of the process.
var (
	ping = []byte(CRLFPing)
	pong = []byte(CRLFPong)
)

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
	return string(p) == CRLFPing
}
