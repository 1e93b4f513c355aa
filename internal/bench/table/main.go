// Command table reads the output of the internal/bench benchmarks (any
// number of rounds) and prints a Markdown table of the medians, with each
// variant's ratio to the raw-TCP floor. bash .ci/bench runs it.
//
//	go test -run '^$' -bench . -benchmem ./internal/bench | go run ./internal/bench/table
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "table:", err)
		os.Exit(1)
	}
}

// line matches one benchmark result: name, sub-benchmark, iterations, and
// the "value unit" pairs that follow.
var line = regexp.MustCompile(`^Benchmark(\w+)/(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// results holds every sample: op -> variant -> unit -> values.
type results map[string]map[string]map[string][]float64

func parse(r io.Reader) (results, []string, []string, error) {
	res := results{}
	var variants, header []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		text := sc.Text()
		if k, v, ok := strings.Cut(text, ": "); ok && (k == "goos" || k == "goarch" || k == "cpu") {
			if h := k + " " + v; !slices.Contains(header, h) {
				header = append(header, h)
			}
			continue
		}
		m := line.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		op, variant, fields := m[1], m[2], strings.Fields(m[3])
		if !slices.Contains(variants, variant) {
			variants = append(variants, variant)
		}
		if res[op] == nil {
			res[op] = map[string]map[string][]float64{}
		}
		if res[op][variant] == nil {
			res[op][variant] = map[string][]float64{}
		}
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%q: %w", text, err)
			}
			res[op][variant][fields[i+1]] = append(res[op][variant][fields[i+1]], v)
		}
	}
	if len(res) == 0 {
		return nil, nil, nil, fmt.Errorf("no benchmark results in the input")
	}
	return res, variants, header, sc.Err()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// rows: the op, the unit whose median is shown, and how to print it.
var rows = []struct{ op, unit, label string }{
	{"Send", "ns/op", "Send 700 B, ns/msg"},
	{"Receive", "ns/op", "Receive 450 B, ns/msg"},
	{"PingPong", "ns/op", "Ping-pong, ns/round trip"},
	{"Idle", "B/conn", "Idle OPEN connection, B"},
}

func run(r io.Reader, w io.Writer) error {
	res, variants, header, err := parse(r)
	if err != nil {
		return err
	}
	const floor = "tcp"
	rounds := 0
	fmt.Fprintf(w, "| | %s |\n|---|%s\n", strings.Join(variants, " | "), strings.Repeat("---|", len(variants)))
	for _, row := range rows {
		byVariant := res[row.op]
		if byVariant == nil {
			continue
		}
		base := 0.0
		if s := byVariant[floor][row.unit]; len(s) > 0 {
			base = median(s)
		}
		cells := make([]string, len(variants))
		for i, v := range variants {
			samples := byVariant[v][row.unit]
			if len(samples) == 0 {
				cells[i] = "–"
				continue
			}
			rounds = max(rounds, len(samples))
			m := median(samples)
			cell := strconv.FormatFloat(m, 'f', 0, 64)
			if base > 0 {
				cell += fmt.Sprintf(" (×%.2f)", m/base)
			}
			if a := byVariant[v]["allocs/op"]; len(a) > 0 && row.op != "Idle" {
				cell += fmt.Sprintf(", %g allocs", median(a))
			}
			cells[i] = cell
		}
		fmt.Fprintf(w, "| %s | %s |\n", row.label, strings.Join(cells, " | "))
	}
	fmt.Fprintf(w, "\nMedians of %d rounds; (×N) is the ratio to the raw-TCP floor, lower is better. %s\n",
		rounds, strings.Join(header, ", "))
	return nil
}
