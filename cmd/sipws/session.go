package main

import (
	"context"
	"fmt"
	"time"

	"github.com/sipws/sipws/internal/sipua"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// transact sends req and waits, at most timeout, for its final response;
// provisional responses and unrelated messages are skipped. It prints the
// answer, named what, with the round-trip time, and returns its status
// code and reason phrase. When ctx ends first, the error wraps ctx's.
func transact(ctx context.Context, r *report, tr transport.Transport, req sipua.Request, what string, timeout time.Duration) (int, string, error) {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	if err := tr.Send(tctx, req.Raw); err != nil {
		return 0, "", fmt.Errorf("send %s: %w", what, err)
	}
	for {
		select {
		case raw := <-r.inbox:
			var m sipmsg.Message
			if m.Parse(raw) != nil || !req.IsResponse(&m) || m.StatusCode() < 200 {
				continue
			}
			reason := string(m.Reason())
			r.printf("answer     %s %d %s in %v", what, m.StatusCode(), reason, time.Since(start).Round(time.Microsecond))
			return m.StatusCode(), reason, nil
		case <-tctx.Done():
			if ctx.Err() != nil {
				return 0, "", fmt.Errorf("%s: %w", what, ctx.Err())
			}
			return 0, "", fmt.Errorf("no final response to %s within %v", what, timeout)
		}
	}
}

// awaitPong waits, at most timeout, for the next keepalive pong.
func awaitPong(ctx context.Context, r *report, timeout time.Duration) error {
	select {
	case <-r.pongs:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("no keepalive pong within %v", timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// disconnect stops tr, bounded by timeout, and prints the counters.
func disconnect(r *report, tr *transport.Base, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := tr.Disconnect(ctx)
	st := tr.Stats()
	r.printf("stats      messages out %d, in %d; keepalives out %d, in %d (last RTT %v); dials %d, reconnects %d, failovers %d, failbacks %d",
		st.MessagesOut, st.MessagesIn, st.KeepalivesOut, st.KeepalivesIn, st.LastKeepaliveRTT.Round(time.Microsecond),
		st.Dials, st.Reconnects, st.Failovers, st.Failbacks)
	if err != nil {
		return fmt.Errorf("disconnect: %w", err)
	}
	return nil
}
