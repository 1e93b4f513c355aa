package transport

import (
	"context"
	"sync"
	"time"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/selector"
)

// failback is the probing of better servers while a session is OPEN on a
// server of lower weight (Config.FailbackInterval, beyond SIP.js). One
// timer per session, armed only when a better server exists at all; a
// probe runs on the timer's goroutine, one at a time.
type failback struct {
	mu      sync.Mutex
	timer   *time.Timer
	stopped bool               // stopFailback was called: no probe starts, the timer is not re-armed
	cancel  context.CancelFunc // aborts the probe's dial in progress
	running sync.WaitGroup     // the probe in progress; Add only under mu while !stopped
}

// armFailback arms the next probe, when failback is on and a server of
// higher weight than s's exists.
func (s *session) armFailback() {
	b := s.b
	if b.cfg.FailbackInterval <= 0 {
		return
	}
	if top, ok := b.sel.MaxWeight(); !ok || top <= s.server.Weight {
		return // on the best server: nothing to probe
	}
	s.fb.mu.Lock()
	defer s.fb.mu.Unlock()
	if s.fb.stopped {
		return
	}
	if s.fb.timer == nil {
		s.fb.timer = time.AfterFunc(b.cfg.FailbackInterval, s.probe)
	} else {
		s.fb.timer.Reset(b.cfg.FailbackInterval)
	}
}

// stopFailback disarms the probes, aborts a probe's dial in progress and
// waits for the probe to end. Once it returns, no probe of s runs or will.
// It must not be called from the probe itself.
func (s *session) stopFailback() {
	s.fb.mu.Lock()
	s.fb.stopped = true
	if s.fb.timer != nil {
		s.fb.timer.Stop()
	}
	if s.fb.cancel != nil {
		s.fb.cancel()
	}
	s.fb.mu.Unlock()
	s.fb.running.Wait()
}

// probe is the failback timer's callback: it dials the better servers, the
// highest weight first, marked in error or not, and moves to the first
// that answers. A probe is a
// full dial (TCP, TLS, the handshake with the sip subprotocol) bounded by
// ConnectionTimeout; the connection of a probe that succeeds becomes the
// transport's, so the move costs no second handshake, and one that cannot
// be used is closed with 1000. A failed probe marks nothing. When no move
// happens, the next probe is armed.
func (s *session) probe() {
	s.fb.mu.Lock()
	if s.fb.stopped {
		s.fb.mu.Unlock()
		return
	}
	s.fb.running.Add(1)
	s.fb.mu.Unlock()
	defer s.fb.running.Done()

	b := s.b
	for _, srv := range b.sel.Better(s.server.Weight) {
		conn, ok := s.probeDial(srv)
		if !ok {
			return // stopped
		}
		if conn == nil {
			continue
		}
		if b.moveTo(s, srv, conn) {
			return
		}
		conn.Close(dialer.CloseNormalClosure, "")
		return // the old connection is going, or the transport is stopping
	}
	s.armFailback()
}

// probeDial dials srv for a probe. It returns ok false when the probes were
// stopped (Disconnect, or the session ending), and a nil conn when the dial
// failed or the backend cannot do the keepalive mode.
func (s *session) probeDial(srv selector.Server) (conn dialer.Conn, ok bool) {
	b := s.b
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.ConnectionTimeout)
	defer cancel()
	s.fb.mu.Lock()
	if s.fb.stopped {
		s.fb.mu.Unlock()
		return nil, false
	}
	s.fb.cancel = cancel
	s.fb.mu.Unlock()

	b.stats.failbackProbes.Add(1)
	conn, err := b.dialer.Dial(ctx, srv.URI, b.dialOptions(srv))
	s.fb.mu.Lock()
	s.fb.cancel = nil
	stopped := s.fb.stopped
	s.fb.mu.Unlock()
	if err == nil {
		err = b.checkMode(conn)
		if err != nil {
			conn.Close(dialer.CloseNormalClosure, "")
		}
	}
	if err != nil {
		if b.log.IsDebug() {
			b.log.Debug("failback probe failed", "server", srv.URI, "error", err)
		}
		return nil, !stopped
	}
	if stopped {
		conn.Close(dialer.CloseNormalClosure, "")
		return nil, false
	}
	return conn, true
}

// moveTo makes conn, a probe's connection to srv, the transport's current
// one in place of s, make-before-break: from now on Send writes to the new
// connection, and then the old one is closed with 1001 "failback". The
// goroutine that reads s sees it end and hands over (closeSession): it
// reports Disconnected(old, ErrFailback), then Connected(new). It reports
// false, changing nothing, when s is no longer current or the transport is
// stopping.
func (b *Base) moveTo(s *session, srv selector.Server, conn dialer.Conn) bool {
	r := s.run
	b.mu.Lock()
	if r.stopped() || r.pending != nil || b.current.Load() != s {
		b.mu.Unlock()
		return false
	}
	ns := b.newSession(r, srv, conn)
	r.pending = ns
	b.current.Store(ns)
	b.mu.Unlock()
	b.stats.failbacks.Add(1)
	b.log.Info("failing back to a better server", "from", s.server.URI, "to", srv.URI)
	s.fail(dialer.CloseGoingAway, "failback", ErrFailback)
	return true
}

// handOff ends the old session s after a failback to next: the status stays
// OPEN, and Disconnected reports the old server with ErrFailback (or the
// cause that ended it first). It returns next, for activate.
func (b *Base) handOff(s, next *session, err error) *session {
	s.close(dialer.CloseGoingAway, "failback")
	s.keeper.Stop()
	if c := s.cause.Load(); c != nil {
		err = *c
	}
	b.stats.connects.Add(1)
	b.log.Info("connected", "server", next.server.URI, "after", "failback")
	if f := b.events.Load().Disconnected; f != nil {
		f(s.server, err)
	}
	return next
}
