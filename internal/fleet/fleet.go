package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/transport"
)

// fleetConfig is one fleet measurement: N transports of one backend, over
// real loopback sockets (against a server child) or in memory.
type fleetConfig struct {
	Mode        string        // "real" or "mem"
	Backend     string        // "ws" or "wsgobwas"
	Scheme      string        // "ws" or "wss" (real only)
	N           int           // transports
	Addrs       int           // real: server addresses, 127.0.0.1 … 127.0.0.<Addrs>
	Concurrency int           // Connect calls at once while opening
	KeepAlive   time.Duration // Config.KeepAliveInterval
	Warmup      time.Duration // after the last OPEN, before the steady window (0: KeepAlive)
	Steady      time.Duration // the steady window (0: KeepAlive)
	ReadBuf     int           // the Dialer's ReadBufferSize (0: default)
	Rephase     bool          // before the warm-up, reconnect each transport once at a random moment over KeepAlive
	CPUProfile  string        // a CPU profile of the steady window
	MemProfile  string        // a heap profile once all are OPEN
}

func (c *fleetConfig) defaults() {
	if c.Mode == "" {
		c.Mode = "real"
	}
	if c.Scheme == "" {
		c.Scheme = "ws"
	}
	if c.Addrs <= 0 {
		c.Addrs = 8
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.KeepAlive <= 0 {
		c.KeepAlive = 30 * time.Second
	}
	if c.Warmup <= 0 {
		c.Warmup = c.KeepAlive
	}
	if c.Steady <= 0 {
		c.Steady = c.KeepAlive
	}
}

// name is the benchmark name of the configuration, as the result lines
// and the table give it.
func (c *fleetConfig) name() string {
	s := fmt.Sprintf("Fleet/mode=%s/backend=%s/scheme=%s/n=%d", c.Mode, c.Backend, c.Scheme, c.N)
	if c.ReadBuf != 0 {
		s += fmt.Sprintf("/readbuf=%d", c.ReadBuf)
	}
	if c.KeepAlive != 30*time.Second {
		s += "/ka=" + c.KeepAlive.String()
	}
	if !c.Rephase {
		s += "/clustered"
	}
	return s
}

// maxRealN is the largest N of real mode: the open-file cap less 500 for
// everything else, rounded down to 500 (19,500 with this machine's
// 20,000). The client holds one socket per transport, and so does the
// server child.
func maxRealN() int { return (openFileLimit() - 500) / 500 * 500 }

// fleetResult is what one run measured; see metrics for the units.
type fleetResult struct {
	cfg fleetConfig

	openTime  time.Duration // from the first Connect to the last OPEN
	openDials int           // dials while opening (N if none failed)

	// Before opening; all just OPEN; idle, once every transport has had a
	// keepalive round trip (its read buffer touched), before any
	// reconnection; after the re-phase and the steady window.
	base, opened, idle, after snapshot
	idleWait                  time.Duration // from the last OPEN to the idle snapshot

	pipe int64 // mem: bytes per in-memory connection and its inline server state

	steadyCPU, srvCPU   time.Duration
	steadyWall          time.Duration
	steadyKA            uint64 // keepalive round trips (pongs received) in the window
	steadyCSW, steadyGC int64
	steadyDials         int      // dials in the window: 0 unless flows failed
	machine             cpuTicks // the machine's CPU over the window

	closeTime time.Duration // Disconnect of every transport
	leftover  int           // goroutines above the baseline after it
}

// runFleet opens cfg.N transports, measures them OPEN and idle, runs a
// steady window of keepalives, disconnects them, and checks that no
// goroutine is left. Progress goes to log.
func runFleet(cfg fleetConfig, log io.Writer) (*fleetResult, error) {
	cfg.defaults()
	if cfg.CPUProfile != "" || cfg.MemProfile != "" {
		runtime.MemProfileRate = 4096
	}
	r := &fleetResult{cfg: cfg}
	logf := func(format string, a ...any) { fmt.Fprintf(log, "fleet: "+format+"\n", a...) }

	var (
		urls  []string
		nd    netDial
		roots *x509.CertPool
		srv   *server
	)
	switch cfg.Mode {
	case "real":
		var tlsDir string
		if cfg.Scheme == "wss" {
			dir, err := os.MkdirTemp("", "sipws-fleet-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(dir)
			if roots, err = makeCert(dir); err != nil {
				return nil, err
			}
			tlsDir = dir
		} else if cfg.Scheme != "ws" {
			return nil, fmt.Errorf("scheme %q: ws or wss", cfg.Scheme)
		}
		var listen []string
		for i := 1; i <= cfg.Addrs; i++ {
			listen = append(listen, fmt.Sprintf("127.0.0.%d:0", i))
		}
		var err error
		if srv, err = startServer(strings.Join(listen, ","), tlsDir); err != nil {
			return nil, err
		}
		defer srv.stop()
		for _, a := range srv.addrs {
			urls = append(urls, cfg.Scheme+"://"+a+"/")
		}
	case "mem":
		if cfg.Scheme != "ws" {
			return nil, errors.New("mem mode is ws:// only")
		}
		nd, urls = memDial, []string{"ws://127.0.0.1:5060/"}
		r.pipe = pipeCost(min(cfg.N, 20000))
	default:
		return nil, fmt.Errorf("mode %q: real or mem", cfg.Mode)
	}
	dl := newDialLog(nd)
	newT, err := newMaker(cfg.Backend, dl.dial, cfg.ReadBuf)
	if err != nil {
		return nil, err
	}
	servers := make([]selector.Servers, len(urls))
	for i, u := range urls {
		servers[i] = selector.Servers{{URI: u}}
	}
	ts := make([]*transport.Base, cfg.N)
	for i := range ts {
		tc := transport.Config{Servers: servers[i%len(servers)], KeepAliveInterval: cfg.KeepAlive}
		if roots != nil {
			tc.Dial.TLSConfig = &tls.Config{RootCAs: roots}
		}
		if ts[i], err = newT(tc); err != nil {
			return nil, err
		}
	}
	defer disconnectAll(ts, cfg.Concurrency) // on an early return; a no-op after the real one

	r.base = measure(true)
	logf("%s: opening %d transports, %d at a time", cfg.name(), cfg.N, cfg.Concurrency)
	start := time.Now()
	err = forEach(cfg.N, cfg.Concurrency, func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := ts[i].Connect(ctx); err != nil {
			return fmt.Errorf("transport %d: Connect: %w", i, err)
		}
		return nil
	})
	lastOpen := time.Now()
	r.openTime, r.openDials = lastOpen.Sub(start), dl.count()
	if err != nil {
		return nil, err
	}
	r.opened = measure(true)
	logf("all OPEN in %v (%.0f/s), %d dials; %.0f B RSS, %.0f B heap, %.0f B stack per transport",
		r.openTime.Round(time.Millisecond), float64(cfg.N)/r.openTime.Seconds(), r.openDials,
		perN(r.opened.rss-r.base.rss, cfg.N), perN(r.opened.heap-r.base.heap, cfg.N), perN(r.opened.stack-r.base.stack, cfg.N))

	// Idle: every transport has had one keepalive round trip, which
	// touches its read buffer, as any received message would.
	if !waitKeepalive(ts, lastOpen.Add(2*cfg.KeepAlive)) {
		return nil, fmt.Errorf("not every transport had a keepalive round trip within %v of the last OPEN", 2*cfg.KeepAlive)
	}
	r.idleWait = time.Since(lastOpen)
	r.idle = measure(true)
	logf("idle, after one keepalive round trip each (%v after the last OPEN): %.0f B RSS, %.0f B heap, %.0f B stack per transport",
		r.idleWait.Round(time.Millisecond), perN(r.idle.rss-r.base.rss, cfg.N), perN(r.idle.heap-r.base.heap, cfg.N), perN(r.idle.stack-r.base.stack, cfg.N))
	if cfg.MemProfile != "" {
		if err := writeHeapProfile(cfg.MemProfile); err != nil {
			return nil, err
		}
	}
	lastOpen = time.Now()

	if cfg.Rephase {
		logf("re-phasing: each transport reconnects once, at a random moment over %v", cfg.KeepAlive)
		if err := rephase(ts, cfg.KeepAlive, cfg.Concurrency); err != nil {
			return nil, err
		}
		lastOpen = time.Now()
	}

	// The steady window: every transport has drawn its period and sent a
	// keepalive before it starts.
	time.Sleep(time.Until(lastOpen.Add(cfg.Warmup)))
	logf("steady window of %v", cfg.Steady)
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		// 1000 samples a second rather than 100: the steady state uses a
		// few per cent of a core. StartCPUProfile then says on stderr that
		// it cannot set the rate, and keeps this one.
		runtime.SetCPUProfileRate(1000)
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
	}
	ka0, dials0 := keepalives(ts), dl.count()
	var srv0 time.Duration
	if srv != nil {
		srv0 = procCPU(srv.cmd.Process.Pid)
	}
	m0 := readCPUTicks()
	s0 := light()
	time.Sleep(cfg.Steady)
	s1 := light()
	m1 := readCPUTicks()
	r.machine = cpuTicks{m1.busy - m0.busy, m1.steal - m0.steal, m1.total - m0.total}
	if srv != nil {
		r.srvCPU = procCPU(srv.cmd.Process.Pid) - srv0
	}
	ka1, dials1 := keepalives(ts), dl.count()
	if cfg.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	r.steadyCPU, r.steadyWall = s1.cpu-s0.cpu, s1.at.Sub(s0.at)
	r.steadyKA, r.steadyCSW, r.steadyGC = ka1-ka0, s1.csw-s0.csw, s1.gcCycles-s0.gcCycles
	r.steadyDials = dials1 - dials0
	logf("steady: %d keepalive round trips, %.1f µs CPU each, %.2f %% of a core, %d GCs, %d dials",
		r.steadyKA, float64(r.steadyCPU.Microseconds())/float64(max(r.steadyKA, 1)),
		100*r.steadyCPU.Seconds()/r.steadyWall.Seconds(), r.steadyGC, r.steadyDials)
	r.after = measure(true)

	start = time.Now()
	if err := disconnectAll(ts, cfg.Concurrency); err != nil {
		return nil, err
	}
	r.closeTime = time.Since(start)
	r.leftover = waitGoroutines(r.base.goroutines, 10*time.Second)
	logf("all disconnected in %v; %d goroutines left above the baseline", r.closeTime.Round(time.Millisecond), r.leftover)
	return r, nil
}

// rephase disconnects and reconnects every transport once, in a random
// order at an even pace over d. Opened all at once, the transports would
// draw their keepalive periods in [0.8, 1) × d from nearly the same
// instant, and their pings would come in one dense wave each period,
// which batches by itself and flatters the cost of a ping; a fleet that
// has run for a while has its keepalive phases spread evenly, and after
// this, so do these.
func rephase(ts []*transport.Base, d time.Duration, c int) error {
	order := rand.Perm(len(ts))
	work := make(chan int, c)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for i := range work {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				err := ts[i].Disconnect(ctx)
				if err == nil {
					err = ts[i].Connect(ctx)
				}
				cancel()
				if err != nil {
					select {
					case errc <- fmt.Errorf("transport %d: re-phase: %w", i, err):
					default:
					}
				}
			}
		})
	}
	start := time.Now()
	for k, i := range order {
		due := start.Add(time.Duration(int64(d) * int64(k) / int64(len(ts))))
		if w := time.Until(due); w > time.Millisecond {
			time.Sleep(w)
		}
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// waitKeepalive waits until every transport has received a keepalive
// pong, or until deadline; it reports whether they all have.
func waitKeepalive(ts []*transport.Base, deadline time.Time) bool {
	next := 0
	for {
		for next < len(ts) && ts[next].Stats().KeepalivesIn > 0 {
			next++
		}
		if next == len(ts) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keepalives sums the keepalive pongs the transports have received.
func keepalives(ts []*transport.Base) uint64 {
	var n uint64
	for _, t := range ts {
		n += t.Stats().KeepalivesIn
	}
	return n
}

// pipeCost measures, with n bare in-memory connections upgraded by the
// inline server, the heap one connection holds beside the transport:
// the part of mem mode's heap figure that a socket would not put on the
// heap.
func pipeCost(n int) int64 {
	const req = "GET / HTTP/1.1\r\nHost: 127.0.0.1:5060\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
	before := measure(true)
	cs := make([]net.Conn, n)
	buf := make([]byte, 512)
	for i := range cs {
		c := newMemConn()
		c.Write([]byte(req))
		c.Read(buf)
		cs[i] = c
	}
	after := measure(true)
	runtime.KeepAlive(cs)
	return (after.heap - before.heap - int64(n)*16) / int64(n) // less the slice of interfaces
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

func perN(v int64, n int) float64 { return float64(v) / float64(n) }

// metrics returns the result as benchmark metrics, in the order they are
// printed. Units: B/tr is bytes per transport, /tr per transport.
func (r *fleetResult) metrics() []metric {
	n := r.cfg.N
	o, i, a, b := r.opened, r.idle, r.after, r.base
	sockets := max(i.tcpInuse-b.tcpInuse, 1)
	kernel := float64(i.slab-b.slab+i.tcpMem-b.tcpMem) / float64(sockets)
	kernelAfter := float64(a.slab-b.slab+a.tcpMem-b.tcpMem) / float64(max(a.tcpInuse-b.tcpInuse, 1))
	rss := perN(i.rss-b.rss, n)
	// The client's CPU per keepalive round trip, and what it makes of
	// 100,000 flows at 30 s (a mean period of 27 s): µs × pings per second.
	perKA := float64(r.steadyCPU.Microseconds()) / float64(max(r.steadyKA, 1))
	m := []metric{
		{float64(n) / r.openTime.Seconds(), "open/s"},
		{rss, "rss-B/tr"},
		{perN(o.rss-b.rss, n), "rss-fresh-B/tr"},
		{perN(a.rss-b.rss, n), "rss-churn-B/tr"},
		{perN(i.heap-b.heap, n), "heap-B/tr"},
		{perN(i.stack-b.stack, n), "stack-B/tr"},
		{perN(i.sys-b.sys, n), "gosys-B/tr"},
		{perN(a.heap-b.heap, n), "heap-churn-B/tr"},
		{perN(int64(o.goroutines-b.goroutines), n), "goroutines/tr"},
		{perKA, "cpu-us/ka"},
		{100 * r.steadyCPU.Seconds() / r.steadyWall.Seconds(), "cpu-%core"},
		{perKA * 100000 / (0.9 * 30) / 1e4, "cpu-%core-100k@30s"},
		{float64(r.steadyCSW) / float64(max(r.steadyKA, 1)), "ctxsw/ka"},
		{float64(r.steadyKA) / r.steadyWall.Seconds(), "ka/s"},
		{float64(r.steadyGC), "gc/window"},
		{float64(r.steadyDials), "dials/window"},
		{float64(a.threads), "threads"},
		// What else ran on the machine during the window, in % of one
		// core: a figure taken beside another heavy program is suspect.
		{100 * (r.machine.busy - r.steadyCPU.Seconds() - r.srvCPU.Seconds()) / r.steadyWall.Seconds(), "others-%core"},
		{100 * r.machine.steal / r.steadyWall.Seconds(), "steal-%core"},
		{float64(r.leftover), "leftover-goroutines"},
		{loadavg(), "load1"},
	}
	if r.cfg.Mode == "real" {
		m = append(m,
			metric{float64(r.srvCPU.Microseconds()) / float64(max(r.steadyKA, 1)), "srv-cpu-us/ka"},
			metric{kernel, "kernel-B/sock"},
			metric{kernelAfter, "kernel-after-B/sock"},
			metric{float64(i.slab-b.slab) / float64(sockets), "slab-B/sock"},
			metric{float64(i.tcpMem-b.tcpMem) / float64(sockets), "tcpmem-B/sock"},
			metric{(rss + max(kernel, kernelAfter)) * 100000 / (1 << 20), "proj100k-MiB"},
		)
	} else {
		m = append(m, metric{float64(r.pipe), "pipe-B/tr"})
	}
	return m
}
