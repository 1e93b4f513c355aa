package transport

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// Send writes msg, one whole SIP message, as one WebSocket message: a text
// frame, or binary when msg is not valid UTF-8. It returns nil only once the
// whole frame was written to the socket. Otherwise:
//   - an error wrapping dialer.ErrSendTooLarge when msg is larger than
//     Config.Dial.MaxSendSize; nothing is written;
//   - ErrNotConnected when the transport is not OPEN (or stops being OPEN
//     while Send waits); SIP transactions retransmit, nothing is queued;
//   - ctx's error when ctx ends before the write starts. If ctx ends while
//     the frame is being written, the connection is closed (a partial frame
//     cannot be recovered) and reconnection follows; Send then returns
//     ctx's error, or nil if the whole frame went out all the same;
//   - the socket's error, wrapped; the connection is then closed and
//     reconnection follows.
//
// With TraceSIP, the message is traced before it is written, and a failed
// write is logged after, so a trace never shows an answer before its
// request.
//
// Send never modifies msg and does not retain it. It is safe for concurrent
// use; concurrent calls are serialised, each message written whole. With a
// context that cannot be cancelled (context.Background) it does not
// allocate.
func (b *Base) Send(ctx context.Context, msg []byte) error {
	if err := b.cfg.Dial.CheckSend(msg); err != nil {
		return fmt.Errorf("transport: send: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s := b.current.Load()
	if s == nil {
		return ErrNotConnected
	}
	trace := b.cfg.TraceSIP && b.log.IsTrace()
	if trace {
		b.trace("sending", s.server.URI, msg)
	}
	if err := s.write(ctx, msg); err != nil {
		if trace {
			b.log.Trace("SIP send failed", "server", s.server.URI, "size", len(msg), "error", err)
		}
		return err
	}
	b.stats.messagesOut.Add(1)
	b.stats.bytesOut.Add(uint64(len(msg)))
	return nil
}

// writeOp is the state of one write whose ctx can end: whichever of the
// writer and ctx's AfterFunc moves it out of writing first decides whether
// the connection is torn down.
type writeOp struct{ state atomic.Int32 }

const (
	writing   int32 = iota // WriteMessage has not returned
	written                // it returned first: ctx's end changes nothing
	cancelled              // ctx ended first: the connection is being closed
)

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
	var op *writeOp
	var stop func() bool
	if ctx.Done() != nil {
		if err := ctx.Err(); err != nil {
			<-s.sem
			return err // ended while waiting for the lock: nothing written
		}
		op = new(writeOp)
		stop = context.AfterFunc(ctx, func() {
			if op.state.CompareAndSwap(writing, cancelled) {
				s.fail(1001, "send cancelled", fmt.Errorf("transport: send interrupted: %w", context.Cause(ctx)))
			}
		})
	}
	err := s.conn.WriteMessage(p)
	if op != nil {
		stop()
		if !op.state.CompareAndSwap(writing, written) {
			// ctx ended during the write, and the connection is being
			// closed; a frame that went out whole still counts.
			<-s.sem
			if err == nil {
				return nil
			}
			return errors.Join(ctx.Err(), err)
		}
	}
	<-s.sem
	if err == nil {
		return nil
	}
	if s.closed.Load() {
		return fmt.Errorf("%w: %w", ErrNotConnected, err)
	}
	s.writeFailed(err)
	return fmt.Errorf("transport: send to %s: %w", s.server.URI, err)
}
