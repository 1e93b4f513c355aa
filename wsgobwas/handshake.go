package wsgobwas

import (
	"bufio"
	"io"
	"net/http"
	"strconv"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
)

// maxRefusalHeader bounds what is read of a refusal's header block, as
// net/http's client bounds response headers.
const maxRefusalHeader = 1 << 20

// requestHeader returns the extra upgrade headers, already checked by
// dialer.Options.Check, in the form gobwas writes, plus the Host override
// if h has one. h is not modified.
func requestHeader(h http.Header) (ws.HandshakeHeader, string) {
	if len(h) == 0 {
		return nil, ""
	}
	var host string
	hasHost := false
	for k, v := range h {
		if http.CanonicalHeaderKey(k) == "Host" {
			hasHost = true
			if len(v) > 0 {
				host = v[0]
			}
		}
	}
	if !hasHost {
		return ws.HandshakeHeaderHTTP(h), ""
	}
	// gobwas writes Host itself: the copy it gets must not hold it again.
	rest := make(http.Header, len(h))
	for k, v := range h {
		if http.CanonicalHeaderKey(k) != "Host" {
			rest[k] = v
		}
	}
	return ws.HandshakeHeaderHTTP(rest), host
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
