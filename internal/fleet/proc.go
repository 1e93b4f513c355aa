package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// This file reads what the process and the kernel say about themselves:
// /proc/self/status, /proc/meminfo, /proc/net/sockstat, /proc/net/netstat
// and getrusage. Everything here is Linux; elsewhere the readings are zero.

// snapshot is one reading of the client process and the kernel.
type snapshot struct {
	at         time.Time
	rss        int64 // VmRSS, bytes
	rssAnon    int64 // RssAnon, bytes
	heap       int64 // MemStats.HeapAlloc: live heap after the collections
	stack      int64 // MemStats.StackInuse
	sys        int64 // MemStats.Sys − HeapReleased: what the runtime holds from the OS
	goroutines int
	threads    int   // OS threads (/proc/self/status Threads)
	gcCycles   int64 // MemStats.NumGC
	cpu        time.Duration
	csw        int64 // voluntary + involuntary context switches
	slab       int64 // /proc/meminfo Slab, bytes (machine-wide)
	tcpMem     int64 // /proc/net/sockstat TCP mem, in bytes (pages × page size)
	tcpInuse   int64 // /proc/net/sockstat TCP inuse
}

// measure takes a snapshot. With settle, it first collects four times (so
// that idle goroutine stacks shrink to what they use, as internal/bench
// does) and returns freed pages to the OS, so that RSS shows what is held
// rather than what the collector has not yet given back.
func measure(settle bool) snapshot {
	if settle {
		for range 4 {
			runtime.GC()
		}
		debug.FreeOSMemory()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := snapshot{
		at:         time.Now(),
		heap:       int64(ms.HeapAlloc),
		stack:      int64(ms.StackInuse),
		sys:        int64(ms.Sys - ms.HeapReleased),
		goroutines: runtime.NumGoroutine(),
		gcCycles:   int64(ms.NumGC),
	}
	st := procStatus("/proc/self/status")
	s.rss, s.rssAnon, s.threads = st["VmRSS"]*1024, st["RssAnon"]*1024, int(st["Threads"])
	s.cpu, s.csw = rusage()
	s.slab = procStatus("/proc/meminfo")["Slab"] * 1024
	s.tcpMem, s.tcpInuse = sockstat()
	return s
}

// light takes a snapshot without collecting, for the edges of a CPU
// window (a collection there would be counted as the window's CPU).
func light() snapshot { return measure(false) }

// procStatus reads "Key:   value kB" lines (status, meminfo); values in kB
// stay in kB, counts stay counts.
func procStatus(path string) map[string]int64 {
	m := make(map[string]int64)
	b, err := os.ReadFile(path)
	if err != nil {
		return m
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
			m[k] = n
		}
	}
	return m
}

// rusage returns the process's CPU time (user + system) and its context
// switches.
func rusage() (time.Duration, int64) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, ru.Nvcsw + ru.Nivcsw
}

// procCPU returns the CPU time of another process from /proc/PID/stat
// (clock ticks, 100 per second on Linux).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14, utime
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15, stime
	return time.Duration(ut+st) * (time.Second / 100)
}

// sockstat returns TCP "mem" (bytes) and "inuse" from /proc/net/sockstat.
func sockstat() (mem, inuse int64) {
	f, err := os.Open("/proc/net/sockstat")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 0 || fs[0] != "TCP:" {
			continue
		}
		for i := 1; i+1 < len(fs); i += 2 {
			n, _ := strconv.ParseInt(fs[i+1], 10, 64)
			switch fs[i] {
			case "mem":
				mem = n * int64(os.Getpagesize())
			case "inuse":
				inuse = n
			}
		}
	}
	return mem, inuse
}

// timeWait returns the TIME_WAIT sockets of /proc/net/sockstat ("tw").
func timeWait() int64 {
	b, _ := os.ReadFile("/proc/net/sockstat")
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "TCP:" {
			continue
		}
		for i := 1; i+1 < len(f); i += 2 {
			if f[i] == "tw" {
				n, _ := strconv.ParseInt(f[i+1], 10, 64)
				return n
			}
		}
	}
	return 0
}

// netCounters are the TcpExt counters of /proc/net/netstat that tell
// whether a listener overflowed: they are counted for the whole network
// namespace, so another program's connections count too.
type netCounters struct {
	SynRetrans, ListenOverflows, ListenDrops, ReqQFullDrop, SyncookiesSent int64
}

func readNetstat() netCounters {
	b, err := os.ReadFile("/proc/net/netstat")
	if err != nil {
		return netCounters{}
	}
	lines := strings.Split(string(b), "\n")
	m := make(map[string]int64)
	for i := 0; i+1 < len(lines); i += 2 {
		keys, vals := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(keys) == 0 || keys[0] != "TcpExt:" || len(keys) != len(vals) {
			continue
		}
		for j := 1; j < len(keys); j++ {
			n, _ := strconv.ParseInt(vals[j], 10, 64)
			m[keys[j]] = n
		}
	}
	return netCounters{
		SynRetrans:      m["TCPSynRetrans"],
		ListenOverflows: m["ListenOverflows"],
		ListenDrops:     m["ListenDrops"],
		ReqQFullDrop:    m["TCPReqQFullDrop"],
		SyncookiesSent:  m["SyncookiesSent"],
	}
}

func (a netCounters) sub(b netCounters) netCounters {
	return netCounters{a.SynRetrans - b.SynRetrans, a.ListenOverflows - b.ListenOverflows,
		a.ListenDrops - b.ListenDrops, a.ReqQFullDrop - b.ReqQFullDrop, a.SyncookiesSent - b.SyncookiesSent}
}

// openFileLimit is the soft RLIMIT_NOFILE (Go raises it to the hard limit
// at start-up).
func openFileLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 1024
	}
	return int(rl.Cur)
}

// machine describes the machine, for the header of the results.
func machine() (kernel, cpu string) {
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		kernel = utsString(u.Release[:])
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	return kernel, fmt.Sprintf("%s (%d CPUs)", cpu, runtime.NumCPU())
}

func utsString(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

// cpuTicks is the machine's CPU time from the first line of /proc/stat,
// all CPUs together, in seconds: busy (neither idle nor iowait), steal
// (taken by the hypervisor), and the total.
type cpuTicks struct{ busy, steal, total float64 }

func readCPUTicks() cpuTicks {
	b, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTicks{}
	}
	var v [10]float64
	for i := 1; i < len(f) && i <= 10; i++ {
		v[i-1], _ = strconv.ParseFloat(f[i], 64)
	}
	// user nice system idle iowait irq softirq steal guest guest_nice;
	// guest time is already counted in user.
	var t cpuTicks
	for i := range 8 {
		t.total += v[i]
	}
	t.busy = t.total - v[3] - v[4]
	t.steal = v[7]
	const hz = 100 // USER_HZ
	t.busy, t.steal, t.total = t.busy/hz, t.steal/hz, t.total/hz
	return t
}

// loadavg returns the 1-minute load average: another engineer's build on
// this shared machine shows here.
func loadavg() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
