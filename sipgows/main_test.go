package sipgows

import (
	"testing"

	"github.com/emiago/sipgo/sip"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// sipgo logs through its default logger too (a warning about its own
	// reference counts when a user agent closes); keep the output for
	// failures of ours.
	sip.SetDefaultLogger(testLogger(nil))
	goleak.VerifyTestMain(m)
}
