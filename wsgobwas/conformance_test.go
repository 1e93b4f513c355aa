package wsgobwas_test

import (
	"testing"

	"github.com/sipws/sipws/conformance"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/wsgobwas"
)

// TestConformance runs the backend suite that every dialer.Dialer must pass.
func TestConformance(t *testing.T) {
	conformance.Run(t, func(*testing.T) dialer.Dialer { return &wsgobwas.Dialer{} })
}
