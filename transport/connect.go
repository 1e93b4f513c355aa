package transport

import (
	"context"
	"errors"

	"github.com/sipws/sipws/dialer"
)

var errNilDialer = errors.New("must not be nil")

func errorsJoin(a, b error) error { return errors.Join(a, b) }

// Connect starts the transport if it is not running and waits until it is
// OPEN and Events.Connected has returned. It returns nil at once when that
// is already so; concurrent calls share one attempt. It returns ctx's error
// when ctx ends first, a *ConnectError when a whole pass over the servers
// failed, and ErrDisconnected when Disconnect stopped the attempt. After
// ctx's error or a *ConnectError the transport keeps trying in the
// background (reconnection, then recovery) until Disconnect, so a later
// Connect may simply wait again, and a transport whose Connect failed must
// still be disconnected to stop dialing.
//
// Connect is safe for concurrent use, including with Disconnect. Called
// from an event callback, where waiting would wait for the very goroutine
// that runs the callback, it starts the transport if needed and returns at
// once: nil when OPEN, ErrInCallback otherwise.
func (b *Base) Connect(ctx context.Context) error {
	for {
		b.mu.Lock()
		r := b.run
		if r != nil && r.ready != nil && r.ready == b.current.Load() {
			b.mu.Unlock()
			return nil
		}
		if r == nil {
			if prev := b.last; prev != nil && !prev.ended() {
				// The previous run is still winding down (its
				// Disconnect's ctx ended first, or it was called from
				// a callback): two supervisors never overlap.
				b.mu.Unlock()
				if prev.onGoroutine() {
					return ErrInCallback
				}
				select {
				case <-prev.done:
				case <-ctx.Done():
					return ctx.Err()
				}
				continue
			}
			r = b.start()
		}
		if r.onGoroutine() {
			b.mu.Unlock()
			return ErrInCallback
		}
		if r.waiter == nil {
			r.waiter = newWaiter()
		}
		w := r.waiter
		b.mu.Unlock()
		select {
		case <-w.done:
			return w.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// start launches a new supervision and returns it. b.mu is held.
func (b *Base) start() *run {
	r := &run{
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
		retries:   -1,
		closeCode: dialer.CloseNormalClosure,
	}
	b.run = r
	b.sel.Reset()
	go b.supervise(r)
	return r
}

// Disconnect stops the transport with close code 1000; see DisconnectWith.
func (b *Base) Disconnect(ctx context.Context) error {
	return b.DisconnectWith(ctx, dialer.CloseNormalClosure, "")
}

// DisconnectWith stops the transport: it cancels any pending retry or
// recovery wait, aborts a connection attempt in progress, closes an OPEN
// connection with code and reason, stops keepalives, and reports
// Disconnected with a nil error (when a connection was OPEN). Connect calls
// still waiting return ErrDisconnected. It returns once the status is
// CLOSED and every goroutine the transport started has ended, or with
// ctx's error if ctx ends first (the shutdown still completes). No
// reconnection follows; Connect starts again.
//
// It is safe for concurrent use and idempotent. Called from an event
// callback it stops the transport in the same way and returns nil without
// waiting: the goroutine it would wait for is the one running the
// callback, which ends once the callback returns.
func (b *Base) DisconnectWith(ctx context.Context, code int, reason string) error {
	b.mu.Lock()
	r := b.run
	var abort context.CancelFunc
	var open *session
	if r != nil {
		b.run, b.last = nil, r
		r.closeCode, r.closeReason = code, reason
		close(r.stop)
		abort, open = r.abort, b.current.Load()
	}
	last := b.last
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
	if last == nil || last.onGoroutine() {
		return nil
	}
	select {
	case <-last.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// closeParams returns the code and reason Disconnect asked r to close with.
func (b *Base) closeParams(r *run) (int, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return r.closeCode, r.closeReason
}

// settle completes the Connect calls waiting on r now, if any, with err.
func (b *Base) settle(r *run, err error) {
	b.mu.Lock()
	w := r.waiter
	r.waiter = nil
	b.mu.Unlock()
	w.settle(err)
}
