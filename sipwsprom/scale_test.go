package sipwsprom_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/sipwsprom"
	"github.com/sipws/sipws/transport"
)

// fleetEdges are the servers of a fleet; with two backends, a fleet has
// 2 × 4 = 8 label sets, whatever its size.
var fleetEdges = [...]string{"ws://edge0.test:80", "ws://edge1.test:80", "ws://edge2.test:80", "ws://edge3.test:80"}

// fleet is n transports over an in-memory network, in a collector; the
// first open are connected (their server side holds the connection, unread).
type fleet struct {
	c   *sipwsprom.Collector
	trs []*transport.Base
}

func newFleet(tb testing.TB, n, open int) *fleet {
	tb.Helper()
	net := dialertest.NewNetwork(tb)
	var ls []*dialertest.Listener
	for _, e := range fleetEdges {
		ls = append(ls, net.Listen(e, nil))
	}
	f := &fleet{c: sipwsprom.New(sipwsprom.Options{}), trs: make([]*transport.Base, n)}
	for i := range f.trs {
		home, next := fleetEdges[i%4], fleetEdges[(i+1)%4]
		tr, err := transport.NewBase(transport.Config{Servers: parseServers(tb, home+";10", next+";1")}, net)
		if err != nil {
			tb.Fatal(err)
		}
		f.trs[i] = tr
		f.c.Add(tr, [2]string{"ws", "gobwas"}[i/4%2])
	}
	tb.Cleanup(func() {
		f.each(n, func(tr *transport.Base) { tr.Disconnect(context.Background()) })
		for _, l := range ls {
			l.Wait()
		}
	})
	var failed atomic.Int64
	f.each(open, func(tr *transport.Base) {
		if tr.Connect(context.Background()) != nil {
			failed.Add(1)
		}
	})
	if failed.Load() > 0 {
		tb.Fatalf("%d of %d transports did not connect", failed.Load(), open)
	}
	return f
}

// each calls fn for the first n transports, on GOMAXPROCS goroutines.
func (f *fleet) each(n int, fn func(*transport.Base)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				fn(f.trs[i])
			}
		})
	}
	wg.Wait()
}

// collectOnce runs one Collect and drains its metrics; it returns how many.
func collectOnce(c prometheus.Collector, ch chan prometheus.Metric) int {
	c.Collect(ch)
	n := len(ch)
	for range n {
		<-ch
	}
	return n
}

// A scrape allocates per series, not per transport: 10 times the
// transports in the same label sets cost the same allocations.
func TestCollectAllocsPerSeriesNotTransports(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		allocs := func(n int) (float64, int) {
			f := newFleet(t, n, 50)
			ch := make(chan prometheus.Metric, 8*21)
			metrics := collectOnce(f.c, ch) // creates the label sets, sizes the buffers
			return testing.AllocsPerRun(20, func() { collectOnce(f.c, ch) }), metrics
		}
		small, ms := allocs(1_000)
		large, ml := allocs(10_000)
		t.Logf("allocations per scrape: %v at N=1000, %v at N=10000; %d metrics", small, large, ml)
		if ms != 8*21 || ml != ms {
			t.Fatalf("metrics per scrape: %d at N=1000, %d at N=10000; want %d both", ms, ml, 8*21)
		}
		if large > small+5 {
			t.Errorf("allocations grow with the transports: %v at N=1000, %v at N=10000", small, large)
		}
		// What client_golang's const metrics cost: the label pairs, and for
		// a histogram its map of buckets.
		if perMetric := large / float64(ml); perMetric > 16 {
			t.Errorf("%.1f allocations per metric, want at most 16", perMetric)
		}
	})
}

// BenchmarkCollect is one scrape of N transports, every one of them OPEN
// over an in-memory connection, in 8 label sets (168 metrics).
func BenchmarkCollect(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			f := newFleet(b, n, n)
			ch := make(chan prometheus.Metric, 8*21)
			collectOnce(f.c, ch)
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				collectOnce(f.c, ch)
			}
			b.ReportMetric(float64(ms.HeapInuse+ms.StackInuse)/float64(n), "heap+stack-B/transport")
		})
	}
}
