package transport

import (
	"context"
	"errors"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
)

// dialTimes records the virtual instant of every dial.
type dialTimes struct {
	d     dialer.Dialer
	start time.Time
	mu    sync.Mutex
	at    []time.Duration
	urls  []string
}

func (r *dialTimes) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	r.mu.Lock()
	r.at = append(r.at, time.Since(r.start))
	r.urls = append(r.urls, url)
	r.mu.Unlock()
	return r.d.Dial(ctx, url, o)
}

func (r *dialTimes) get() ([]time.Duration, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.at...), append([]string(nil), r.urls...)
}

// TestJitteredSchedule: with the default jitter (0.5), each wait between
// retries on one server is drawn in [2 s, 6 s), 4 s on average, and the
// first retry in [0, 500 ms).
func TestJitteredSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const attempts = 400
		dt := &dialTimes{start: time.Now()}
		s := newSetupWith(t, Config{Servers: servers(t, "ws://dead"), MaxReconnectionAttempts: attempts,
			ReconnectionJitter: DefaultReconnectionJitter}, func(d dialer.Dialer) dialer.Dialer { dt.d = d; return dt })
		s.b.Connect(context.Background())
		at, _ := dt.get()
		if len(at) != attempts+1 {
			t.Fatalf("%d dials, want %d", len(at), attempts+1)
		}
		if at[0] != 0 {
			t.Errorf("the first dial at %v, want at once", at[0])
		}
		if w := at[1] - at[0]; w < 0 || w >= 500*time.Millisecond {
			t.Errorf("first retry after %v, want in [0, 500ms)", w)
		}
		var sum time.Duration
		for i := 2; i < len(at); i++ {
			w := at[i] - at[i-1]
			if w < 2*time.Second || w >= 6*time.Second {
				t.Fatalf("wait %d = %v, want in [2s, 6s)", i, w)
			}
			sum += w
		}
		// 399 uniform draws over 4 s: the mean's standard deviation is
		// 58 ms, so 200 ms is more than three of them.
		if mean := sum / time.Duration(len(at)-2); mean < 3800*time.Millisecond || mean > 4200*time.Millisecond {
			t.Errorf("mean wait %v, want 4s ± 200ms: the mean schedule is SIP.js's", mean)
		}
	})
}

// TestJitterSpreadsFirstRetries: the first retry after an OPEN connection
// drops, and the first dial of the next server after a failover, wait a
// draw in [0, 500 ms) with the defaults, so a fleet does not come back in
// one instant.
func TestJitterSpreadsFirstRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 200
		var drops, failovers []time.Duration
		for range n {
			dt := &dialTimes{start: time.Now()}
			ss := servers(t, "ws://a#w2", "ws://b#w1")
			s := newSetupWith(t, Config{Servers: ss, MaxReconnectionAttempts: 1, ReconnectionJitter: DefaultReconnectionJitter},
				func(d dialer.Dialer) dialer.Dialer { dt.d = d; return dt })
			l := s.net.Listen(ss[0].URI, func(c *dialertest.ServerConn) { <-c.ClientClosed() })
			s.net.Listen(ss[1].URI, func(c *dialertest.ServerConn) { <-c.ClientClosed() })
			if err := s.b.Connect(context.Background()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			l.SetMode(dialertest.Refuse)
			l.DropAll()
			time.Sleep(2 * time.Second)
			at, urls := dt.get()
			if len(at) != 3 || !strings.Contains(urls[2], "b:80") {
				t.Fatalf("dials %v to %q, want a, a, b", at, urls)
			}
			drops = append(drops, at[1]-time.Second)
			failovers = append(failovers, at[2]-at[1])
			s.b.Disconnect(context.Background())
		}
		for name, waits := range map[string][]time.Duration{"retry after a drop": drops, "dial after a failover": failovers} {
			lo, hi := waits[0], waits[0]
			for _, w := range waits {
				lo, hi = min(lo, w), max(hi, w)
			}
			if lo < 0 || hi >= 500*time.Millisecond || hi-lo < 300*time.Millisecond {
				t.Errorf("%s: waits in [%v, %v], want spread over [0, 500ms)", name, lo, hi)
			}
		}
	})
}

// TestSIPjsExactSchedule: a negative jitter restores SIP.js's schedule
// exactly: 0, 0, 4, 8 s.
func TestSIPjsExactSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dt := &dialTimes{start: time.Now()}
		s := newSetupWith(t, Config{Servers: servers(t, "ws://dead"), ReconnectionJitter: -1},
			func(d dialer.Dialer) dialer.Dialer { dt.d = d; return dt })
		s.b.Connect(context.Background())
		at, _ := dt.get()
		want := []time.Duration{0, 0, 4 * time.Second, 8 * time.Second}
		if len(at) != len(want) {
			t.Fatalf("dials at %v, want %v", at, want)
		}
		for i := range want {
			if at[i] != want[i] {
				t.Errorf("dials at %v, want %v", at, want)
				break
			}
		}
	})
}

// TestHoldDownExpires: a server marked in error is available again after
// ServerHoldDown, even while another server is up: when the backup drops,
// the transport goes back to the primary at once, with no recovery wait.
// Without expiry (a negative hold-down, SIP.js) the primary is still
// marked, every server is then marked, and recovery waits.
func TestHoldDownExpires(t *testing.T) {
	for _, tc := range []struct {
		holdDown   time.Duration
		recoveries uint64
	}{{30 * time.Second, 0}, {-1, 1}} {
		synctest.Test(t, func(t *testing.T) {
			ss := servers(t, "ws://a#w10", "ws://b#w1")
			s := newSetup(t, Config{Servers: ss, MaxReconnectionAttempts: -1, ServerHoldDown: tc.holdDown})
			a := s.net.Listen(ss[0].URI, func(c *dialertest.ServerConn) { <-c.ClientClosed() })
			b := s.net.Listen(ss[1].URI, func(c *dialertest.ServerConn) { <-c.ClientClosed() })
			a.SetMode(dialertest.Refuse)
			if err := s.b.Connect(context.Background()); err != nil {
				t.Fatal(err)
			}
			a.SetMode(dialertest.Accept) // healthy again; the mark stays
			time.Sleep(40 * time.Second)
			b.SetMode(dialertest.Refuse)
			b.DropAll()
			time.Sleep(10 * time.Second)
			srv, ok := s.b.Server()
			if !ok || srv.URI != ss[0].URI {
				t.Fatalf("hold-down %v: on %v (open %v), want back on %s", tc.holdDown, srv, ok, ss[0].URI)
			}
			if st := s.b.Stats(); st.Recoveries != tc.recoveries {
				t.Errorf("hold-down %v: %d recovery waits, want %d", tc.holdDown, st.Recoveries, tc.recoveries)
			}
		})
	}
}

// failbackSetup is a transport on b (weight 1) after a (weight 10)
// refused the first dial and was marked in error for an hour; failback
// probes it every 10 s all the same. got receives every non-keepalive message either
// server gets.
func failbackSetup(t *testing.T, cfg Config) (s *setup, dt *dialTimes, a, b *dialertest.Listener, ss selector.Servers, got chan string) {
	t.Helper()
	dt = &dialTimes{start: time.Now()}
	ss = servers(t, "ws://a#w10", "ws://b#w1")
	cfg.Servers, cfg.MaxReconnectionAttempts, cfg.ServerHoldDown = ss, -1, time.Hour
	if cfg.FailbackInterval == 0 {
		cfg.FailbackInterval = 10 * time.Second
	}
	s = newSetupWith(t, cfg, func(d dialer.Dialer) dialer.Dialer { dt.d = d; return dt })
	got = make(chan string, 100)
	a = s.net.Listen(ss[0].URI, sipServer(false, got))
	b = s.net.Listen(ss[1].URI, sipServer(false, got))
	a.SetMode(dialertest.Refuse)
	if err := s.b.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	if srv, _ := s.b.Server(); srv.URI != ss[1].URI {
		t.Fatalf("on %v, want the backup", srv)
	}
	return s, dt, a, b, ss, got
}

// probesTo returns the instants of the dials to url.
func probesTo(dt *dialTimes, url string) []time.Duration {
	at, urls := dt.get()
	var out []time.Duration
	for i := range at {
		if urls[i] == url {
			out = append(out, at[i])
		}
	}
	return out
}

// TestFailbackCadenceAndOrder: on the backup, the primary is probed every
// FailbackInterval; when it answers, the transport moves there without
// leaving OPEN: Disconnected(backup, ErrFailback), then Connected(primary),
// the backup closed with 1001 "failback". On the best server nothing is
// probed.
func TestFailbackCadenceAndOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, dt, a, b, ss, _ := failbackSetup(t, Config{})
		time.Sleep(35 * time.Second)
		// The first dial of a at 0 s refused; probes at 10, 20, 30 s.
		want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 30 * time.Second}
		if got := probesTo(dt, ss[0].URI); !equalDurations(got, want) {
			t.Fatalf("dials of the primary at %v, want %v", got, want)
		}
		a.SetMode(dialertest.Accept)
		time.Sleep(10 * time.Second) // the probe at 40 s answers
		synctest.Wait()
		srv, ok := s.b.Server()
		if !ok || srv.URI != ss[0].URI || s.b.Status() != StatusOpen {
			t.Fatalf("on %v (%v), status %v: want OPEN on the primary", srv, ok, s.b.Status())
		}
		var events []string
		for _, e := range s.log.get() {
			if strings.HasPrefix(e, "connected") || strings.HasPrefix(e, "disconnected") || strings.Contains(e, "->") {
				events = append(events, e)
			}
		}
		wantEvents := []string{"CLOSED->CONNECTING", "CONNECTING->CLOSED", "CLOSED->CONNECTING", "CONNECTING->OPEN",
			"connected ws://b:80", "disconnected ws://b:80: " + ErrFailback.Error(), "connected ws://a:80"}
		if !equal(events, wantEvents) {
			t.Errorf("events %q,\nwant %q", events, wantEvents)
		}
		if code, reason := b.Conns()[0].ClientClose(); code != dialer.CloseGoingAway || reason != "failback" {
			t.Errorf("the backup was closed with %d %q, want 1001 \"failback\"", code, reason)
		}
		if st := s.b.Stats(); st.Failbacks != 1 || st.FailbackProbes != 4 {
			t.Errorf("failbacks %d, probes %d; want 1 and 4", st.Failbacks, st.FailbackProbes)
		}
		n := len(probesTo(dt, ss[0].URI)) + len(probesTo(dt, ss[1].URI))
		time.Sleep(time.Minute)
		if m := len(probesTo(dt, ss[0].URI)) + len(probesTo(dt, ss[1].URI)); m != n {
			t.Errorf("%d dials on the best server, want none: nothing better to probe", m-n)
		}
	})
}

// TestFailbackMessagesDuringMove: what the backup sent before it was
// closed is delivered, and Sends around the move go out on one of the two
// connections.
func TestFailbackMessagesDuringMove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _, a, b, ss, got := failbackSetup(t, Config{})
		a.SetMode(dialertest.Accept)
		time.Sleep(9 * time.Second)
		backup := b.Conns()[0]
		for i := range 5 {
			backup.WriteMessage([]byte(response(200, "before-"+string(rune('0'+i)), "SIP/2.0/WS x.invalid;branch=z9hG4bK1")))
		}
		sent, failed := 0, 0
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { // Sends all through the move
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := s.b.Send(context.Background(), []byte(strings.Replace(options, "OPTIONS ", "MESSAGE ", 1))); err != nil {
					failed++
				} else {
					sent++
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		time.Sleep(2 * time.Second) // the probe at 10 s moves to a
		close(stop)
		<-done
		synctest.Wait()
		if srv, _ := s.b.Server(); srv.URI != ss[0].URI {
			t.Fatalf("on %v, want the primary", srv)
		}
		if n := len(s.log.messages()); n != 5 {
			t.Errorf("%d of the backup's 5 messages delivered", n)
		}
		received := 0
		for len(got) > 0 {
			<-got
			received++
		}
		if received != sent || sent == 0 {
			t.Errorf("%d Sends returned nil (%d failed), the servers got %d: each must go out on one of the two", sent, failed, received)
		}
	})
}

// TestFailbackDisconnectDuringProbe: Disconnect while a probe's handshake
// hangs aborts it and ends everything.
func TestFailbackDisconnectDuringProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, dt, a, _, ss, _ := failbackSetup(t, Config{})
		a.SetMode(dialertest.Stall)
		time.Sleep(12 * time.Second) // the probe at 10 s stalls
		start := time.Now()
		if err := s.b.Disconnect(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Disconnect took %v with a probe in progress, want at once", d)
		}
		n := len(probesTo(dt, ss[0].URI))
		time.Sleep(time.Minute)
		if m := len(probesTo(dt, ss[0].URI)); m != n {
			t.Errorf("%d probes after Disconnect", m-n)
		}
		if st := s.b.Status(); st != StatusClosed {
			t.Errorf("status %v, want CLOSED", st)
		}
	})
}

// TestFailbackDisconnectDuringMove: Disconnect between the move and the
// hand-off (here from the Disconnected that reports the failback) closes
// the new connection too, which is never reported Connected.
func TestFailbackDisconnectDuringMove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _, a, _, _, _ := failbackSetup(t, Config{})
		ev := s.log.events()
		log := ev.Disconnected
		ev.Disconnected = func(srv selector.Server, err error) {
			log(srv, err)
			if errors.Is(err, ErrFailback) {
				s.b.Disconnect(context.Background())
			}
		}
		s.b.SetEvents(ev)
		a.SetMode(dialertest.Accept)
		time.Sleep(11 * time.Second)
		synctest.Wait()
		if st := s.b.Status(); st != StatusClosed {
			t.Errorf("status %v, want CLOSED", st)
		}
		for _, e := range s.log.get() {
			if e == "connected ws://a:80" {
				t.Errorf("the new connection was reported Connected after Disconnect")
			}
		}
		if code, _ := a.Conns()[0].ClientClose(); code != dialer.CloseNormalClosure {
			t.Errorf("the new connection closed with %d, want Disconnect's 1000", code)
		}
	})
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHistograms: keepalive round trips and dial durations land in their
// buckets, lock-free; taking a snapshot allocates nothing.
func TestHistograms(t *testing.T) {
	var h histogram
	for _, d := range []time.Duration{0, time.Millisecond, time.Millisecond + 1, 3 * time.Millisecond, 11 * time.Second} {
		h.observe(d)
	}
	got := h.snapshot()
	if got.Counts[0] != 2 || got.Counts[1] != 1 || got.Counts[2] != 1 || got.Counts[NumBuckets-1] != 1 || got.Count != 5 {
		t.Errorf("counts %v, count %d", got.Counts, got.Count)
	}
	if want := 2*time.Millisecond + 1 + 3*time.Millisecond + 11*time.Second; got.Sum != want {
		t.Errorf("sum %v, want %v", got.Sum, want)
	}
	var merged Histogram
	merged.Merge(got)
	merged.Merge(got)
	if merged.Count != 10 || merged.Counts[0] != 4 {
		t.Errorf("merged %+v", merged)
	}
	b := &Base{}
	if n := testing.AllocsPerRun(100, func() { _ = b.Stats() }); n != 0 {
		t.Errorf("Stats allocates %v times", n)
	}
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a")
		s := newSetup(t, Config{Servers: ss, KeepAliveInterval: 5 * time.Second})
		s.net.Listen(ss[0].URI, sipServer(false, nil)).SetHandshakeDelay(30 * time.Millisecond)
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(11 * time.Second)
		st := s.b.Stats()
		if st.ConnectTime.Count != 1 || st.ConnectTime.Counts[5] != 1 || st.ConnectTime.Sum != 30*time.Millisecond {
			t.Errorf("ConnectTime %+v, want one 30 ms dial in the 25–50 ms bucket", st.ConnectTime)
		}
		if st.KeepaliveRTT.Count != 2 || st.KeepaliveRTT.Counts[0] != 2 {
			t.Errorf("KeepaliveRTT %+v, want two instant round trips", st.KeepaliveRTT)
		}
	})
}

// TestKeepaliveClockFleetLeavesNoGoroutine: 10,000 transports on one
// network, all on the shared keepalive clock with a pong timeout, ping and
// get their pongs for three periods; then Disconnect of each ends every
// goroutine the transports started, and the clock keeps none of its own
// (issue 16). goleak in TestMain checks the same after the bubble.
func TestKeepaliveClockFleetLeavesNoGoroutine(t *testing.T) {
	const n = 10_000
	synctest.Test(t, func(t *testing.T) {
		netw := dialertest.NewNetwork(t)
		ss := servers(t, "ws://edge.test")
		netw.Listen(ss[0].URI, sipServer(false, nil))
		cfg := Config{
			Servers:              ss,
			KeepAliveInterval:    30 * time.Second,
			KeepAlivePongTimeout: 10 * time.Second,
		}
		fleet := make([]*Base, n)
		for i := range fleet {
			b, err := NewBase(cfg, netw)
			if err != nil {
				t.Fatal(err)
			}
			fleet[i] = b
			if err := b.Connect(context.Background()); err != nil {
				t.Fatalf("transport %d: Connect: %v", i, err)
			}
		}
		time.Sleep(3*cfg.KeepAliveInterval + time.Second) // virtual: three periods
		synctest.Wait()
		var pongs uint64
		for i, b := range fleet {
			st := b.Stats()
			if st.KeepalivesIn < 3 || st.PongTimeouts != 0 || st.Dials != 1 {
				t.Fatalf("transport %d: %d pongs, %d pong timeouts, %d dials; want 3 or more, 0, 1", i, st.KeepalivesIn, st.PongTimeouts, st.Dials)
			}
			pongs += st.KeepalivesIn
		}
		if during := ownGoroutines(); during > 2*n {
			t.Errorf("%d goroutines for %d OPEN transports and their server handlers, want at most 2 each", during, n)
		}
		for _, b := range fleet {
			if err := b.Disconnect(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		if left := ownGoroutines(); left != 0 {
			var stacks strings.Builder
			pprof.Lookup("goroutine").WriteTo(&stacks, 1)
			t.Errorf("%d goroutines left after Disconnect of %d transports (%d pongs), want 0:\n%s", left, n, pongs, stacks.String())
		}
	})
}

// limitPeak records how many dials of the transports sharing it run at
// once, under a dialer.Limit.
type limitPeak struct {
	d         dialer.Dialer
	now, peak atomic.Int32
}

func (c *limitPeak) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	n := c.now.Add(1)
	defer c.now.Add(-1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	return c.d.Dial(ctx, url, o)
}

// TestLimitSharedByTransports: 20 transports share one dialer.Limit of 4
// over a server whose handshakes take 1 s. At most 4 handshakes run at
// once across all of them (issue 14: a process-wide bound); a transport
// whose turn has not come within its ConnectionTimeout (2.5 s) fails that
// attempt, as if the server were slow, and retries; every transport ends
// OPEN.
func TestLimitSharedByTransports(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		netw := dialertest.NewNetwork(t)
		ss := servers(t, "ws://edge.test")
		l := netw.Listen(ss[0].URI, sipServer(false, nil))
		l.SetHandshakeDelay(time.Second)
		counted := &limitPeak{d: netw}
		shared := dialer.Limit(counted, 4)
		cfg := Config{Servers: ss, ConnectionTimeout: 2500 * time.Millisecond, MaxReconnectionAttempts: 10,
			ReconnectionTimeout: time.Second}
		fleet := make([]*Base, 20)
		for i := range fleet {
			b, err := NewBase(cfg, shared)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Disconnect(context.Background())
			fleet[i] = b
		}
		errs := make(chan error, len(fleet))
		for _, b := range fleet {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				errs <- b.Connect(ctx)
			}()
		}
		for range fleet {
			if err := <-errs; err != nil {
				t.Fatalf("Connect: %v", err)
			}
		}
		if p := counted.peak.Load(); p > 4 {
			t.Errorf("%d handshakes at once through a Limit of 4", p)
		}
		var timedOut uint64
		for _, b := range fleet {
			if st := b.Stats(); st.Dials > 1 {
				timedOut += st.Dials - 1
			}
		}
		// 20 handshakes of 1 s, 4 at a time, and a 2.5 s timeout: the
		// third wave and later time out waiting, and retry.
		if timedOut == 0 {
			t.Errorf("no attempt failed: 20 handshakes of 1 s, 4 at a time, cannot all start within a 2.5 s ConnectionTimeout")
		}
	})
}

// ownGoroutines counts the goroutines running this module's code, other
// than the tests' own: the transports', the keepalive timers' and the
// in-memory servers'. runtime.NumGoroutine would also count, for a moment,
// the runtime's finalizer goroutine while it runs a finalizer.
func ownGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/sipws/sipws/") && !strings.Contains(g, "github.com/sipws/sipws/transport.Test") {
			count++
		}
	}
	return count
}
