package wstest_test

import (
	"bytes"
	"fmt"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/internal/wstest"
)

// A test server reads what a client sent up to its close frame: the
// message before it is skipped and the masked close frame is unmasked.
func ExampleReadClose() {
	var stream bytes.Buffer // what a client wrote on the wire
	ws.WriteFrame(&stream, ws.MaskFrameInPlace(ws.NewTextFrame([]byte("REGISTER sip:example.com SIP/2.0\r\n\r\n"))))
	ws.WriteFrame(&stream, ws.MaskFrameInPlace(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusGoingAway, "pong timeout"))))

	code, reason, err := wstest.ReadClose(&stream)
	fmt.Println(code, reason, err)
	// Output:
	// 1001 pong timeout <nil>
}
