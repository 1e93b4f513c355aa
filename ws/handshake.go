package ws

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/sipws/sipws/dialer"
)

// requestHeader checks the extra upgrade headers and returns them in the
// form gorilla takes. h is not modified: when all its names are canonical
// it is returned as it is, and otherwise a copy with canonical names, since
// gorilla recognises names (Host among them) in that form only and would
// send a "host" given in lower case as a second Host line.
func requestHeader(h http.Header) (http.Header, error) {
	canonical := true
	for k := range h {
		if !validFieldName(k) {
			return nil, fmt.Errorf("ws: invalid header name %q", k)
		}
		ck := http.CanonicalHeaderKey(k)
		switch ck {
		case "Sec-Websocket-Protocol":
			return nil, fmt.Errorf("ws: Options.Header must not set %s: the handshake always offers %q", k, dialer.Subprotocol)
		case "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions":
			return nil, fmt.Errorf("ws: Options.Header must not set %s: the handshake writes it", k)
		}
		if ck != k {
			canonical = false
		}
	}
	if canonical {
		return h, nil
	}
	out := make(http.Header, len(h))
	for k, v := range h {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], v...) // a new slice: h's stay unshared
	}
	return out, nil
}

// validFieldName reports whether k is an HTTP token (RFC 9110 §5.1), so that
// no header name can break the request; net/http checks names in its own
// client, but not in the Request.Write that gorilla uses.
func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
