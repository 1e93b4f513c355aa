package transport

import (
	"bytes"
	"strings"
)

// trace logs one whole SIP message at Trace level, with credentials
// redacted. Callers check TraceSIP and IsTrace first: it allocates.
func (b *Base) trace(direction, server string, msg []byte) {
	b.log.Trace("SIP "+direction, "server", server, "size", len(msg), "message", string(Redact(msg)))
}

// redactedHeaders hold credentials (RFC 3261 §20.7, §20.28).
var redactedHeaders = []string{"authorization", "proxy-authorization"}

// Redact returns a copy of a SIP message whose Authorization and
// Proxy-Authorization values are replaced by "<redacted>", keeping the
// authentication scheme (Digest, Bearer...). Everything else is unchanged.
func Redact(msg []byte) []byte {
	out := make([]byte, 0, len(msg))
	rest := msg
	inHeaders := true
	for len(rest) > 0 {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		if inHeaders && len(bytes.TrimRight(line, "\r\n")) == 0 && len(out) > 0 {
			inHeaders = false // the blank line: the body follows, untouched
		}
		if inHeaders {
			if red, ok := redactLine(line); ok {
				out = append(out, red...)
				continue
			}
		}
		out = append(out, line...)
	}
	return out
}

// redactLine redacts one header line if it carries credentials.
func redactLine(line []byte) ([]byte, bool) {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return nil, false
	}
	name := strings.ToLower(string(bytes.TrimSpace(line[:colon])))
	for _, h := range redactedHeaders {
		if name == h {
			value := bytes.TrimSpace(line[colon+1:])
			scheme := value
			if i := bytes.IndexAny(value, " \t"); i >= 0 {
				scheme = value[:i]
			}
			var out []byte
			out = append(out, line[:colon+1]...)
			out = append(out, ' ')
			out = append(out, scheme...)
			out = append(out, " <redacted>"...)
			end := line[len(bytes.TrimRight(line, "\r\n")):]
			return append(out, end...), true
		}
	}
	return nil, false
}
