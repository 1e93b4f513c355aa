package transport

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/keepalive"
	"github.com/sipws/sipws/selector"
)

// session is one OPEN connection: the socket, its write lock and its
// keepalive schedule.
type session struct {
	b      *Base
	server selector.Server
	conn   dialer.Conn
	keeper *keepalive.Keeper

	// sem serialises writers (Send, keepalive pings and pongs, automatic
	// answers). A channel, not a mutex, so a Send can stop waiting when its
	// context ends.
	sem chan struct{}

	closing   chan struct{} // closed by close: waiting writers give up
	closeOnce sync.Once
	closed    atomic.Bool           // close was called: write errors mean ErrNotConnected
	cause     atomic.Pointer[error] // why we closed it, when not Disconnect

	answer []byte // buffer for automatic 400/416 answers; read goroutine only
}

func (b *Base) newSession(srv selector.Server, conn dialer.Conn) *session {
	s := &session{
		b:       b,
		server:  srv,
		conn:    conn,
		sem:     make(chan struct{}, 1),
		closing: make(chan struct{}),
	}
	s.keeper = keepalive.New(keepalive.Config{
		Interval:    b.cfg.KeepAliveInterval,
		Debounce:    b.cfg.KeepAliveDebounce,
		PongTimeout: b.cfg.KeepAlivePongTimeout,
		Send:        s.sendKeepalive,
		OnFailure:   s.pongTimeout,
		OnRTT:       func(rtt time.Duration) { b.stats.lastRTT.Store(int64(rtt)) },
	})
	return s
}

// open makes the new connection to srv the OPEN one: it reports OPEN and
// Connected, starts the keepalives, and then wakes the waiting Connect
// calls.
// Disconnect closes the socket of b.current; one that came before the
// connection was stored there is seen here, and the socket closed.
func (b *Base) open(r *run, srv selector.Server, conn dialer.Conn) *session {
	s := b.newSession(srv, conn)

	// OPEN and the settling of waiting Connect calls happen under b.mu, so
	// a Connect either sees OPEN or waits on a waiter settled later.
	b.mu.Lock()
	b.current.Store(s)
	opened := b.status.v.CompareAndSwap(int32(StatusConnecting), int32(StatusOpen))
	w := b.waiter
	b.waiter = nil
	stopped := r.stopped()
	b.mu.Unlock()
	if stopped {
		code, reason := b.closeParams()
		s.close(code, reason)
	}
	if !opened {
		b.status.force(StatusOpen)
	} else {
		b.reportStatus(StatusConnecting, StatusOpen, changed)
	}

	b.stats.connects.Add(1)
	b.log.Info("connected", "server", srv.URI)
	if f := b.events.Load().Connected; f != nil {
		f(srv)
	}
	s.keeper.Start()
	// The Connect calls waiting for this OPEN return after Connected has
	// been delivered, so a SIP stack sees the event before Connect returns.
	w.settle(nil)
	return s
}

// closeSession ends a connection whose read loop returned err: it closes
// the socket (with Disconnect's code after Disconnect, 1001 otherwise),
// stops the keepalives, reports CLOSED and Disconnected, and returns the
// cause of an unrequested end (nil after Disconnect).
func (b *Base) closeSession(r *run, s *session, err error) error {
	srv := s.server
	requested := r.stopped()
	if requested {
		b.status.transition(StatusClosing)
		code, reason := b.closeParams()
		s.close(code, reason)
	} else {
		if c := s.cause.Load(); c != nil {
			err = *c
		}
		s.close(dialer.CloseGoingAway, "")
	}
	s.keeper.Stop()
	b.status.transition(StatusClosed)

	if requested {
		err = nil
		b.log.Info("disconnected", "server", srv.URI)
	} else {
		b.log.Warn("connection lost", "server", srv.URI, "error", err)
	}
	if f := b.events.Load().Disconnected; f != nil {
		f(srv, err)
	}
	return err
}

// close closes the socket once, and makes Send return ErrNotConnected from
// now on.
func (s *session) close(code int, reason string) {
	s.closeOnce.Do(func() {
		s.b.current.CompareAndSwap(s, nil)
		s.closed.Store(true)
		close(s.closing)
		if err := s.conn.Close(code, reason); err != nil && s.b.log.IsDebug() {
			s.b.log.Debug("close", "server", s.server.URI, "error", err)
		}
	})
}

// fail closes the socket after a local failure (a write error, a pong
// timeout): the read loop ends and reconnection follows with cause.
func (s *session) fail(code int, reason string, cause error) {
	s.cause.CompareAndSwap(nil, &cause)
	s.close(code, reason)
}

// pongTimeout is the keepalive's flow-failure callback (RFC 5626 §4.4.1).
func (s *session) pongTimeout() {
	s.b.stats.pongTimeouts.Add(1)
	s.b.log.Warn("keepalive pong timeout: closing the flow", "server", s.server.URI,
		"timeout", s.b.cfg.KeepAlivePongTimeout)
	s.fail(dialer.CloseGoingAway, "keepalive pong timeout", ErrPongTimeout)
}

// sendKeepalive writes a ping or a pong for the keepalive schedule.
func (s *session) sendKeepalive(p []byte) error {
	err := s.write(context.Background(), p)
	if err == nil {
		s.b.stats.keepalivesOut.Add(1)
	}
	return err
}

// errWriteFailed is the cause recorded when a write error ends a connection.
var errWriteFailed = errors.New("transport: write failed")
