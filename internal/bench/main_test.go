package bench

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv(idleServerEnv) != "" {
		os.Exit(runIdleServer())
	}
	goleak.VerifyTestMain(m)
}
