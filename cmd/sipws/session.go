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
// answer with the round-trip time and returns its status code.
func transact(ctx context.Context, r *report, tr transport.Transport, req sipua.Request, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	if err := tr.Send(ctx, req.Raw); err != nil {
		return 0, fmt.Errorf("send %s: %w", req.Method, err)
	}
	for {
		select {
		case raw := <-r.inbox:
			var m sipmsg.Message
			if m.Parse(raw) != nil || !req.IsResponse(&m) || m.StatusCode() < 200 {
				continue
			}
			r.printf("answer     %s %d %s in %v", req.Method, m.StatusCode(), m.Reason(),
				time.Since(start).Round(time.Microsecond))
			return m.StatusCode(), nil
		case <-ctx.Done():
			return 0, fmt.Errorf("no final response to %s within %v: %w", req.Method, timeout, ctx.Err())
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
	r.printf("stats      messages out %d, in %d; keepalives out %d, in %d (last RTT %v); dials %d, reconnects %d, failovers %d",
		st.MessagesOut, st.MessagesIn, st.KeepalivesOut, st.KeepalivesIn, st.LastKeepaliveRTT.Round(time.Microsecond),
		st.Dials, st.Reconnects, st.Failovers)
	return err
}
