package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/selector"
)

// ErrConnectionTimeout is wrapped by the error of an attempt that did not
// finish its TCP, TLS and WebSocket handshakes within ConnectionTimeout.
var ErrConnectionTimeout = errors.New("transport: connection timeout")

// run is one supervision, from Connect to Disconnect: which server is in
// use, how many retries on it have failed, the servers marked in error in
// this pass, and the recovery schedule.
//
// A transport has exactly one goroutine, but not always the same one: the
// goroutine that dials hands run to a new goroutine at each OPEN and ends.
// Dialing (TCP, TLS, the HTTP upgrade) grows a goroutine's stack to 8 KiB
// or more, and the stack of a goroutine parked in a read shrinks only while
// it uses under a quarter of it; a fresh goroutine that only reads keeps
// the stack of an idle connection at what reading needs. With thousands
// of idle transports in one process, that is most of their memory.
type run struct {
	stop chan struct{} // closed by Disconnect
	done chan struct{} // closed when the supervision has ended
	gid  atomic.Uint64 // the goroutine that owns the run now (see goroutineID)

	// Guarded by Base.mu.
	waiter      *waiter            // Connect calls waiting for the next OPEN or failed pass; nil: none
	ready       *session           // the OPEN session whose Connected has returned; nil: none
	pending     *session           // a failback's new connection, current but not yet activated
	abort       context.CancelFunc // cancels the dial in progress, if any
	closeCode   int                // what Disconnect closes with
	closeReason string

	// Owned by the goroutine that owns the run.
	recovery backoff.BackOff
	failed   []*ServerError  // servers marked in error in this pass
	server   selector.Server // the server in use
	retries  int             // failed retries on server in a row; -1: pick a server
	spread   bool            // the next server picked comes after a failover
	cause    error           // why the last attempt, or connection, on server failed
}

// own records the calling goroutine as the one that runs r's callbacks.
func (r *run) own() { r.gid.Store(goroutineID()) }

// onGoroutine reports whether the caller is the goroutine that owns r, that
// is, whether it is inside one of r's event callbacks.
func (r *run) onGoroutine() bool { return r.gid.Load() == goroutineID() }

// ended reports whether the supervision has ended.
func (r *run) ended() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// supervise drives r: it picks servers, dials, retries, fails over and
// waits for recovery, until a connection is OPEN, which it hands to a new
// goroutine (see run), or until Disconnect. Every status change and event
// callback happens on the goroutine that owns r, hence in order.
func (b *Base) supervise(r *run) {
	r.own()
	b.superviseOwned(r)
}

func (b *Base) superviseOwned(r *run) {
	if r.recovery == nil {
		r.recovery = b.newRecovery()
	}
	maxRetries := max(b.cfg.MaxReconnectionAttempts, 0)
	for {
		if r.stopped() {
			b.finish(r, ErrDisconnected)
			return
		}
		switch {
		case r.retries < 0:
			srv, ok := b.sel.Next()
			if !ok {
				if !b.recover(r) {
					return
				}
				continue
			}
			r.server, r.retries = srv, 0
			if r.spread {
				// The first dial of the next server after a failover is
				// spread, as a first retry is.
				r.spread = false
				if !sleep(r.stop, b.retryWait(1)) {
					continue
				}
			}
		case r.retries >= maxRetries:
			b.failover(r)
			continue
		default:
			// The first retry goes at once (spread by a little), each
			// next one after ReconnectionTimeout (jittered): SPEC.md
			// "Connecting", 3, and "Reconnection at fleet scale".
			if !sleep(r.stop, b.retryWait(r.retries+1)) {
				continue
			}
			r.retries++
			b.stats.reconnects.Add(1)
			b.log.Info("reconnecting", "server", r.server.URI, "attempt", r.retries, "of", maxRetries, "after", r.cause)
		}
		conn, err := b.dial(r, r.server)
		if err != nil {
			r.cause = err
			continue
		}
		if err := b.checkMode(conn); err != nil {
			// Permanent: no server and no retry can change the backend.
			b.log.Error("cannot connect", "error", err)
			conn.Close(dialer.CloseNormalClosure, "")
			b.status.transition(StatusClosed)
			b.finish(r, err)
			return
		}
		s := b.open(r, r.server, conn)
		if s == nil {
			continue // Disconnect came first: the loop finishes
		}
		r.recovery.Reset() // a successful open resets the counts (activate: retries)
		go b.serve(r, s)
		return
	}
}

// retryWait returns the wait before retry n (from 1) on one server: SIP.js
// retries once at once, then every ReconnectionTimeout T. With a jitter j
// (ReconnectionJitter, default 0.5) each wait of T is drawn uniformly in
// [(1−j)·T, (1+j)·T), whose mean is T, and the first retry waits a draw in
// [0, j·T/4): up to 500 ms with the defaults. A negative j gives SIP.js's
// exact schedule.
func (b *Base) retryWait(n int) time.Duration {
	t, j := b.cfg.ReconnectionTimeout, b.cfg.ReconnectionJitter
	switch {
	case j <= 0 && n <= 1:
		return 0
	case j <= 0:
		return t
	case n <= 1:
		return time.Duration(rand.Float64() * j * float64(t) / 4)
	}
	return time.Duration((1 - j + 2*j*rand.Float64()) * float64(t))
}

// newRecovery returns a fresh recovery schedule from the configured
// factory; a factory that returns nil gets the default schedule, with a
// warning, rather than a crash on the first failed pass.
func (b *Base) newRecovery() backoff.BackOff {
	if bo := b.cfg.NewRecoveryBackOff(); bo != nil {
		return bo
	}
	b.log.Warn("NewRecoveryBackOff returned nil: using the default recovery schedule")
	return NewRecoveryBackOff(b.cfg.RecoveryMinInterval, b.cfg.RecoveryMaxInterval)
}

// serve reads one OPEN connection until it ends, then goes on supervising
// on the same goroutine.
func (b *Base) serve(r *run, s *session) {
	r.own()
	next, cause := b.closeSession(r, s, s.readLoop())
	if next != nil && !r.stopped() {
		// A failback: the new connection is already current and OPEN.
		b.activate(r, next)
		go b.serve(r, next)
		return
	}
	if next != nil {
		// Disconnect came during the move (from Disconnected, say): the
		// new connection is closed without ever being reported.
		b.status.transition(StatusClosing)
		next.close(b.closeParams(r))
		b.status.transition(StatusClosed)
	}
	r.cause = cause
	b.superviseOwned(r)
}

// failover marks the server in use in error, after its retries failed,
// and reports it; the next server is picked at once, with a fresh count.
func (b *Base) failover(r *run) {
	b.sel.MarkError(r.server)
	b.stats.failovers.Add(1)
	se := &ServerError{Server: r.server, Err: r.cause}
	r.failed = append(r.failed, se)
	r.retries = -1
	r.spread = true
	b.log.Warn("server marked in error", "server", r.server.URI, "error", r.cause)
	if f := b.events.Load().TransportError; f != nil {
		f(se)
	}
}

// recover ends a pass in which every server failed: the marks are reset,
// waiting Connect calls get the failures, and recovery waits before the
// next pass. It reports false when the supervision has ended instead
// (Disconnect, or a BackOff that says Stop).
func (b *Base) recover(r *run) bool {
	b.sel.Reset()
	failed := &ConnectError{Servers: r.failed}
	r.failed = nil
	b.settle(r, failed)
	wait := r.recovery.NextBackOff()
	if wait == backoff.Stop {
		b.log.Warn("recovery stopped by its back-off; Connect starts again")
		b.finish(r, failed) // repeats the failures for late Connect calls
		return false
	}
	b.stats.recoveries.Add(1)
	b.log.Info("no server available, recovering", "in", wait)
	if !sleep(r.stop, wait) {
		b.finish(r, ErrDisconnected)
		return false
	}
	return true
}

// finish ends the supervision: Connect calls still waiting on r get err,
// and Disconnect, waiting on r.done, returns. A run that ends by itself
// (its back-off said Stop) stops being the transport's run, so the next
// Connect starts a new one. Waiters belong to their run: a Connect that
// starts the next run never gets this one's outcome.
func (b *Base) finish(r *run, err error) {
	b.mu.Lock()
	if b.run == r {
		b.run, b.last = nil, r
	}
	w := r.waiter
	r.waiter = nil
	b.mu.Unlock()
	w.settle(err)
	close(r.done)
}

// dial makes one connection attempt, bounded by ConnectionTimeout. Its
// context is not derived from anything long-lived: a child context would
// leave its parent a map of children for the transport's lifetime.
// Disconnect aborts it through r.abort instead.
func (b *Base) dial(r *run, srv selector.Server) (dialer.Conn, error) {
	b.status.transition(StatusConnecting)
	b.stats.dials.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.ConnectionTimeout)
	b.mu.Lock()
	r.abort = cancel
	b.mu.Unlock()
	if r.stopped() {
		cancel() // Disconnect came before r.abort was set
	}
	started := time.Now()
	conn, err := b.dialer.Dial(ctx, srv.URI, b.dialOptions(srv))
	b.mu.Lock()
	r.abort = nil
	b.mu.Unlock()
	if err == nil {
		b.stats.connectTime.observe(time.Since(started))
	}
	timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
	cancel()
	if err == nil && r.stopped() {
		// Disconnect raced a handshake that had just finished.
		conn.Close(b.closeParams(r))
		err = ErrDisconnected
	}
	if err != nil {
		if timedOut && !r.stopped() {
			err = fmt.Errorf("%w (%v): %w", ErrConnectionTimeout, b.cfg.ConnectionTimeout, err)
		}
		b.log.Debug("connection attempt failed", "server", srv.URI, "error", err)
		b.status.transition(StatusClosed)
		return nil, err
	}
	return conn, nil
}

// dialOptions returns the options for one dial: the TLS config is cloned and
// given the server's host name, so a failover across hosts verifies each
// host and the user's config is never modified.
func (b *Base) dialOptions(srv selector.Server) dialer.Options {
	o := b.cfg.Dial
	if u, err := url.Parse(srv.URI); err == nil && u.Scheme == "wss" {
		if o.TLSConfig != nil {
			o.TLSConfig = o.TLSConfig.Clone()
		} else {
			o.TLSConfig = new(tls.Config)
		}
		if o.TLSConfig.ServerName == "" {
			o.TLSConfig.ServerName = srv.Host()
		}
	}
	return o
}

// stopped reports whether Disconnect has ended the supervision.
func (r *run) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// sleep waits for d or until stop is closed; it reports whether d elapsed.
func sleep(stop <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-stop:
			return false
		default:
			return true
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}
