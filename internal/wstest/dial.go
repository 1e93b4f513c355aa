package wstest

import (
	"context"
	"testing"

	"github.com/sipws/sipws/dialer"
)

// Dial opens a connection to url with d and o, bounded by Wait, and closes
// it with 1000 when the test ends; a failed Dial fails the test. Call it
// from the test's goroutine, as t.Fatal requires. A backend's test asserts
// the result to its own connection type to reach its internals.
func Dial(t testing.TB, d dialer.Dialer, url string, o dialer.Options) dialer.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	c, err := d.Dial(ctx, url, o)
	if err != nil {
		t.Fatalf("Dial(%s) = %v, want a connection", url, err)
	}
	t.Cleanup(func() { c.Close(dialer.CloseNormalClosure, "") })
	return c
}
