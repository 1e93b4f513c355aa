package wsgobwas

import (
	"io"
	"net"
	"testing"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

// dial opens a client connection to url with d and o, closed at cleanup.
func dial(t testing.TB, d *Dialer, url string, o dialer.Options) *conn {
	t.Helper()
	return wstest.Dial(t, d, url, o).(*conn)
}

// closeBody is the payload of a close frame.
func closeBody(code int, reason string) []byte {
	return ws.NewCloseFrameBody(ws.StatusCode(code), reason)
}

// echo answers every data frame with the same payload and opcode and
// echoes a close frame, as a server does.
func echo(c net.Conn) { echoRW(c) }

func echoRW(c io.ReadWriter) {
	for {
		f, err := wstest.ReadFrame(c)
		if err != nil {
			return
		}
		switch f.Header.OpCode {
		case ws.OpClose:
			wstest.WriteFrame(c, ws.OpClose, true, f.Payload)
			return
		case ws.OpText, ws.OpBinary:
			if wstest.WriteFrame(c, f.Header.OpCode, true, f.Payload) != nil {
				return
			}
		}
	}
}
