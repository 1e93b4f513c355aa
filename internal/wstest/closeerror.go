package wstest

import (
	"errors"
	"testing"

	"github.com/sipws/sipws/dialer"
)

// CloseErrorOf returns the *dialer.CloseError in err's chain, or fails the
// test with err and its type. Call it from the test's goroutine, as
// t.Fatal requires; it keeps no state and may run in many tests at once.
func CloseErrorOf(t testing.TB, err error) *dialer.CloseError {
	t.Helper()
	var ce *dialer.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want a *dialer.CloseError", err, err)
	}
	return ce
}
