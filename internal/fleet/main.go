package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() { os.Exit(dispatch(os.Args[1:])) }

// dispatch runs a role (a child process, told by roleEnv) or a subcommand.
func dispatch(args []string) int {
	switch os.Getenv(roleEnv) {
	case "server":
		return serverMain(args)
	case "fleet":
		return childMain(func(log io.Writer, cfg []byte) ([]string, error) {
			var c fleetConfig
			if err := json.Unmarshal(cfg, &c); err != nil {
				return nil, err
			}
			r, err := runFleet(c, log)
			if err != nil {
				return nil, err
			}
			return []string{benchLine(r.cfg.name(), r.metrics())}, nil
		})
	case "storm":
		return childMain(func(log io.Writer, cfg []byte) ([]string, error) {
			var c stormConfig
			if err := json.Unmarshal(cfg, &c); err != nil {
				return nil, err
			}
			r, err := runStorm(c, log)
			if err != nil {
				return nil, err
			}
			var tl strings.Builder
			r.timeline(&tl)
			return []string{strings.TrimRight(tl.String(), "\n"), benchLine(r.cfg.name(), r.metrics())}, nil
		})
	}
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "fleet":
		return fleetMain(args[1:])
	case "storm":
		return stormMain(args[1:])
	case "table":
		return tableMain(args[1:])
	}
	fmt.Fprint(os.Stderr, usage)
	return 2
}

const usage = `usage:
  go run ./internal/fleet fleet [flags]   # N transports OPEN: memory, goroutines, keepalive CPU
  go run ./internal/fleet storm [flags]   # the server killed and restarted: dials, accepts, SYN retransmissions
  go run ./internal/fleet table FILE...   # medians and spreads of saved results, side by side
Run a subcommand with -h for its flags; go doc ./internal/fleet for the model.
`

const configEnv = "SIPWS_FLEET_CONFIG"

// childMain runs one measurement in this (fresh) process: its
// configuration comes as JSON in configEnv, its result lines go to
// stdout, its progress to stderr.
func childMain(run func(log io.Writer, cfg []byte) ([]string, error)) int {
	lines, err := run(os.Stderr, []byte(os.Getenv(configEnv)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		return 1
	}
	for _, l := range lines {
		fmt.Println(l)
	}
	return 0
}

// runChild runs one measurement in a fresh process, this program started
// again with role and cfg, bounded by limit, and returns its stdout lines.
func runChild(role string, cfg any, limit time.Duration) ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), roleEnv+"="+role, configEnv+"="+string(js))
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("run did not finish within %v", limit)
	}
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n"), nil
}

// results collects result lines: to stdout, to -o, and for the table.
type results struct {
	file  *os.File // -o, or nil
	lines []string
}

func newResults(path string) (*results, func(), error) {
	r := &results{}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, err
		}
		r.file = f
	}
	r.write(header())
	return r, func() {
		if r.file != nil {
			r.file.Close()
		}
	}, nil
}

func (r *results) write(s string) {
	os.Stdout.WriteString(s)
	if r.file != nil {
		r.file.WriteString(s)
	}
}

func (r *results) add(lines []string) {
	for _, l := range lines {
		r.write(l + "\n")
		r.lines = append(r.lines, l)
	}
}

func (r *results) table() {
	fmt.Println()
	fmt.Println("medians [min–max] ×runs:")
	printTable(os.Stdout, []string{"median [min–max]"}, [][]*series{parseResults(strings.NewReader(strings.Join(r.lines, "\n")))})
}

func list(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func fleetMain(args []string) int {
	fs := flag.NewFlagSet("fleet", flag.ContinueOnError)
	modes := fs.String("mode", "real,mem", "real (loopback sockets, server child) and/or mem (in-memory connections, inline server)")
	backendList := fs.String("backend", "ws,wsgobwas", "backends")
	schemes := fs.String("scheme", "ws,wss", "real mode: ws and/or wss (mem mode is ws only)")
	nFlag := fs.String("n", "", `transports: a number, or "max" (real: the open-file cap less 500); default max for real, 100000 for mem`)
	rounds := fs.Int("rounds", 1, "rounds; each runs every configuration once, interleaved, each in a fresh process")
	ka := fs.Duration("keepalive", 30*time.Second, "KeepAliveInterval")
	warmup := fs.Duration("warmup", 0, "wait after the last OPEN before the steady window (0: -keepalive)")
	steady := fs.Duration("steady", 0, "the steady window (0: -keepalive)")
	conc := fs.Int("concurrency", 64, "Connect calls at once while opening")
	addrs := fs.Int("addrs", 8, "real mode: server addresses 127.0.0.1 … 127.0.0.<addrs>")
	readBuf := fs.Int("readbuf", 0, "the Dialer's ReadBufferSize (0: the backend's default)")
	rephase := fs.Bool("rephase", true, "before the warm-up, reconnect each transport once at a random moment over -keepalive, so that keepalive phases are spread as in a fleet that has run for a while (false: all in one wave)")
	prof := fs.String("profile", "", "a folder for CPU (steady window) and heap (all OPEN) profiles of every run; profiled runs are slower and their figures are not for the table")
	out := fs.String("o", "", "append the results to this file too")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *prof != "" {
		if err := os.MkdirAll(*prof, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "-profile: %v\n", err)
			return 2
		}
	}
	var cfgs []fleetConfig
	for _, mode := range list(*modes) {
		for _, sch := range list(*schemes) {
			if mode == "mem" && sch != "ws" {
				continue
			}
			for _, b := range list(*backendList) {
				c := fleetConfig{Mode: mode, Backend: b, Scheme: sch, Addrs: *addrs, Concurrency: *conc,
					KeepAlive: *ka, Warmup: *warmup, Steady: *steady, ReadBuf: *readBuf, Rephase: *rephase}
				switch n := *nFlag; {
				case n == "" && mode == "mem":
					c.N = 100000
				case n == "" || n == "max":
					c.N = maxRealN()
					if mode == "mem" {
						c.N = 100000
					}
				default:
					v, err := strconv.Atoi(n)
					if err != nil || v <= 0 {
						fmt.Fprintf(os.Stderr, "-n %q: a positive number or max\n", n)
						return 2
					}
					c.N = v
				}
				if mode == "real" && c.N > maxRealN() {
					fmt.Fprintf(os.Stderr, "-n %d: above the %d the open-file cap allows\n", c.N, maxRealN())
					return 2
				}
				cfgs = append(cfgs, c)
			}
		}
	}
	if len(cfgs) == 0 {
		fmt.Fprintln(os.Stderr, "no configuration")
		return 2
	}
	res, done, err := newResults(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer done()
	failed := false
	for round := 1; round <= *rounds; round++ {
		for _, c := range cfgs {
			fmt.Fprintf(os.Stderr, "round %d of %d: %s\n", round, *rounds, c.name())
			if *prof != "" {
				slug := strings.NewReplacer("/", "_", "=", "-").Replace(c.name())
				c.CPUProfile = filepath.Join(*prof, fmt.Sprintf("%s.r%d.cpu.pprof", slug, round))
				c.MemProfile = filepath.Join(*prof, fmt.Sprintf("%s.r%d.heap.pprof", slug, round))
			}
			c.defaults()
			lines, err := runChild("fleet", c, c.Warmup+c.Steady+15*time.Minute)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", c.name(), err)
				failed = true
				continue
			}
			res.add(lines)
		}
	}
	res.table()
	if failed {
		return 1
	}
	return 0
}

func stormMain(args []string) int {
	fs := flag.NewFlagSet("storm", flag.ContinueOnError)
	backendList := fs.String("backend", "ws,wsgobwas", "backends")
	jitters := fs.String("jitter", "-1,0", "ReconnectionJitter values: -1 none (SIP.js, the old schedule), 0 the default (0.5)")
	n := fs.Int("n", 10000, "transports")
	delay := fs.Duration("delay", time.Second, "from the kill to the restart")
	reconnect := fs.Duration("reconnect", 0, "ReconnectionTimeout (0: the default, 4s)")
	conc := fs.Int("concurrency", 64, "Connect calls at once while opening")
	timeout := fs.Duration("timeout", 60*time.Second, "the longest wait, from the kill, for all to be OPEN again")
	rounds := fs.Int("rounds", 1, "rounds; each runs every configuration once, interleaved, each in a fresh process")
	csvDir := fs.String("csv", "", "a folder for each run's 10 ms timeline (CSV)")
	linger0 := fs.Bool("linger0", false, "diagnostic: the server sets SO_LINGER 0, so the kill resets its connections and leaves no TIME_WAIT on its port")
	out := fs.String("o", "", "append the results to this file too")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *n > maxRealN() {
		fmt.Fprintf(os.Stderr, "-n %d: above the %d the open-file cap allows\n", *n, maxRealN())
		return 2
	}
	var cfgs []stormConfig
	for _, j := range list(*jitters) {
		jv, err := strconv.ParseFloat(j, 64)
		if err != nil {
			fmt.Fprintf(os.Stderr, "-jitter %q: %v\n", j, err)
			return 2
		}
		for _, b := range list(*backendList) {
			cfgs = append(cfgs, stormConfig{Backend: b, N: *n, Jitter: jv, Delay: *delay, Reconnect: *reconnect,
				Concurrency: *conc, Timeout: *timeout, Linger0: *linger0})
		}
	}
	res, done, err := newResults(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer done()
	failed := false
	for round := 1; round <= *rounds; round++ {
		for _, c := range cfgs {
			c.defaults()
			fmt.Fprintf(os.Stderr, "round %d of %d: %s\n", round, *rounds, c.name())
			if *csvDir != "" {
				slug := strings.NewReplacer("/", "_", "=", "-").Replace(c.name())
				c.CSV = filepath.Join(*csvDir, fmt.Sprintf("%s.r%d.csv", slug, round))
			}
			lines, err := runChild("storm", c, c.Timeout+5*time.Minute)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", c.name(), err)
				failed = true
				continue
			}
			res.add(lines)
		}
	}
	res.table()
	if failed {
		return 1
	}
	return 0
}
