package ws_test

import (
	"testing"

	"github.com/sipws/sipws/conformance"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/ws"
)

// TestConformance runs the backend suite that every dialer.Dialer must pass.
func TestConformance(t *testing.T) {
	conformance.Run(t, func(*testing.T) dialer.Dialer { return &ws.Dialer{} })
}
