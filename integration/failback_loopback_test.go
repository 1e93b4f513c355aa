package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// TestFailbackLoopback: on real loopback sockets, for both backends, a
// transport on its backup server (weight 1) moves back to the preferred one
// (weight 10) once that accepts handshakes again, while a MESSAGE is sent
// every millisecond throughout. Every MESSAGE whose Send returned nil
// reached exactly one of the two servers, and every other Send returned a
// typed error (SPEC.md, failback: a Send during the move goes out on one of
// the two connections, never on neither unless it returns an error);
// status never leaves OPEN.
func TestFailbackLoopback(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { testFailbackLoopback(t, b) })
	}
}

func testFailbackLoopback(t *testing.T, b backend) {
	start := func(name string) *sipserver.Server {
		srv, err := sipserver.Start(sipserver.Options{Name: name, Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		return srv
	}
	preferredSrv, backupSrv := start("preferred"), start("backup")
	preferredSrv.SetHandshake(sipserver.HandshakeRefuse) // down at first
	preferred, err := selector.ParseServer(preferredSrv.URL(), 10)
	if err != nil {
		t.Fatal(err)
	}
	backup, err := selector.ParseServer(backupSrv.URL(), 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := transport.Config{
		Servers:                 selector.Servers{preferred, backup},
		ConnectionTimeout:       time.Second,
		MaxReconnectionAttempts: -1, // fail over at once
		FailbackInterval:        100 * time.Millisecond,
	}
	alice := newUA(t, b, "alice", "ws", cfg)
	alice.connect(t)
	alice.wantServer(t, backup)

	// The sender: one MESSAGE per millisecond, each Send's outcome kept,
	// until told to stop (bounded: at most maxSends).
	const maxSends = 5000
	type outcome struct {
		callID string
		err    error
	}
	stop := make(chan struct{})
	sent := make(chan []outcome, 1)
	go func() {
		var out []outcome
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		defer func() { sent <- out }()
		for i := range maxSends {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			req := alice.sip.Message("bob", fmt.Sprintf("during the move %d", i))
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			err := alice.tr.Send(ctx, req.Raw)
			cancel()
			out = append(out, outcome{req.CallID, err})
		}
	}()

	from := len(alice.eventsSnapshot())
	preferredSrv.SetHandshake(sipserver.HandshakeAccept) // back up
	_, i := alice.awaitEvent(t, "Connected to the preferred server", from,
		cfg.FailbackInterval+wait, isEvent("connected", preferred.URI))
	evs := alice.eventsSnapshot()[from:i]
	if len(evs) != 1 || evs[0].kind != "disconnected" || evs[0].server != backup.URI || !errors.Is(evs[0].err, transport.ErrFailback) {
		t.Errorf("events before Connected(preferred) = %v, want exactly Disconnected(backup, ErrFailback)", evs)
	}
	// Keep sending on the new connection for a while, then stop.
	serverWait(t, preferredSrv, "MESSAGE on the new connection", wait, func() bool { return countMessages(preferredSrv) >= 50 })
	close(stop)
	outs := <-sent

	var ok, failed int
	for _, o := range outs {
		if o.err == nil {
			ok++
			continue
		}
		failed++
		if !errors.Is(o.err, transport.ErrNotConnected) {
			t.Errorf("Send %s: %v; want nil or an error wrapping transport.ErrNotConnected", o.callID, o.err)
		}
	}
	// Everything sent is at a server; wait, bounded, for the last of it to
	// arrive, then account for each MESSAGE (a lost one is named below).
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	preferredSrv.Wait(ctx, func() bool { return countMessages(preferredSrv)+countMessages(backupSrv) >= ok })
	cancel()
	at := map[string][]string{}
	for _, s := range []struct {
		name string
		srv  *sipserver.Server
	}{{"preferred", preferredSrv}, {"backup", backupSrv}} {
		for _, raw := range s.srv.Received() {
			var m sipmsg.Message
			if m.Parse(raw) == nil && bytes.Equal(m.Method(), []byte("MESSAGE")) {
				id := string(m.Header("Call-ID"))
				at[id] = append(at[id], s.name)
			}
		}
	}
	var onBackup, onPreferred int
	for _, o := range outs {
		where := at[o.callID]
		switch {
		case o.err == nil && len(where) != 1:
			t.Errorf("MESSAGE %s: Send returned nil, and it reached %v; want exactly one server", o.callID, where)
		case o.err != nil && len(where) > 1:
			t.Errorf("MESSAGE %s: Send returned %v, and it reached %v", o.callID, o.err, where)
		}
		if len(where) == 1 {
			if where[0] == "backup" {
				onBackup++
			} else {
				onPreferred++
			}
		}
	}
	if onBackup == 0 || onPreferred == 0 {
		t.Errorf("MESSAGEs on the backup %d, on the preferred %d: the sends did not span the move", onBackup, onPreferred)
	}
	if st := alice.tr.Status(); st != transport.StatusOpen {
		t.Errorf("status %v after failback, want OPEN", st)
	}
	if st := alice.tr.Stats(); st.Failbacks != 1 {
		t.Errorf("Failbacks = %d, want 1", st.Failbacks)
	}
	t.Logf("%s: %d MESSAGEs sent, %d Send errors; %d reached the backup, %d the preferred server",
		b.name, len(outs), failed, onBackup, onPreferred)

	// The 200s the servers answered with are not awaited.
	alice.mu.Lock()
	alice.inbox = nil
	alice.mu.Unlock()
}

// countMessages counts the MESSAGE requests srv received.
func countMessages(srv *sipserver.Server) int {
	n := 0
	for _, raw := range srv.Received() {
		if bytes.HasPrefix(raw, []byte("MESSAGE ")) {
			n++
		}
	}
	return n
}
