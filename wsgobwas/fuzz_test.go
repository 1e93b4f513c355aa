package wsgobwas

import (
	"testing"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

// FuzzReadMessage: whatever a server sends after the handshake, the frame
// reader never panics or hangs, keeps to the read limit, and ends with a
// *dialer.CloseError (see wstest.FuzzReadMessage).
func FuzzReadMessage(f *testing.F) {
	wstest.FuzzReadMessage(f, func(nd wstest.NetDial) dialer.Dialer { return &Dialer{NetDial: nd} })
}
