package transport

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/keepalive"
	"github.com/sipws/sipws/selector"
)

// session is one OPEN connection: the socket, its write lock and its
// keepalive schedule.
type session struct {
	b      *Base
	run    *run // the supervision the session belongs to
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
	secure bool   // a wss connection

	// Keepalive modes (keepalive.go). The ping fields belong to the
	// keepalive's timer, which sends one ping at a time.
	pinger   dialer.Pinger // the connection, in ws-ping mode
	pingSalt uint64        // random per session: payloads are unpredictable
	pingSeq  atomic.Uint64
	lastPing atomic.Uint64 // the payload of the latest ws ping
	pingBuf  [8]byte
	kaCallID string // the Call-ID of the keepalive OPTIONS; empty in other modes
	kaCSeq   uint64
	kaBuf    []byte

	fb failback // the probes for a better server (failback.go)
}

func (b *Base) newSession(r *run, srv selector.Server, conn dialer.Conn) *session {
	s := &session{
		b:        b,
		run:      r,
		server:   srv,
		conn:     conn,
		sem:      make(chan struct{}, 1),
		closing:  make(chan struct{}),
		secure:   strings.HasPrefix(srv.URI, "wss:"),
		pingSalt: rand.Uint64(),
	}
	s.keeper = s.newKeeper()
	return s
}

// open makes the new connection to srv the OPEN one: it reports OPEN and
// Connected, starts the keepalives, and then wakes the waiting Connect
// calls. When Disconnect came first, the connection is closed instead and
// never reported OPEN, and open returns nil.
func (b *Base) open(r *run, srv selector.Server, conn dialer.Conn) *session {
	testHookOpen()
	// OPEN and Disconnect's look at b.current happen under b.mu: either
	// Disconnect sees this session and closes it, or this sees stop
	// closed and never opens.
	b.mu.Lock()
	if r.stopped() {
		code, reason := r.closeCode, r.closeReason
		b.mu.Unlock()
		conn.Close(code, reason)
		b.status.transition(StatusClosed)
		return nil
	}
	s := b.newSession(r, srv, conn)
	b.current.Store(s)
	opened := b.status.v.CompareAndSwap(int32(StatusConnecting), int32(StatusOpen))
	b.mu.Unlock()
	if !opened {
		b.status.force(StatusOpen)
	} else {
		b.reportStatus(StatusConnecting, StatusOpen, changed)
	}

	b.stats.connects.Add(1)
	b.log.Info("connected", "server", srv.URI)
	b.activate(r, s)
	return s
}

// activate makes s, OPEN and current, the transport's connection: it
// reports Connected, starts the keepalives and the failback probes, and
// then wakes the waiting Connect calls. It runs on the goroutine that owns
// r, after OPEN or after a failback.
func (b *Base) activate(r *run, s *session) {
	r.server, r.retries, r.failed = s.server, 0, nil // a pass ends with an OPEN
	if f := b.events.Load().Connected; f != nil {
		f(s.server)
	}
	s.keeper.Start()
	s.armFailback()

	// The Connect calls waiting for this OPEN return after Connected has
	// been delivered, so a SIP stack sees the event before Connect
	// returns; from now on Connect's fast path returns nil too. A
	// Disconnect from inside Connected makes them return ErrDisconnected.
	b.mu.Lock()
	stopped := r.stopped()
	if !stopped && b.current.Load() == s {
		r.ready = s
	}
	w := r.waiter
	r.waiter = nil
	b.mu.Unlock()
	if stopped {
		w.settle(ErrDisconnected)
	} else {
		w.settle(nil)
	}
}

// testHookOpen runs first thing in open; tests replace it to act in the
// window between a finished dial and OPEN.
var testHookOpen = func() {}

// closeSession ends a connection whose read loop returned err: it closes
// the socket (with Disconnect's code after Disconnect, 1001 otherwise),
// stops the keepalives and the failback probes, reports CLOSED and
// Disconnected, and returns the cause of an unrequested end (nil after
// Disconnect). When a failback has made another connection current, it
// reports Disconnected with that cause (ErrFailback) but leaves the status
// OPEN, and returns the new session, which the caller activates; next is
// nil otherwise.
func (b *Base) closeSession(r *run, s *session, err error) (next *session, cause error) {
	srv := s.server
	s.stopFailback()
	b.mu.Lock()
	if r.ready == s {
		r.ready = nil
	}
	pending := r.pending
	r.pending = nil
	b.mu.Unlock()
	requested := r.stopped()
	if pending != nil {
		if !requested {
			return b.handOff(s, pending, err), nil
		}
		code, reason := b.closeParams(r)
		pending.close(code, reason) // stopping: the new connection is never opened
	}
	if requested {
		b.status.transition(StatusClosing)
		code, reason := b.closeParams(r)
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
	return nil, err
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

// locked runs f, a write to the connection, holding the write lock, as
// write does for a message; a failed write ends the connection.
func (s *session) locked(f func() error) error {
	select {
	case s.sem <- struct{}{}:
	case <-s.closing:
		return ErrNotConnected
	}
	if s.closed.Load() {
		<-s.sem
		return ErrNotConnected
	}
	err := f()
	<-s.sem
	if err != nil && !s.closed.Load() {
		s.writeFailed(err)
	}
	return err
}

// writeFailed ends the connection after a failed write, with the write's
// error as the cause. An error wrapping net.ErrClosed while the transport
// had not closed the connection is the exception: the backend closed it
// (net.ErrClosed means a closed connection, conformance's
// Conn/ClosedErrorsWrapNetErrClosed) because its read side saw the end
// first, a server's close frame or a reset, and the write lost the race.
// The read loop, ending by itself, reports that cause; closing here would
// only race it.
func (s *session) writeFailed(err error) {
	if errors.Is(err, net.ErrClosed) {
		return
	}
	s.fail(dialer.CloseInternalError, "write failed", fmt.Errorf("%w: %w", errWriteFailed, err))
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
