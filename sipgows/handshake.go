package sipgows

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/sipws/sipws/dialer"
)

// maxHandshake bounds the upgrade request sipgo's dialer writes (about
// 250 bytes in practice).
const maxHandshake = 16 << 10

var errHandshake = errors.New("sipgows: bad WebSocket upgrade request on a pipe")

// handshake plays the server side of the WebSocket opening handshake (RFC
// 6455 §4.2): it collects the upgrade request from p and, once it is whole,
// queues the 101 response (selecting "sip", RFC 7118 §4) for Read. It
// returns how many bytes of p belonged to the request.
func (c *conn) handshake(p []byte) (int, error) {
	before := len(c.hs)
	c.hs = append(c.hs, p...)
	end := bytes.Index(c.hs, []byte("\r\n\r\n"))
	if end < 0 {
		if len(c.hs) > maxHandshake {
			c.shutdown()
			return len(p), errHandshake
		}
		return len(p), nil
	}
	end += 4
	used := end - before
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(c.hs[:end])))
	c.hs = nil
	key := ""
	if err == nil && strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
		key = req.Header.Get("Sec-WebSocket-Key")
	}
	if key == "" {
		c.own <- c.b.newRaw([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), kindControl)
		return used, nil // the dialer fails and closes the pipe
	}
	var resp bytes.Buffer
	resp.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	resp.WriteString(acceptKey(key))
	resp.WriteString("\r\n")
	if offers(req.Header, dialer.Subprotocol) {
		resp.WriteString("Sec-WebSocket-Protocol: " + dialer.Subprotocol + "\r\n")
	}
	resp.WriteString("\r\n")
	c.own <- c.b.newRaw(resp.Bytes(), kindHandshake)
	c.open = true
	return used, nil
}

// acceptKey is Sec-WebSocket-Accept for key (RFC 6455 §4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// offers reports whether the request offered the subprotocol proto.
func offers(h http.Header, proto string) bool {
	for _, v := range h.Values("Sec-WebSocket-Protocol") {
		for _, t := range strings.Split(v, ",") {
			if strings.TrimSpace(t) == proto {
				return true
			}
		}
	}
	return false
}
