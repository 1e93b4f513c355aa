package transport

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/dialer/dialertest"
)

// TestReconnectionScheduleDeadServer: with the defaults, one dead server is
// tried 1 + 3 times, at 0 s, 0 s, 4 s and 8 s (SPEC.md "Connecting"), then
// marked in error; Connect reports the failed pass, and recovery starts
// again after the JsSIP wait (clamped to 2 s for the first recovery).
func TestReconnectionScheduleDeadServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSetup(t, Config{Servers: servers(t, "ws://dead")})
		err := s.b.Connect(context.Background())
		var ce *ConnectError
		if !errors.As(err, &ce) || len(ce.Servers) != 1 || !errors.Is(err, dialertest.ErrRefused) {
			t.Fatalf("Connect = %v, want a *ConnectError wrapping dialertest.ErrRefused", err)
		}
		want := []string{"dead:80@0s", "dead:80@0s", "dead:80@4s", "dead:80@8s"}
		if got := s.rec.dials(); !equal(got, want) {
			t.Fatalf("dials = %q, want %q", got, want)
		}
		if got := time.Since(s.rec.start); got != 8*time.Second {
			t.Errorf("Connect returned after %v, want 8s", got)
		}
		// Recovery: the first wait is random(0,1)+1 = 1 s, clamped to 2 s.
		time.Sleep(10*time.Second + time.Millisecond)
		want = append(want, "dead:80@10s", "dead:80@10s", "dead:80@14s", "dead:80@18s")
		if got := s.rec.dials(); !equal(got, want) {
			t.Fatalf("dials with recovery = %q, want %q", got, want)
		}
		if st := s.b.Status(); st != StatusClosed {
			t.Errorf("status during recovery = %v, want CLOSED", st)
		}
		if err := s.b.Disconnect(context.Background()); err != nil {
			t.Fatal(err)
		}
		n := len(s.rec.dials())
		time.Sleep(time.Minute)
		if got := len(s.rec.dials()); got != n {
			t.Errorf("%d dials after Disconnect, want none", got-n)
		}
	})
}

// TestFailoverByWeight: the highest weight goes first; when it is marked in
// error the next one is tried at once with a fresh count.
func TestFailoverByWeight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://low#w1", "ws://high#w10")
		s := newSetup(t, Config{Servers: ss, MaxReconnectionAttempts: 1, ReconnectionTimeout: time.Second})
		s.net.Listen(ss[0].URI, sipServer(false, nil))
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		want := []string{"high:80@0s", "high:80@0s", "low:80@0s"}
		if got := s.rec.dials(); !equal(got, want) {
			t.Fatalf("dials = %q, want %q", got, want)
		}
		if srv, _ := s.b.Server(); srv.URI != ss[0].URI {
			t.Errorf("connected to %q, want %q", srv.URI, ss[0].URI)
		}
		if st := s.b.Stats(); st.Failovers != 1 || st.Reconnects != 1 || st.Connects != 1 {
			t.Errorf("stats = %+v, want 1 failover, 1 reconnect, 1 connect", st)
		}
	})
}

// TestNegativeMaxReconnectionAttempts: no retries, but the other servers
// are still tried (unlike SIP.js).
func TestNegativeMaxReconnectionAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a#w2", "ws://b#w1")
		s := newSetup(t, Config{Servers: ss, MaxReconnectionAttempts: -1})
		s.net.Listen(ss[1].URI, sipServer(false, nil))
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got, want := s.rec.dials(), []string{"a:80@0s", "b:80@0s"}; !equal(got, want) {
			t.Fatalf("dials = %q, want %q", got, want)
		}
	})
}

// TestReconnectAfterDrop: an unrequested close retries the same server at
// once; the status goes OPEN → CLOSED → CONNECTING → OPEN.
func TestReconnectAfterDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a")
		s := newSetup(t, Config{Servers: ss})
		l := s.net.Listen(ss[0].URI, sipServer(false, nil))
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		l.DropAll()
		synctest.Wait()
		if got, want := s.rec.dials(), []string{"a:80@0s", "a:80@3s"}; !equal(got, want) {
			t.Fatalf("dials = %q, want %q", got, want)
		}
		if st := s.b.Status(); st != StatusOpen {
			t.Fatalf("status = %v, want OPEN", st)
		}
		want := []string{
			"CLOSED->CONNECTING", "CONNECTING->OPEN", "connected ws://a:80",
			"OPEN->CLOSED", "disconnected ws://a:80: dialer: connection closed: 1006",
			"CLOSED->CONNECTING", "CONNECTING->OPEN", "connected ws://a:80",
		}
		if got := s.log.get(); !equal(got, want) {
			t.Errorf("events =\n%q\nwant\n%q", got, want)
		}
	})
}

// TestConnectionTimeout: a stalled handshake fails after ConnectionTimeout
// and counts as a failed attempt (the retries follow the schedule).
func TestConnectionTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://stall")
		s := newSetup(t, Config{Servers: ss, ConnectionTimeout: 3 * time.Second, MaxReconnectionAttempts: 1})
		s.net.Listen(ss[0].URI, nil).SetMode(dialertest.Stall)
		err := s.b.Connect(context.Background())
		if !errors.Is(err, ErrConnectionTimeout) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Connect = %v, want ErrConnectionTimeout wrapping DeadlineExceeded", err)
		}
		if got, want := s.rec.dials(), []string{"stall:80@0s", "stall:80@3s"}; !equal(got, want) {
			t.Fatalf("dials = %q, want %q", got, want)
		}
		if got := time.Since(s.rec.start); got != 6*time.Second {
			t.Errorf("Connect returned after %v, want 6s", got)
		}
	})
}

// TestDisconnectDuringConnect: Disconnect aborts a stalled attempt; the
// waiting Connect returns ErrDisconnected; nothing is dialed afterwards.
func TestDisconnectDuringConnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://stall")
		s := newSetup(t, Config{Servers: ss})
		s.net.Listen(ss[0].URI, nil).SetMode(dialertest.Stall)
		errc := make(chan error, 1)
		go func() { errc <- s.b.Connect(context.Background()) }()
		time.Sleep(time.Second)
		if err := s.b.Disconnect(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(s.rec.start); got != time.Second {
			t.Errorf("Disconnect returned at %v, want 1s", got)
		}
		if err := <-errc; !errors.Is(err, ErrDisconnected) {
			t.Errorf("Connect = %v, want ErrDisconnected", err)
		}
		if st := s.b.Status(); st != StatusClosed {
			t.Errorf("status = %v, want CLOSED", st)
		}
		time.Sleep(time.Minute)
		if got := len(s.rec.dials()); got != 1 {
			t.Errorf("%d dials, want 1", got)
		}
	})
}

// TestDisconnectDuringRetryWait cancels a pending reconnection timer.
func TestDisconnectDuringRetryWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSetup(t, Config{Servers: servers(t, "ws://dead")})
		go s.b.Connect(context.Background())
		time.Sleep(2 * time.Second) // between the 0 s and the 4 s attempts
		if err := s.b.Disconnect(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		if got := len(s.rec.dials()); got != 2 {
			t.Errorf("%d dials, want 2 (0 s, 0 s)", got)
		}
	})
}

// TestConnectAfterDisconnect works, and concurrent Connect calls share one
// attempt.
func TestConnectAfterDisconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a")
		s := newSetup(t, Config{Servers: ss})
		s.net.Listen(ss[0].URI, sipServer(false, nil))
		for round := range 3 {
			errs := make(chan error, 5)
			for range 5 {
				go func() { errs <- s.b.Connect(context.Background()) }()
			}
			for range 5 {
				if err := <-errs; err != nil {
					t.Fatalf("round %d: Connect = %v", round, err)
				}
			}
			if err := s.b.Disconnect(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(s.rec.dials()); got != 3 {
			t.Errorf("%d dials, want 3 (one per round)", got)
		}
		if got := len(s.net.Dials()); got != 3 {
			t.Errorf("network saw %d dials, want 3", got)
		}
	})
}

// TestDisconnectClosesWith1000 and reports Disconnected with a nil error,
// after CLOSING.
func TestDisconnectClosesWith1000(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a")
		s := newSetup(t, Config{Servers: ss})
		l := s.net.Listen(ss[0].URI, sipServer(false, nil))
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.b.DisconnectWith(context.Background(), 4000, "bye"); err != nil {
			t.Fatal(err)
		}
		code, reason := l.Conns()[0].ClientClose()
		if code != 4000 || reason != "bye" {
			t.Errorf("client closed with %d %q, want 4000 \"bye\"", code, reason)
		}
		got := s.log.get()
		want := []string{"OPEN->CLOSING", "CLOSING->CLOSED", "disconnected ws://a:80: <nil>"}
		if !equal(got[len(got)-3:], want) {
			t.Errorf("last events = %q, want %q", got[len(got)-3:], want)
		}
		if err := s.b.Send(context.Background(), []byte(options)); !errors.Is(err, ErrNotConnected) {
			t.Errorf("Send after Disconnect = %v, want ErrNotConnected", err)
		}
	})
}

// TestConnectContext: Connect returns ctx's error and the transport keeps
// trying in the background.
func TestConnectContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a")
		s := newSetup(t, Config{Servers: ss})
		l := s.net.Listen(ss[0].URI, sipServer(false, nil))
		l.SetMode(dialertest.Refuse)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := s.b.Connect(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Connect = %v, want DeadlineExceeded", err)
		}
		l.SetMode(dialertest.Accept)
		time.Sleep(4 * time.Second) // the 4 s retry
		if st := s.b.Status(); st != StatusOpen {
			t.Fatalf("status = %v, want OPEN after the background retry", st)
		}
	})
}

// TestRecoveryBackOffFactory: a user's schedule replaces the default, and
// backoff.Stop ends the transport's attempts.
func TestRecoveryBackOffFactory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		s := newSetup(t, Config{
			Servers:                 servers(t, "ws://dead"),
			MaxReconnectionAttempts: -1,
			NewRecoveryBackOff: func() backoff.BackOff {
				calls++
				return backoff.WithMaxRetries(backoff.NewConstantBackOff(7*time.Second), 2)
			},
		})
		if err := s.b.Connect(context.Background()); err == nil {
			t.Fatal("Connect succeeded with a dead server")
		}
		time.Sleep(time.Minute)
		want := []string{"dead:80@0s", "dead:80@7s", "dead:80@14s"}
		if got := s.rec.dials(); !equal(got, want) {
			t.Fatalf("dials = %q, want %q", got, want)
		}
		if calls != 1 {
			t.Errorf("factory called %d times, want 1", calls)
		}
		// Stopped: Connect starts again.
		if err := s.b.Connect(context.Background()); err == nil {
			t.Fatal("second Connect succeeded with a dead server")
		}
		if got := len(s.rec.dials()); got != 4 {
			t.Errorf("%d dials after a new Connect, want 4", got)
		}
	})
}

// TestRecoveryBounds: the recovery waits, random(0, 2^n) + 1 s, clamped to
// [RecoveryMinInterval, RecoveryMaxInterval].
func TestRecoveryBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		rnd  float64
		want []time.Duration
	}{
		{"random 0: clamped up to the minimum", 0, []time.Duration{2, 2, 2, 2, 2, 2}},
		{"random just under 1: doubles, clamped to the maximum", 0.999,
			[]time.Duration{2, 2, 4, 8, 16, 30, 30}},
		{"random 0.5", 0.5, []time.Duration{2, 2, 3, 5, 9, 17, 30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRecoveryBackOff(2*time.Second, 30*time.Second).(*recoveryBackOff)
			r.float64 = func() float64 { return tc.rnd }
			for i, w := range tc.want {
				if got := r.NextBackOff(); got != w*time.Second {
					t.Errorf("wait %d = %v, want %v", i, got, w*time.Second)
				}
			}
			r.Reset()
			if got := r.NextBackOff(); got != tc.want[0]*time.Second {
				t.Errorf("after Reset = %v, want %v", got, tc.want[0]*time.Second)
			}
		})
	}
	r := NewRecoveryBackOff(2*time.Second, 30*time.Second)
	for i := range 1000 {
		if d := r.NextBackOff(); d < 2*time.Second || d > 30*time.Second {
			t.Fatalf("wait %d = %v, outside [2s, 30s]", i, d)
		}
	}
}

// TestDialOptionsTLS: each dial gets a clone of the user's TLS config with
// the server's host name; the user's config is never modified.
func TestDialOptionsTLS(t *testing.T) {
	var got []dialer.Options
	d := dialFunc(func(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
		got = append(got, o)
		return nil, errors.New("no")
	})
	cfg := Config{Servers: servers(t, "wss://one.example#w2", "wss://two.example#w1"), MaxReconnectionAttempts: -1}
	cfg.Dial.TLSConfig = tlsConfigForTest()
	b, err := NewBase(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := b.Connect(ctx); err == nil {
		t.Fatal("Connect succeeded")
	}
	b.Disconnect(context.Background())
	if len(got) != 2 {
		t.Fatalf("%d dials, want 2", len(got))
	}
	for i, host := range []string{"one.example", "two.example"} {
		if got[i].TLSConfig == cfg.Dial.TLSConfig || got[i].TLSConfig.ServerName != host {
			t.Errorf("dial %d: ServerName %q (same pointer: %v), want a clone for %q",
				i, got[i].TLSConfig.ServerName, got[i].TLSConfig == cfg.Dial.TLSConfig, host)
		}
	}
	if cfg.Dial.TLSConfig.ServerName != "" {
		t.Errorf("user's TLS config modified: ServerName %q", cfg.Dial.TLSConfig.ServerName)
	}
}
