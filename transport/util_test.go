package transport

import (
	"context"
	"crypto/tls"
	"testing"

	"go.uber.org/goleak"

	"github.com/sipws/sipws/dialer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type dialFunc func(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error)

func (f dialFunc) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	return f(ctx, url, o)
}

func tlsConfigForTest() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS12} }
