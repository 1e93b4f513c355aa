package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"time"

	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/transport"
)

// stormConfig is one restart storm: N transports on one server, which is
// killed and, Delay later, restarted on the same port.
type stormConfig struct {
	Backend     string
	N           int
	Jitter      float64       // Config.ReconnectionJitter: 0 the default (0.5), −1 none (SIP.js)
	Delay       time.Duration // from the kill to the restart
	Reconnect   time.Duration // Config.ReconnectionTimeout (0: the default, 4 s)
	Concurrency int           // Connect calls at once while opening
	Timeout     time.Duration // the longest wait for all to be OPEN again
	CSV         string        // a file for the 10 ms timeline, if set
	Linger0     bool          // diagnostic: the server resets its connections when killed (no TIME_WAIT)
}

func (c *stormConfig) defaults() {
	if c.Delay <= 0 {
		c.Delay = time.Second
	}
	if c.Reconnect <= 0 {
		c.Reconnect = transport.DefaultReconnectionTimeout
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 256
	}
	if c.Timeout <= 0 {
		c.Timeout = 60 * time.Second
	}
}

func (c *stormConfig) name() string {
	j := "default"
	if c.Jitter != 0 {
		j = fmt.Sprint(c.Jitter)
	}
	s := fmt.Sprintf("Storm/backend=%s/jitter=%s/n=%d", c.Backend, j, c.N)
	if c.Delay != time.Second {
		s += "/delay=" + c.Delay.String()
	}
	if c.Reconnect != transport.DefaultReconnectionTimeout {
		s += "/reconnect=" + c.Reconnect.String()
	}
	if c.Linger0 {
		s += "/linger0"
	}
	return s
}

// target is the bound on the time until all are OPEN again with
// the default jitter: ReconnectionTimeout × (1 + 0.5) + 1 s.
func (c *stormConfig) target() time.Duration {
	return time.Duration(float64(c.Reconnect)*(1+transport.DefaultReconnectionJitter)) + time.Second
}

// stormResult is what one storm measured. Times are Unix nanoseconds.
type stormResult struct {
	cfg       stormConfig
	openRate  float64     // transports OPEN per second in the first opening
	kill, up  int64       // the kill; the restarted server listening (its own clock)
	allOpen   int64       // the last transport OPEN again; 0: not within Timeout
	reopen    []int64     // each transport's OPEN again, from the kill (ns)
	dials     []int64     // the clients' dials from the kill on
	accepts   []int64     // the restarted server's accepts
	took      []int64     // each dial's duration, ns; negative when it failed
	net       netCounters // from just before the kill to the end
	netOutage netCounters // from just before the kill to the restarted server listening
	tw        [3]int64    // TIME_WAIT sockets: before the kill, at the restart, at the end
	leftover  int         // goroutines above the baseline after Disconnect
	restartIn time.Duration
}

// runStorm runs one restart storm.
func runStorm(cfg stormConfig, log io.Writer) (*stormResult, error) {
	cfg.defaults()
	logf := func(format string, a ...any) { fmt.Fprintf(log, "storm: "+format+"\n", a...) }
	r := &stormResult{cfg: cfg}
	var extra []string
	if cfg.Linger0 {
		extra = append(extra, "-linger0")
	}
	srv, err := startServer("127.0.0.1:0", "", extra...)
	if err != nil {
		return nil, err
	}
	addr := srv.addrs[0]
	defer func() { srv.stop() }()
	baseGoroutines := runtime.NumGoroutine()

	dl := newDialLog(nil)
	newT, err := newMaker(cfg.Backend, dl.dial, 0)
	if err != nil {
		return nil, err
	}
	var (
		phase  atomic.Int64 // the kill time once the storm has begun
		open   atomic.Int64
		reopen = make([]atomic.Int64, cfg.N)
	)
	servers := selector.Servers{{URI: "ws://" + addr + "/"}}
	ts := make([]*transport.Base, cfg.N)
	for i := range ts {
		tc := transport.Config{
			Servers:             servers,
			ReconnectionJitter:  cfg.Jitter,
			ReconnectionTimeout: cfg.Reconnect,
			Events: transport.Events{
				Connected: func(selector.Server) {
					if k := phase.Load(); k != 0 {
						reopen[i].Store(time.Now().UnixNano())
					}
					open.Add(1)
				},
				Disconnected: func(selector.Server, error) { open.Add(-1) },
			},
		}
		if ts[i], err = newT(tc); err != nil {
			return nil, err
		}
	}
	defer disconnectAll(ts, cfg.Concurrency)

	logf("%s: opening %d transports on ws://%s/", cfg.name(), cfg.N, addr)
	start := time.Now()
	err = forEach(cfg.N, cfg.Concurrency, func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := ts[i].Connect(ctx); err != nil {
			return fmt.Errorf("transport %d: Connect: %w", i, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	r.openRate = float64(cfg.N) / time.Since(start).Seconds()
	time.Sleep(200 * time.Millisecond) // let the opening's last segments settle
	net0 := readNetstat()
	r.tw[0] = timeWait()

	r.kill = time.Now().UnixNano()
	phase.Store(r.kill)
	srv.kill()
	logf("killed the server; restarting it in %v", cfg.Delay)
	time.Sleep(time.Until(time.Unix(0, r.kill).Add(cfg.Delay)))
	t := time.Now()
	if srv, err = startServer(addr, "", extra...); err != nil {
		return nil, fmt.Errorf("restart on %s: %w", addr, err)
	}
	r.up, r.restartIn = srv.readyAt.UnixNano(), time.Since(t)
	r.netOutage, r.tw[1] = readNetstat().sub(net0), timeWait()

	deadline := time.Unix(0, r.kill).Add(cfg.Timeout)
	for open.Load() < int64(cfg.N) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the server flushes accept times every 10 ms
	r.net, r.tw[2] = readNetstat().sub(net0), timeWait()
	for i := range reopen {
		v := reopen[i].Load()
		if v == 0 {
			r.allOpen = 0
			break
		}
		r.reopen = append(r.reopen, v-r.kill)
		r.allOpen = max(r.allOpen, v)
	}
	if len(r.reopen) < cfg.N {
		r.allOpen = 0
	}
	r.dials, r.took = dl.since(r.kill)
	r.accepts = srv.acceptTimes()
	if r.allOpen == 0 {
		logf("not all OPEN again within %v: %d of %d", cfg.Timeout, open.Load(), cfg.N)
	} else {
		logf("all OPEN again %v after the kill (target %v)", time.Duration(r.allOpen-r.kill).Round(time.Millisecond), cfg.target())
	}
	if err := disconnectAll(ts, cfg.Concurrency); err != nil {
		return nil, err
	}
	srv.stop() // its accept reader is not in the baseline
	r.leftover = waitGoroutines(baseGoroutines, 10*time.Second)
	if cfg.CSV != "" {
		if err := r.writeCSV(cfg.CSV); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// bins counts the times in [from, to) in windows of w from from.
func bins(ts []int64, from, to int64, w time.Duration) []int {
	n := int(math.Ceil(float64(to-from) / float64(w)))
	b := make([]int, max(n, 1))
	for _, t := range ts {
		if t >= from && t < to {
			b[int((t-from)/int64(w))]++
		}
	}
	return b
}

// windowStats is a series' peak and mean per window over a period.
type windowStats struct {
	count           int
	peak10, peak100 int
	mean10          float64 // events per 10 ms, over the period
}

// over returns the statistics of ts in [from, to]. Windows are aligned to
// from; the mean is the count over the period's length.
func over(ts []int64, from, to int64) windowStats {
	to++ // inclusive
	var s windowStats
	for _, t := range ts {
		if t >= from && t < to {
			s.count++
		}
	}
	s.peak10 = slices.Max(bins(ts, from, to, 10*time.Millisecond))
	s.peak100 = slices.Max(bins(ts, from, to, 100*time.Millisecond))
	s.mean10 = float64(s.count) / (float64(to-from) / float64(10*time.Millisecond))
	return s
}

func (s windowStats) ratio() float64 { return float64(s.peak10) / max(s.mean10, 1e-9) }

// periods: the outage is from the kill to the restarted server
// listening, the recovery from then until all are OPEN again (or the end
// of the wait).
func (r *stormResult) recoveryEnd() int64 {
	if r.allOpen != 0 {
		return r.allOpen
	}
	return r.kill + int64(r.cfg.Timeout)
}

func quantile(v []int64, q float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return time.Duration(s[min(len(s)-1, int(q*float64(len(s))))])
}

// slowDials counts the dials started in [from, to) that took 900 ms or
// more, successful or not: on loopback, only a retransmitted SYN (the
// first retransmission goes after 1 s) makes a dial that slow.
func (r *stormResult) slowDials(from, to int64) int {
	n := 0
	for i, t := range r.dials {
		if t >= from && t < to && (r.took[i] >= int64(900*time.Millisecond) || r.took[i] <= -int64(900*time.Millisecond)) {
			n++
		}
	}
	return n
}

func (r *stormResult) metrics() []metric {
	end := r.recoveryEnd()
	acc := over(r.accepts, r.up, end)
	dialRec := over(r.dials, r.up, end)
	dialOut := over(r.dials, r.kill, r.up-1)
	all := math.Inf(1)
	if r.allOpen != 0 {
		all = time.Duration(r.allOpen - r.kill).Seconds()
	}
	return []metric{
		{all, "allopen-s"},
		{quantile(r.reopen, 0.5).Seconds(), "reopen-p50-s"},
		{quantile(r.reopen, 0.99).Seconds(), "reopen-p99-s"},
		{float64(acc.peak10), "acc-peak10ms"},
		{float64(acc.peak100), "acc-peak100ms"},
		{acc.mean10, "acc-mean10ms"},
		{acc.ratio(), "acc-peak/mean"},
		{float64(dialRec.peak10), "dial-peak10ms"},
		{float64(dialRec.peak100), "dial-peak100ms"},
		{dialRec.mean10, "dial-mean10ms"},
		{dialRec.ratio(), "dial-peak/mean"},
		{float64(dialOut.count), "outage-dials"},
		{float64(dialOut.peak10), "outage-dial-peak10ms"},
		{float64(dialOut.peak100), "outage-dial-peak100ms"},
		{float64(len(r.dials)), "dials"},
		{float64(r.slowDials(r.kill, r.up)), "outage-slow-dials"},
		{float64(r.slowDials(r.up, end)), "recovery-slow-dials"},
		{float64(len(r.accepts)), "accepts"},
		{float64(r.net.SynRetrans), "synretrans"},
		{float64(r.netOutage.SynRetrans), "outage-synretrans"},
		{float64(r.net.SynRetrans - r.netOutage.SynRetrans), "recovery-synretrans"},
		{float64(r.net.ListenOverflows), "listenoverflows"},
		{float64(r.net.ListenDrops), "listendrops"},
		{float64(r.net.ReqQFullDrop), "reqqfulldrops"},
		{float64(r.net.SyncookiesSent), "syncookies"},
		{float64(r.tw[0]), "tw-before"},
		{float64(r.tw[1]), "tw-restart"},
		{time.Duration(r.up - r.kill).Seconds(), "up-s"},
		{r.openRate, "open/s"},
		{float64(r.leftover), "leftover-goroutines"},
		{loadavg(), "load1"},
	}
}

// timeline writes the 100 ms windows from the kill to the end of the
// recovery: dials and accepts, and the phase.
func (r *stormResult) timeline(w io.Writer) {
	end := r.recoveryEnd() + int64(100*time.Millisecond)
	d := bins(r.dials, r.kill, end, 100*time.Millisecond)
	a := bins(r.accepts, r.kill, end, 100*time.Millisecond)
	fmt.Fprintf(w, "# %s: 100 ms windows from the kill (up at %.3f s); windows with neither dials nor accepts left out\n",
		r.cfg.name(), time.Duration(r.up-r.kill).Seconds())
	fmt.Fprintf(w, "#   %8s %7s %7s\n", "t (s)", "dials", "accepts")
	for i := range d {
		if d[i] == 0 && a[i] == 0 {
			continue
		}
		fmt.Fprintf(w, "#   %8.1f %7d %7d\n", float64(i)/10, d[i], a[i])
	}
}

func (r *stormResult) writeCSV(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	end := r.recoveryEnd() + int64(100*time.Millisecond)
	d := bins(r.dials, r.kill, end, 10*time.Millisecond)
	a := bins(r.accepts, r.kill, end, 10*time.Millisecond)
	fmt.Fprintln(f, "ms_from_kill,dials,accepts")
	for i := range d {
		fmt.Fprintf(f, "%d,%d,%d\n", i*10, d[i], a[i])
	}
	return f.Close()
}
