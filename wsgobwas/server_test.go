package wsgobwas

import (
	"testing"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

// dial opens a client connection to url with d and o, closed at cleanup.
func dial(t testing.TB, d *Dialer, url string, o dialer.Options) *conn {
	t.Helper()
	return wstest.Dial(t, d, url, o).(*conn)
}
