package transport

import (
	"context"
	"errors"

	"github.com/sipws/sipws/dialer"
)

var errNilDialer = errors.New("must not be nil")

func errorsJoin(a, b error) error { return errors.Join(a, b) }

// Connect starts the transport if it is not running and waits until it is
// OPEN. It returns nil at once when already OPEN; concurrent calls share one
// attempt. It returns ctx's error when ctx ends first, and a *ConnectError
// when a whole pass over the servers failed. In both cases the transport
// keeps trying in the background (reconnection, then recovery) until
// Disconnect, so a later Connect may simply wait again.
//
// Connect is safe for concurrent use, including with Disconnect (a Connect
// still waiting then returns ErrDisconnected). It must not be called from an
// event callback and waited for: the callback runs on the goroutine that
// would open the connection.
func (b *Base) Connect(ctx context.Context) error {
	for {
		b.mu.Lock()
		if b.status.is(StatusOpen) && b.current.Load() != nil {
			b.mu.Unlock()
			return nil
		}
		if !b.running && b.done != nil {
			// A previous run is still winding down (its Disconnect's ctx
			// ended first): wait for it, so two supervisors never overlap.
			prev := b.done
			b.mu.Unlock()
			select {
			case <-prev:
			case <-ctx.Done():
				return ctx.Err()
			}
			b.mu.Lock()
			if b.done == prev {
				b.done = nil
			}
			b.mu.Unlock()
			continue
		}
		if !b.running {
			b.start()
		}
		if b.waiter == nil {
			b.waiter = newWaiter()
		}
		w := b.waiter
		b.mu.Unlock()
		select {
		case <-w.done:
			return w.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// start launches the supervisor. b.mu is held.
func (b *Base) start() {
	b.running, b.stop, b.done = true, make(chan struct{}), make(chan struct{})
	b.closeCode, b.closeReason = dialer.CloseNormalClosure, ""
	b.sel.Reset()
	go b.supervise(&run{stop: b.stop, done: b.done, retries: -1})
}

// Disconnect stops the transport with close code 1000; see DisconnectWith.
func (b *Base) Disconnect(ctx context.Context) error {
	return b.DisconnectWith(ctx, dialer.CloseNormalClosure, "")
}

// DisconnectWith stops the transport: it cancels any pending retry or
// recovery wait, aborts a connection attempt in progress, closes an OPEN
// connection with code and reason, stops keepalives, and reports
// Disconnected with a nil error (when a connection was OPEN). It returns
// once the status is CLOSED and every goroutine the transport started has
// ended, or with ctx's error if ctx ends first (the shutdown still
// completes). No reconnection follows; Connect starts again.
//
// It is safe for concurrent use and idempotent. It must not be called from
// an event callback and waited for (the callback runs on the goroutine it
// waits for); use a goroutine there.
func (b *Base) DisconnectWith(ctx context.Context, code int, reason string) error {
	b.mu.Lock()
	done := b.done
	var abort context.CancelFunc
	var open *session
	if b.running {
		b.running = false
		b.closeCode, b.closeReason = code, reason
		close(b.stop)
		abort, open = b.abort, b.current.Load()
	}
	b.mu.Unlock()
	// A dial in progress is aborted; an OPEN socket is closed, which ends
	// its read loop. A connection that opens after this sees stop closed
	// (open checks it under b.mu) and closes itself.
	if abort != nil {
		abort()
	}
	if open != nil {
		open.close(code, reason)
	}
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeParams returns the code and reason Disconnect asked for.
func (b *Base) closeParams() (int, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closeCode, b.closeReason
}

// settle completes the Connect calls waiting now, if any, with err.
func (b *Base) settle(err error) {
	b.mu.Lock()
	w := b.waiter
	b.waiter = nil
	b.mu.Unlock()
	w.settle(err)
}
