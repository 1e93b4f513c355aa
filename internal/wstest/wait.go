package wstest

import (
	"testing"
	"time"

	"github.com/sipws/sipws/dialer"
)

// Wait bounds every wait of a real-network test: long enough for a loaded
// machine, short enough that a hang fails the test rather than the run.
const Wait = 5 * time.Second

// Await returns the next value received from ch, or fails the test if none
// arrives within Wait. Call it from the test's goroutine, as t.Fatal
// requires; any number of goroutines may await different channels.
func Await[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	return await(t, ch, Wait)
}

// await is Await with the bound given, so that its own test can time out
// quickly.
func await[T any](t testing.TB, ch <-chan T, d time.Duration) T {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		var zero T
		t.Fatalf("no %T received within %v", zero, d)
		return zero // not reached: Fatalf ends the goroutine
	}
}

// ReadResult is what one ReadMessage called in another goroutine returned.
type ReadResult struct {
	Message []byte // a copy, still valid after later reads
	Err     error
}

// ReadAsync calls c.ReadMessage once in a new goroutine and delivers what
// it returned on the channel, which has room for it: the goroutine ends
// even if nobody receives. The caller must not call ReadMessage on c
// until the result has arrived (dialer.Conn allows one reader); Close may
// be called meanwhile, which is what most callers are testing.
func ReadAsync(c dialer.Conn) <-chan ReadResult {
	ch := make(chan ReadResult, 1)
	go func() {
		p, err := c.ReadMessage()
		ch <- ReadResult{Message: append([]byte(nil), p...), Err: err}
	}()
	return ch
}
