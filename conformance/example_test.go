package conformance_test

import (
	"fmt"
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

// The case names are stable, for -run and -skip; each has a grade, and
// SkipShould (or -skip 'TestConformance///SHOULD') skips the SHOULD ones.
func ExampleCases() {
	for _, name := range conformance.Cases() {
		if g, _ := conformance.GradeOf(name); g == conformance.Should {
			fmt.Println(name)
		}
	}
	// Output:
	// Dial/RefusalStatusAndHeaders
	// Conn/CloseEchoesCode
	// Conn/ProtocolErrorsCloseWithCode
	// Conn/ReadLimitBeforePayload
	// Conn/ReadLimitHugeContinuation
	// Conn/ClosedErrorsWrapNetErrClosed
}

// A backend whose library cannot keep the SHOULD rules runs the MUST ones.
func ExampleSkipShould() {
	testConformance := func(t *testing.T) {
		conformance.Run(t, func(*testing.T) dialer.Dialer { return &wsgobwas.Dialer{} }, conformance.SkipShould())
	}
	_ = testConformance
}
