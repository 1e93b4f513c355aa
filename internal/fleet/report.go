package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Results are printed as Go benchmark lines, one per run,
//
//	BenchmarkFleet/mode=real/backend=wsgobwas/scheme=ws/n=19500 1 9512 rss-B/tr 7650 heap-B/tr ...
//
// under goos/goarch/cpu/kernel header lines, so that a file of them is
// what benchstat reads (benchstat before.txt after.txt), and what the table
// subcommand summarises: the median of every metric with its spread
// (minimum–maximum), side by side for several files.

type metric struct {
	v    float64
	unit string
}

// benchLine formats one run's result.
func benchLine(name string, ms []metric) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Benchmark%s 1", name)
	for _, m := range ms {
		fmt.Fprintf(&b, " %s %s", formatValue(m.v), m.unit)
	}
	return b.String()
}

func formatValue(v float64) string {
	switch {
	case math.IsInf(v, 0) || math.IsNaN(v):
		return "NaN"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
}

// header describes the machine and the code measured.
func header() string {
	kernel, cpu := machine()
	var b strings.Builder
	fmt.Fprintf(&b, "goos: %s\ngoarch: %s\npkg: github.com/sipws/sipws/internal/fleet\ncpu: %s\nkernel: %s\ngo: %s\n",
		runtime.GOOS, runtime.GOARCH, cpu, kernel, runtime.Version())
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				rev = kv.Value
			case "vcs.modified":
				modified = kv.Value
			}
		}
		if rev != "" {
			// go build stamps the commit it built; go run does not.
			fmt.Fprintf(&b, "build: commit %.12s, uncommitted changes: %s\n", rev, modified)
		}
	}
	if rev, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		core := []string{"transport", "ws", "wsgobwas", "dialer", "keepalive", "sipmsg", "selector", "internal/bufpool"}
		diff, _ := exec.Command("git", append([]string{"diff", "HEAD", "--stat", "--"}, core...)...).Output()
		lines := strings.Split(strings.TrimSpace(string(diff)), "\n")
		summary := "no uncommitted changes"
		if len(diff) > 0 {
			summary = strings.TrimSpace(lines[len(lines)-1])
		}
		fmt.Fprintf(&b, "checkout: %s (core packages: %s)\n", strings.TrimSpace(string(rev)), summary)
	}
	return b.String()
}

// series is one benchmark name's runs.
type series struct {
	name  string
	units []string
	vals  map[string][]float64
}

// parseResults reads benchmark lines; other lines are skipped.
func parseResults(r io.Reader) []*series {
	var out []*series
	byName := map[string]*series{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		s := byName[name]
		if s == nil {
			s = &series{name: name, vals: map[string][]float64{}}
			byName[name] = s
			out = append(out, s)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			u := f[i+1]
			if _, ok := s.vals[u]; !ok {
				s.units = append(s.units, u)
			}
			s.vals[u] = append(s.vals[u], v)
		}
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// summary is "median [min–max] ×n".
func summary(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	if len(v) == 1 {
		return formatValue(v[0])
	}
	return fmt.Sprintf("%s [%s–%s] ×%d", formatValue(median(v)), formatValue(slices.Min(v)), formatValue(slices.Max(v)), len(v))
}

// printTable prints, for every benchmark name in any of the files, the
// median and spread of each metric, one column per file, and the change
// of the median from the first file to each other.
func printTable(w io.Writer, labels []string, sets [][]*series) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	var names []string
	seen := map[string]bool{}
	for _, set := range sets {
		for _, s := range set {
			if !seen[s.name] {
				seen[s.name] = true
				names = append(names, s.name)
			}
		}
	}
	find := func(set []*series, name string) *series {
		for _, s := range set {
			if s.name == name {
				return s
			}
		}
		return nil
	}
	for _, name := range names {
		fmt.Fprintf(tw, "%s\t", name)
		for i, l := range labels {
			fmt.Fprintf(tw, "%s\t", l)
			if i > 0 {
				fmt.Fprint(tw, "median change\t")
			}
		}
		fmt.Fprintln(tw)
		var units []string
		for _, set := range sets {
			if s := find(set, name); s != nil {
				for _, u := range s.units {
					if !slices.Contains(units, u) {
						units = append(units, u)
					}
				}
			}
		}
		for _, u := range units {
			fmt.Fprintf(tw, "  %s\t", u)
			var first float64
			for i, set := range sets {
				var v []float64
				if s := find(set, name); s != nil {
					v = s.vals[u]
				}
				fmt.Fprintf(tw, "%s\t", summary(v))
				if len(v) > 0 && i == 0 {
					first = median(v)
				}
				if i > 0 {
					if len(v) > 0 && first != 0 {
						fmt.Fprintf(tw, "%+.1f%%\t", 100*(median(v)-first)/math.Abs(first))
					} else {
						fmt.Fprint(tw, "\t")
					}
				}
			}
			fmt.Fprintln(tw)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

// tableMain is the table subcommand: files of result lines, or stdin.
func tableMain(args []string) int {
	if len(args) == 0 {
		printTable(os.Stdout, []string{"median [min–max]"}, [][]*series{parseResults(os.Stdin)})
		return 0
	}
	var sets [][]*series
	for _, p := range args {
		f, err := os.Open(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		sets = append(sets, parseResults(f))
		f.Close()
	}
	printTable(os.Stdout, args, sets)
	return 0
}
