package coderws_test

import (
	"testing"

	"go.uber.org/goleak"

	coderws "example.com/sipws-thirdparty"
	"github.com/sipws/sipws/conformance"
	"github.com/sipws/sipws/dialer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	conformance.Run(t, func(*testing.T) dialer.Dialer { return coderws.Dialer{} }, conformance.SkipShould())
}
