package wsgobwas

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
)

// maxRefusalHeader bounds what is read of a refusal's header block, as
// net/http's client bounds response headers.
const maxRefusalHeader = 1 << 20

// requestHeader checks the extra upgrade headers and returns them in the
// form gobwas writes, plus the Host override if h has one. h is not
// modified.
func requestHeader(h http.Header) (ws.HandshakeHeader, string, error) {
	if len(h) == 0 {
		return nil, "", nil
	}
	var host string
	hasHost := false
	for k, v := range h {
		if !validFieldName(k) {
			return nil, "", fmt.Errorf("wsgobwas: invalid header name %q", k)
		}
		switch http.CanonicalHeaderKey(k) {
		case "Sec-Websocket-Protocol":
			return nil, "", fmt.Errorf("wsgobwas: Options.Header must not set %s: the handshake always offers %q", k, dialer.Subprotocol)
		case "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions":
			return nil, "", fmt.Errorf("wsgobwas: Options.Header must not set %s: the handshake writes it", k)
		case "Host":
			hasHost = true
			if len(v) > 0 {
				host = v[0]
			}
		}
	}
	if !hasHost {
		return ws.HandshakeHeaderHTTP(h), "", nil
	}
	// gobwas writes Host itself: the copy it gets must not hold it again.
	rest := make(http.Header, len(h))
	for k, v := range h {
		if http.CanonicalHeaderKey(k) != "Host" {
			rest[k] = v
		}
	}
	return ws.HandshakeHeaderHTTP(rest), host, nil
}

// validFieldName reports whether k is an HTTP token (RFC 9110 §5.1), so that
// no header name can break the request.
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

// handshakeError builds the error for an upgrade answered with status: the
// header block is read from resp (the status line, then the rest of the
// answer), bounded, and the body is left unread.
func handshakeError(status int, reason []byte, resp io.Reader) *dialer.HandshakeError {
	e := &dialer.HandshakeError{StatusCode: status, Status: strconv.Itoa(status)}
	if len(reason) > 0 {
		e.Status += " " + string(reason)
	}
	r, err := http.ReadResponse(bufio.NewReader(io.LimitReader(resp, maxRefusalHeader)), nil)
	if err == nil {
		e.Header = r.Header
	}
	return e
}
