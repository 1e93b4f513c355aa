package wstest

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
)

// Frame is one WebSocket frame as the server side of a test reads it.
type Frame struct {
	Header  ws.Header // as received: Masked and Mask tell how the peer sent it
	Payload []byte    // unmasked
}

// ReadFrame reads one frame from r and unmasks its payload. It allocates
// the payload and keeps no state, so concurrent calls on different
// readers are safe; one reader is read by one goroutine at a time.
func ReadFrame(r io.Reader) (Frame, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return Frame{}, err
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(r, p); err != nil {
		return Frame{}, err
	}
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	return Frame{Header: h, Payload: p}, nil
}

// ReadClose reads frames from r until a close frame, skipping data and
// control frames before it, and returns its code (dialer.CloseNoStatus,
// 1005, for a close frame with no code) and reason. The concurrency rules
// are ReadFrame's.
func ReadClose(r io.Reader) (code int, reason string, err error) {
	for {
		f, err := ReadFrame(r)
		if err != nil {
			return 0, "", err
		}
		if f.Header.OpCode != ws.OpClose {
			continue
		}
		if len(f.Payload) < 2 {
			return dialer.CloseNoStatus, "", nil
		}
		return int(binary.BigEndian.Uint16(f.Payload)), string(f.Payload[2:]), nil
	}
}

// WriteFrame writes one unmasked frame, as a server sends it. It keeps no
// state; one writer is written by one goroutine at a time.
func WriteFrame(w io.Writer, op ws.OpCode, fin bool, p []byte) error {
	return ws.WriteFrame(w, ws.NewFrame(op, fin, p))
}

// UpgradeResponse returns a 101 answer to the WebSocket upgrade req,
// with the Sec-WebSocket-Accept it calls for, followed by extra (header
// lines, each ending in "\r\n"). It is for tests that answer a handshake
// by hand, to say what ws.Upgrader never would or to send a frame in the
// same segment. It is a pure function, safe from any goroutine.
func UpgradeResponse(req *http.Request, extra string) string {
	// The GUID of RFC 6455 §1.3, which gobwas/ws does not export.
	sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + base64.StdEncoding.EncodeToString(sum[:]) + "\r\n" + extra + "\r\n"
}
