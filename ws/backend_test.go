package ws

import (
	"testing"

	"github.com/sipws/sipws/conformance"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

// TestConformance runs the suite every dialer.Dialer must pass: every rule
// of the dialer contract, MUST and SHOULD.
func TestConformance(t *testing.T) {
	conformance.Run(t, func(*testing.T) dialer.Dialer { return &Dialer{} })
}

func newDialer(nd wstest.NetDial) dialer.Dialer { return &Dialer{NetDial: nd} }

// TestBackend runs the tests the two backends share beyond the suite:
// exact timing over net.Pipe, one write per frame.
func TestBackend(t *testing.T) { wstest.RunBackend(t, newDialer) }

// FuzzReadMessage: whatever a server sends after the handshake, the frame
// reader never panics or hangs, keeps to the read limit, and ends with a
// *dialer.CloseError (see wstest.FuzzReadMessage).
func FuzzReadMessage(f *testing.F) { wstest.FuzzReadMessage(f, newDialer) }
