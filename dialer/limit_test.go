package dialer_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/dialer/dialertest"
)

// counting wraps a Dialer and records how many of its dials run at once.
type counting struct {
	d         dialer.Dialer
	now, peak atomic.Int32
	calls     atomic.Int32
}

func (c *counting) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	c.calls.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return c.d.Dial(ctx, url, o)
}

// TestLimit: at most n handshakes at once, whatever the number of callers;
// the others wait their turn and all succeed.
func TestLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := dialertest.NewNetwork(t)
		l := n.Listen("ws://a:80", nil)
		l.SetHandshakeDelay(100 * time.Millisecond)
		c := &counting{d: n}
		d := dialer.Limit(c, 3)
		start := time.Now()
		var wg sync.WaitGroup
		conns := make(chan dialer.Conn, 20)
		for range 20 {
			wg.Go(func() {
				conn, err := d.Dial(context.Background(), "ws://a:80", dialer.Options{})
				if err != nil {
					t.Error(err)
					return
				}
				conns <- conn
			})
		}
		wg.Wait()
		close(conns)
		for conn := range conns {
			conn.Close(dialer.CloseNormalClosure, "")
		}
		if p := c.peak.Load(); p != 3 {
			t.Errorf("%d handshakes at once, want 3", p)
		}
		// 20 dials of 100 ms, 3 at a time: 7 rounds.
		if got := time.Since(start); got != 700*time.Millisecond {
			t.Errorf("20 dials took %v, want 700ms", got)
		}
		l.Wait()
	})
}

// TestLimitWaitHonoursContext: a dial waiting for its turn gives up when
// its ctx ends, without calling the wrapped Dialer, and the time it waited
// counts against ctx.
func TestLimitWaitHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := dialertest.NewNetwork(t)
		l := n.Listen("ws://a:80", nil)
		l.SetMode(dialertest.Stall)
		c := &counting{d: n}
		d := dialer.Limit(c, 1)
		hold, cancel := context.WithCancel(context.Background())
		go d.Dial(hold, "ws://a:80", dialer.Options{}) // holds the one slot
		synctest.Wait()
		ctx, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel2()
		start := time.Now()
		_, err := d.Dial(ctx, "ws://a:80", dialer.Options{})
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 5*time.Second {
			t.Errorf("waiting Dial = %v after %v, want DeadlineExceeded after exactly 5s", err, time.Since(start))
		}
		if calls := c.calls.Load(); calls != 1 {
			t.Errorf("the wrapped Dialer was called %d times, want 1: a dial that never got a slot must not reach it", calls)
		}
		cancel()
		synctest.Wait()
		// The slot is free again.
		l.SetMode(dialertest.Accept)
		conn, err := d.Dial(context.Background(), "ws://a:80", dialer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		conn.Close(dialer.CloseNormalClosure, "")
		l.Wait()
		if dl := dialer.Limit(n, 0); dl == nil {
			t.Error("Limit(d, 0) = nil, want a limit of 1")
		}
	})
}
