package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain makes the test binary the server child when roleEnv says so, as
// the program itself does: the tests run the same children as the
// benchmarks.
func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) != "" {
		os.Exit(dispatch(os.Args[1:]))
	}
	goleak.VerifyTestMain(m)
}
