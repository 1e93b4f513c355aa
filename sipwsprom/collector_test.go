package sipwsprom_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/sipwsprom"
	"github.com/sipws/sipws/transport"
)

const (
	edge1 = "ws://edge1.test:80"
	edge2 = "ws://edge2.test:80"
)

// Three real transports over an in-memory network, in virtual time: every
// counter, gauge and histogram sample is what they did.
func TestCollectExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := dialertest.NewNetwork(t)
		n.Listen(edge1, registrar).SetHandshakeDelay(30 * time.Millisecond)
		n.Listen(edge2, registrar)
		ctx := context.Background()

		alice := newTransport(t, n, transport.Config{KeepAliveInterval: 30 * time.Second}, edge1)
		bob := newTransport(t, n, transport.Config{}, edge2)
		carol := newTransport(t, n, transport.Config{}, edge2+";5", edge1+";1") // never connected

		c := sipwsprom.New(sipwsprom.Options{})
		c.Add(alice, "ws")
		c.Add(bob, "gobwas")
		c.Add(carol, "ws")

		for _, tr := range []*transport.Base{alice, bob} {
			if err := tr.Connect(ctx); err != nil {
				t.Fatal(err)
			}
		}
		req1, ok1 := register("alice", 1)
		req2, ok2 := register("alice", 2)
		for _, req := range [][]byte{req1, req2} {
			if err := alice.Send(ctx, req); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(30 * time.Second) // one keepalive period: one ping, one pong
		synctest.Wait()

		want := fmt.Sprintf(`
# HELP sipws_messages_sent_total SIP messages written.
# TYPE sipws_messages_sent_total counter
sipws_messages_sent_total{backend="gobwas",server="ws://edge2.test:80"} 0
sipws_messages_sent_total{backend="ws",server="ws://edge1.test:80"} 2
sipws_messages_sent_total{backend="ws",server="ws://edge2.test:80"} 0
# HELP sipws_sent_bytes_total Bytes of the SIP messages written.
# TYPE sipws_sent_bytes_total counter
sipws_sent_bytes_total{backend="gobwas",server="ws://edge2.test:80"} 0
sipws_sent_bytes_total{backend="ws",server="ws://edge1.test:80"} %d
sipws_sent_bytes_total{backend="ws",server="ws://edge2.test:80"} 0
# HELP sipws_received_bytes_total Bytes of the messages received.
# TYPE sipws_received_bytes_total counter
sipws_received_bytes_total{backend="gobwas",server="ws://edge2.test:80"} 0
sipws_received_bytes_total{backend="ws",server="ws://edge1.test:80"} %d
sipws_received_bytes_total{backend="ws",server="ws://edge2.test:80"} 0
# HELP sipws_dials_total Connection attempts.
# TYPE sipws_dials_total counter
sipws_dials_total{backend="gobwas",server="ws://edge2.test:80"} 1
sipws_dials_total{backend="ws",server="ws://edge1.test:80"} 1
sipws_dials_total{backend="ws",server="ws://edge2.test:80"} 0
# HELP sipws_keepalives_sent_total Keepalive pings and pongs sent.
# TYPE sipws_keepalives_sent_total counter
sipws_keepalives_sent_total{backend="gobwas",server="ws://edge2.test:80"} 0
sipws_keepalives_sent_total{backend="ws",server="ws://edge1.test:80"} 1
sipws_keepalives_sent_total{backend="ws",server="ws://edge2.test:80"} 0
# HELP sipws_transports Transports in the collector, per status.
# TYPE sipws_transports gauge
sipws_transports{backend="gobwas",server="ws://edge2.test:80",status="CLOSED"} 0
sipws_transports{backend="gobwas",server="ws://edge2.test:80",status="CLOSING"} 0
sipws_transports{backend="gobwas",server="ws://edge2.test:80",status="CONNECTING"} 0
sipws_transports{backend="gobwas",server="ws://edge2.test:80",status="OPEN"} 1
sipws_transports{backend="ws",server="ws://edge1.test:80",status="CLOSED"} 0
sipws_transports{backend="ws",server="ws://edge1.test:80",status="CLOSING"} 0
sipws_transports{backend="ws",server="ws://edge1.test:80",status="CONNECTING"} 0
sipws_transports{backend="ws",server="ws://edge1.test:80",status="OPEN"} 1
sipws_transports{backend="ws",server="ws://edge2.test:80",status="CLOSED"} 1
sipws_transports{backend="ws",server="ws://edge2.test:80",status="CLOSING"} 0
sipws_transports{backend="ws",server="ws://edge2.test:80",status="CONNECTING"} 0
sipws_transports{backend="ws",server="ws://edge2.test:80",status="OPEN"} 0
`, len(req1)+len(req2), len(ok1)+len(ok2))
		if err := testutil.CollectAndCompare(c, strings.NewReader(want),
			"sipws_messages_sent_total", "sipws_sent_bytes_total", "sipws_received_bytes_total",
			"sipws_dials_total", "sipws_keepalives_sent_total", "sipws_transports"); err != nil {
			t.Error(err)
		}

		got := scrape(t, c)
		a := `{backend=ws,server=ws://edge1.test:80`
		b := `{backend=gobwas,server=ws://edge2.test:80`
		for k, v := range map[string]float64{
			"sipws_messages_received_total" + a + "}":   2,
			"sipws_keepalives_received_total" + a + "}": 1,
			"sipws_connects_total" + a + "}":            1,
			"sipws_connects_total" + b + "}":            1,
			// alice's handshake took 30 ms: above 25 ms, within 50 ms.
			"sipws_connect_duration_seconds_count" + a + "}":           1,
			"sipws_connect_duration_seconds_sum" + a + "}":             0.03,
			"sipws_connect_duration_seconds_bucket" + a + ",le=0.025}": 0,
			"sipws_connect_duration_seconds_bucket" + a + ",le=0.05}":  1,
			"sipws_connect_duration_seconds_bucket" + a + ",le=10}":    1,
			// bob's took no time; its pong came back at once.
			"sipws_connect_duration_seconds_bucket" + b + ",le=0.001}": 1,
			"sipws_keepalive_rtt_seconds_count" + a + "}":              1,
			"sipws_keepalive_rtt_seconds_sum" + a + "}":                0,
			"sipws_keepalive_rtt_seconds_bucket" + a + ",le=0.001}":    1,
			"sipws_keepalive_rtt_seconds_count" + b + "}":              0,
		} {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		if n := testutil.CollectAndCount(c); n != 3*(15+4+2) {
			t.Errorf("CollectAndCount = %d, want %d: 21 metrics for each of 3 label sets", n, 3*21)
		}
	})
}

// Each counter is the Stats field of its name, summed over the transports
// of a label set.
func TestCountersMapStats(t *testing.T) {
	fields := []struct {
		metric string
		set    func(s *transport.Stats, v uint64)
	}{
		{"sipws_messages_received_total", func(s *transport.Stats, v uint64) { s.MessagesIn = v }},
		{"sipws_messages_sent_total", func(s *transport.Stats, v uint64) { s.MessagesOut = v }},
		{"sipws_received_bytes_total", func(s *transport.Stats, v uint64) { s.BytesIn = v }},
		{"sipws_sent_bytes_total", func(s *transport.Stats, v uint64) { s.BytesOut = v }},
		{"sipws_messages_dropped_total", func(s *transport.Stats, v uint64) { s.Dropped = v }},
		{"sipws_keepalives_received_total", func(s *transport.Stats, v uint64) { s.KeepalivesIn = v }},
		{"sipws_keepalives_sent_total", func(s *transport.Stats, v uint64) { s.KeepalivesOut = v }},
		{"sipws_pong_timeouts_total", func(s *transport.Stats, v uint64) { s.PongTimeouts = v }},
		{"sipws_dials_total", func(s *transport.Stats, v uint64) { s.Dials = v }},
		{"sipws_connects_total", func(s *transport.Stats, v uint64) { s.Connects = v }},
		{"sipws_reconnects_total", func(s *transport.Stats, v uint64) { s.Reconnects = v }},
		{"sipws_failovers_total", func(s *transport.Stats, v uint64) { s.Failovers = v }},
		{"sipws_recoveries_total", func(s *transport.Stats, v uint64) { s.Recoveries = v }},
		{"sipws_failback_probes_total", func(s *transport.Stats, v uint64) { s.FailbackProbes = v }},
		{"sipws_failbacks_total", func(s *transport.Stats, v uint64) { s.Failbacks = v }},
	}
	c := sipwsprom.New(sipwsprom.Options{})
	var f1, f2 fake
	f1.open(edge1)
	f2.open(edge1)
	c.Add(&f1, "ws")
	c.Add(&f2, "ws")
	for i, f := range fields {
		f1.update(func(s *transport.Stats) { f.set(s, uint64(i+1)) })
		f2.update(func(s *transport.Stats) { f.set(s, uint64(100*(i+1))) })
	}
	got := scrape(t, c)
	for i, f := range fields {
		k := f.metric + "{backend=ws,server=ws://edge1.test:80}"
		if want := float64(101 * (i + 1)); got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if n := testutil.CollectAndCount(c); n != 21 {
		t.Errorf("CollectAndCount = %d, want 21 (15 counters, 4 status gauges, 2 histograms)", n)
	}
}

// Removing a transport keeps what it counted in its series, up to the
// moment of Remove; the series stays, its gauges go down.
func TestRemoveKeepsCounters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := dialertest.NewNetwork(t)
		n.Listen(edge1, registrar)
		ctx := context.Background()
		c := sipwsprom.New(sipwsprom.Options{})
		alice := newTransport(t, n, transport.Config{}, edge1)
		bob := newTransport(t, n, transport.Config{}, edge1)
		for _, tr := range []*transport.Base{alice, bob} {
			c.Add(tr, "ws")
			if err := tr.Connect(ctx); err != nil {
				t.Fatal(err)
			}
		}
		send := func(tr *transport.Base, user string, cseq int) {
			req, _ := register(user, cseq)
			if err := tr.Send(ctx, req); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
		}
		const set = "{backend=ws,server=ws://edge1.test:80}"
		const open = "sipws_transports{backend=ws,server=ws://edge1.test:80,status=OPEN}"
		send(alice, "alice", 1)
		send(bob, "bob", 1)
		if got := scrape(t, c); got["sipws_messages_sent_total"+set] != 2 || got[open] != 2 {
			t.Fatalf("before Remove: sent %v, open %v; want 2, 2", got["sipws_messages_sent_total"+set], got[open])
		}

		send(alice, "alice", 2) // after the last scrape: Remove must count it
		if !c.Remove(alice) {
			t.Fatal("Remove(alice) = false, want true")
		}
		if c.Remove(alice) {
			t.Error("second Remove(alice) = true, want false")
		}
		send(alice, "alice", 3) // after Remove: not counted
		got := scrape(t, c)
		if v := got["sipws_messages_sent_total"+set]; v != 3 {
			t.Errorf("after Remove: sent = %v, want 3 (alice's 2 kept, bob's 1)", v)
		}
		if v := got["sipws_messages_received_total"+set]; v != 3 {
			t.Errorf("after Remove: received = %v, want 3", v)
		}
		if got[open] != 1 {
			t.Errorf("after Remove: open = %v, want 1", got[open])
		}

		c.Remove(bob)
		got = scrape(t, c)
		if v := got["sipws_messages_sent_total"+set]; v != 3 {
			t.Errorf("all removed: sent = %v, want 3", v)
		}
		if got[open] != 0 {
			t.Errorf("all removed: open = %v, want 0", got[open])
		}
		if c.Len() != 0 {
			t.Errorf("Len = %d, want 0", c.Len())
		}
		if n := testutil.CollectAndCount(c); n != 21 {
			t.Errorf("CollectAndCount = %d, want 21: the label set outlives its transports", n)
		}

		// Added again: counted from now on, not twice.
		c.Add(alice, "ws")
		send(alice, "alice", 4)
		if v := scrape(t, c)["sipws_messages_sent_total"+set]; v != 4 {
			t.Errorf("re-added: sent = %v, want 4", v)
		}
	})
}

// A transport that fails over moves to the label set of its new server; the
// old server's counters keep what was counted there.
func TestServerLabelFollowsFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := dialertest.NewNetwork(t)
		primary := n.Listen(edge1, registrar)
		secondary := n.Listen(edge2, registrar)
		ctx := context.Background()
		c := sipwsprom.New(sipwsprom.Options{})
		tr := newTransport(t, n, transport.Config{MaxReconnectionAttempts: -1}, edge1+";10", edge2+";1")
		c.Add(tr, "ws")

		got := scrape(t, c)
		if v := got["sipws_transports{backend=ws,server=ws://edge1.test:80,status=CLOSED}"]; v != 1 {
			t.Errorf("before Connect: CLOSED on its first server = %v, want 1", v)
		}
		if err := tr.Connect(ctx); err != nil {
			t.Fatal(err)
		}
		req, _ := register("alice", 1)
		tr.Send(ctx, req)
		synctest.Wait()
		scrape(t, c)

		primary.SetMode(dialertest.Refuse)
		primary.DropAll()
		time.Sleep(time.Second)
		synctest.Wait()
		if s, _ := tr.Server(); s.URI != edge2 {
			t.Fatalf("transport on %q, want %q", s.URI, edge2)
		}
		req, _ = register("alice", 2)
		tr.Send(ctx, req)
		synctest.Wait()

		got = scrape(t, c)
		for k, v := range map[string]float64{
			"sipws_messages_sent_total{backend=ws,server=ws://edge1.test:80}":            1,
			"sipws_messages_sent_total{backend=ws,server=ws://edge2.test:80}":            1,
			"sipws_transports{backend=ws,server=ws://edge1.test:80,status=OPEN}":         0,
			"sipws_transports{backend=ws,server=ws://edge2.test:80,status=OPEN}":         1,
			"sipws_connects_total{backend=ws,server=ws://edge1.test:80}":                 1,
			"sipws_connects_total{backend=ws,server=ws://edge2.test:80}":                 1,
			"sipws_failovers_total{backend=ws,server=ws://edge2.test:80}":                1,
			"sipws_connect_duration_seconds_count{backend=ws,server=ws://edge2.test:80}": 1,
		} {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}

		// Dropped again, and nowhere to go: not OPEN, it stays in the label
		// set of the server it was last seen on.
		secondary.SetMode(dialertest.Refuse)
		secondary.DropAll()
		synctest.Wait()
		if tr.Status() == transport.StatusOpen {
			t.Fatal("transport still OPEN after its server went away")
		}
		got = scrape(t, c)
		var onEdge2 float64
		for _, st := range []string{"CLOSED", "CONNECTING", "OPEN", "CLOSING"} {
			onEdge2 += got["sipws_transports{backend=ws,server=ws://edge2.test:80,status="+st+"}"]
			if v := got["sipws_transports{backend=ws,server=ws://edge1.test:80,status="+st+"}"]; v != 0 {
				t.Errorf("edge1 %s = %v, want 0", st, v)
			}
		}
		if onEdge2 != 1 {
			t.Errorf("transports on edge2, all statuses = %v, want 1", onEdge2)
		}
	})
}

// The only labels are backend, server and status; the server label has no
// query; a program that passes a user name as the backend still gets at most
// MaxLabelSets+1 label sets.
func TestLabelsBounded(t *testing.T) {
	c := sipwsprom.New(sipwsprom.Options{MaxLabelSets: 2})
	for i := range 10 {
		f := new(fake)
		f.open(fmt.Sprintf("wss://edge.test:443/ws?user=user%d&token=secret", i))
		c.Add(f, fmt.Sprintf("user%d", i))
		f.update(func(s *transport.Stats) { s.MessagesOut = 1 })
	}
	bad := new(fake)
	c.Add(bad, "\xff\xfe") // not UTF-8: must not make Collect panic
	got := scrape(t, c)
	c2 := sipwsprom.New(sipwsprom.Options{})
	c2.Add(bad, "\xff\xfe")
	if v := scrape(t, c2)["sipws_transports{backend=\uFFFD,server=,status=CLOSED}"]; v != 1 {
		t.Errorf("backend not UTF-8: CLOSED = %v, want 1 under the backend with replacement characters", v)
	}

	allowed := map[string]bool{"backend": true, "server": true, "status": true, "le": true}
	for k := range got {
		_, labels, _ := strings.Cut(strings.TrimSuffix(k, "}"), "{")
		for _, l := range strings.Split(labels, ",") {
			name, value, _ := strings.Cut(l, "=")
			if !allowed[name] {
				t.Errorf("%s: label %q", k, name)
			}
			if strings.Contains(value, "token") || strings.Contains(value, "?") {
				t.Errorf("%s: server label keeps the query", k)
			}
		}
	}
	for k, v := range map[string]float64{
		"sipws_messages_sent_total{backend=user0,server=wss://edge.test:443/ws}":       1,
		"sipws_messages_sent_total{backend=user1,server=wss://edge.test:443/ws}":       1,
		"sipws_messages_sent_total{backend=_overflow,server=_overflow}":                8,
		"sipws_transports{backend=_overflow,server=_overflow,status=OPEN}":             8,
		"sipws_transports{backend=_overflow,server=_overflow,status=CLOSED}":           1,
		"sipws_transports{backend=user1,server=wss://edge.test:443/ws,status=CLOSING}": 0,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if n, want := testutil.CollectAndCount(c), 3*21; n != want {
		t.Errorf("CollectAndCount = %d, want %d: 2 label sets and the overflow one", n, want)
	}
}

// The metrics pass promlint: names, units, suffixes, help.
func TestLint(t *testing.T) {
	c := sipwsprom.New(sipwsprom.Options{})
	f := new(fake)
	f.open(edge1)
	c.Add(f, "ws")
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

// Namespace renames every metric.
func TestNamespace(t *testing.T) {
	c := sipwsprom.New(sipwsprom.Options{Namespace: "edge"})
	c.Add(new(fake), "ws")
	for k := range scrape(t, c) {
		if !strings.HasPrefix(k, "edge_") {
			t.Errorf("%s: not in namespace edge", k)
		}
	}
}

// Add, Remove and Collect run concurrently: every scrape's counter is at
// least the one before, and in the end the counter is exactly what the
// transports counted while in the collector.
func TestConcurrentAddRemoveCollect(t *testing.T) {
	const workers, minRounds, minScrapes, perRound = 4, 200, 20, 3
	c := sipwsprom.New(sipwsprom.Options{})
	const key = "sipws_messages_sent_total{backend=ws,server=ws://edge1.test:80}"

	var scrapes, counted atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for r := 0; r < minRounds || scrapes.Load() < minScrapes; r++ {
				f := new(fake)
				f.open(edge1)
				if r%2 == 0 {
					f.update(func(s *transport.Stats) { s.MessagesOut = 1000 }) // before Add: not counted
				}
				c.Add(f, "ws")
				for range perRound {
					f.update(func(s *transport.Stats) { s.MessagesOut++ })
				}
				c.Remove(f)
				counted.Add(perRound)
				f.update(func(s *transport.Stats) { s.MessagesOut += 1000 }) // after Remove: not counted
			}
		})
	}
	done := make(chan struct{})
	scraper := make(chan struct{})
	go func() {
		defer close(scraper)
		reg := prometheus.NewRegistry()
		reg.MustRegister(c)
		last := 0.0
		for {
			select {
			case <-done:
				return
			default:
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Error(err)
			}
			for _, mf := range mfs {
				if mf.GetName() == "sipws_messages_sent_total" && len(mf.Metric) > 0 {
					v := mf.Metric[0].Counter.GetValue()
					if v < last {
						t.Errorf("counter went backwards: %v after %v", v, last)
					}
					last = v
				}
			}
			scrapes.Add(1)
		}
	}()
	wg.Wait()
	close(done)
	<-scraper
	t.Logf("%d scrapes during the churn of %d transports", scrapes.Load(), counted.Load()/perRound)
	if v := scrape(t, c)[key]; v != float64(counted.Load()) {
		t.Errorf("%s = %v, want %d", key, v, counted.Load())
	}
	if c.Len() != 0 {
		t.Errorf("Len = %d, want 0", c.Len())
	}
}
