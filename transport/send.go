package transport

import (
	"context"
	"errors"
	"fmt"
)

// Send writes msg, one whole SIP message, as one WebSocket message: a text
// frame, or binary when msg is not valid UTF-8. It returns nil only once the
// whole frame was written to the socket. Otherwise:
//   - ErrNotConnected when the transport is not OPEN (or stops being OPEN
//     while Send waits); SIP transactions retransmit, nothing is queued;
//   - ctx's error when ctx ends first. If ctx ends in the middle of a write,
//     the connection is closed (a partial frame cannot be recovered) and
//     reconnection follows;
//   - the socket's error, wrapped; the connection is then closed and
//     reconnection follows.
//
// Send never modifies msg and does not retain it. It is safe for concurrent
// use; concurrent calls are serialised, each message written whole. With a
// context that cannot be cancelled (context.Background) it does not
// allocate.
func (b *Base) Send(ctx context.Context, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := b.current.Load()
	if s == nil {
		return ErrNotConnected
	}
	if err := s.write(ctx, msg); err != nil {
		return err
	}
	b.stats.messagesOut.Add(1)
	b.stats.bytesOut.Add(uint64(len(msg)))
	if b.cfg.TraceSIP && b.log.IsTrace() {
		b.trace("sent", s.server.URI, msg)
	}
	return nil
}

// write takes the connection's write lock and writes p in one frame.
func (s *session) write(ctx context.Context, p []byte) error {
	select {
	case s.sem <- struct{}{}: // uncontended: no select machinery
	default:
		select {
		case s.sem <- struct{}{}:
		case <-s.closing:
			return ErrNotConnected
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.closed.Load() {
		<-s.sem
		return ErrNotConnected
	}
	var stop func() bool
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, func() {
			s.fail(1001, "send cancelled", fmt.Errorf("transport: send interrupted: %w", context.Cause(ctx)))
		})
	}
	err := s.conn.WriteMessage(p)
	if stop != nil && !stop() {
		// ctx ended during the write and the connection is being closed.
		<-s.sem
		return errors.Join(ctx.Err(), err)
	}
	<-s.sem
	if err == nil {
		return nil
	}
	if s.closed.Load() {
		return fmt.Errorf("%w: %w", ErrNotConnected, err)
	}
	s.fail(1011, "write failed", fmt.Errorf("%w: %w", errWriteFailed, err))
	return fmt.Errorf("transport: send to %s: %w", s.server.URI, err)
}
