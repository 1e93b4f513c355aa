package conformance_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sipws/sipws/conformance"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/wsgobwas"
)

// A backend's test file runs the suite with one call; each case becomes a
// subtest, e.g. TestConformance/Conn/ReadLimitCloses1009.
func ExampleRun() {
	// In the backend's _test.go file:
	testConformance := func(t *testing.T) {
		conformance.Run(t, func(*testing.T) dialer.Dialer { return &wsgobwas.Dialer{} })
	}
	_ = testConformance // go test runs it as func TestConformance(t *testing.T)
}

// Test runs the same cases without a *testing.T, here two of them.
func ExampleTest() {
	err := conformance.Test(func() dialer.Dialer { return &wsgobwas.Dialer{} },
		"Dial/OffersSipSubprotocol", "Conn/ReadLimitCloses1009")
	fmt.Println("failures:", err)
	// Output:
	// failures: <nil>
}

// The case names are stable, for -run and -skip.
func ExampleCases() {
	for _, name := range conformance.Cases() {
		if strings.HasPrefix(name, "Dial/") {
			fmt.Println(name)
		}
	}
	// Output:
	// Dial/OffersSipSubprotocol
	// Dial/ExtraHeadersReachServer
	// Dial/PathAndQueryUnchanged
	// Dial/MissingSubprotocolFails
	// Dial/RefusedIsHandshakeError
	// Dial/StalledHandshakeHonoursContext
	// Dial/HandshakeTimeoutHonoured
	// Dial/WssVerifiedAgainstRoots
	// Dial/WssUntrustedCertFails
	// Dial/ClosedPortFailsFast
}
