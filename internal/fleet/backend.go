package main

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/sipws/sipws/transport"
	"github.com/sipws/sipws/ws"
	"github.com/sipws/sipws/wsgobwas"
)

// backends are the names the -backend flag takes.
var backends = []string{"ws", "wsgobwas"}

// netDial is the signature of both backends' Dialer.NetDial.
type netDial = func(ctx context.Context, network, addr string) (net.Conn, error)

// newMaker returns a constructor of transports on backend, every one
// sharing one Dialer that opens its sockets with nd. readBuf is the
// Dialer's ReadBufferSize (0: the backend's default).
func newMaker(backend string, nd netDial, readBuf int) (func(transport.Config) (*transport.Base, error), error) {
	switch backend {
	case "ws":
		d := &ws.Dialer{NetDial: nd, ReadBufferSize: readBuf}
		return func(cfg transport.Config) (*transport.Base, error) {
			t, err := ws.NewWithDialer(cfg, d)
			if err != nil {
				return nil, err
			}
			return t.Base, nil
		}, nil
	case "wsgobwas":
		d := &wsgobwas.Dialer{NetDial: nd, ReadBufferSize: readBuf}
		return func(cfg transport.Config) (*transport.Base, error) {
			t, err := wsgobwas.NewWithDialer(cfg, d)
			if err != nil {
				return nil, err
			}
			return t.Base, nil
		}, nil
	}
	return nil, fmt.Errorf("unknown backend %q (ws, wsgobwas)", backend)
}

// dialLog counts the TCP dials the clients make, with their times: it
// wraps the NetDial of the backends, so a dial is counted when the
// client's SYN goes out, whatever becomes of it.
type dialLog struct {
	next netDial
	mu   sync.Mutex
	at   []int64 // when each dial started, Unix nanoseconds
	took []int64 // how long it took, ns; negative when it failed
}

func newDialLog(next netDial) *dialLog {
	if next == nil {
		var d net.Dialer
		next = d.DialContext
	}
	return &dialLog{next: next}
}

func (l *dialLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	t := time.Now().UnixNano()
	c, err := l.next(ctx, network, addr)
	d := time.Now().UnixNano() - t
	if err != nil {
		d = -d
	}
	l.mu.Lock()
	l.at = append(l.at, t)
	l.took = append(l.took, d)
	l.mu.Unlock()
	return c, err
}

// since returns the start times and durations (negative: failed) of the
// dials made at or after t.
func (l *dialLog) since(t int64) (at, took []int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, v := range l.at {
		if v >= t {
			at = append(at, v)
			took = append(took, l.took[i])
		}
	}
	return at, took
}

func (l *dialLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.at)
}

// forEach runs f(i) for i in [0, n) on c goroutines, and returns the first
// error.
func forEach(n, c int, f func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int)
	)
	for range max(1, min(c, n)) {
		wg.Go(func() {
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// disconnectAll disconnects every transport, c at a time, each within
// 10 s.
func disconnectAll(ts []*transport.Base, c int) error {
	return forEach(len(ts), c, func(i int) error {
		if ts[i] == nil {
			return nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ts[i].Disconnect(ctx); err != nil {
			return fmt.Errorf("transport %d: Disconnect: %w", i, err)
		}
		return nil
	})
}

// waitGoroutines waits, within d, until at most n goroutines run, and
// returns how many are left above n.
func waitGoroutines(n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		left := runtime.NumGoroutine() - n
		if left <= 0 || time.Now().After(deadline) {
			return max(left, 0)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
