package main

import (
	"bytes"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const sample = `goos: linux
cpu: AMD EPYC
BenchmarkSend/tcp-2   	  320720	      3000 ns/op	 190.24 MB/s	       0 B/op	       0 allocs/op
BenchmarkSend/gobwas-2          	  305175	      3300 ns/op	 172.59 MB/s	       0 B/op	       0 allocs/op
BenchmarkSend/tcp-2   	  320720	      4000 ns/op	 190.24 MB/s	       0 B/op	       0 allocs/op
BenchmarkSend/gobwas-2          	  305175	      4300 ns/op	 172.59 MB/s	       0 B/op	       0 allocs/op
BenchmarkSend/tcp-2   	  320720	      5000 ns/op	 190.24 MB/s	       0 B/op	       0 allocs/op
BenchmarkSend/gobwas-2          	  305175	      9000 ns/op	 172.59 MB/s	       48 B/op	       1 allocs/op
BenchmarkIdle/tcp-2                      	   2000	     97579 ns/op	     7000 B/conn	     5000 heap-B/conn	      2000 stack-B/conn
BenchmarkIdle/gobwas-2                   	   2000	    174338 ns/op	     7700 B/conn	     5700 heap-B/conn	      2000 stack-B/conn
goos: linux
cpu: AMD EPYC
PASS
`

func TestTable(t *testing.T) {
	var out bytes.Buffer
	if err := run(strings.NewReader(sample), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"| | tcp | gobwas |",
		"| Send 700 B, ns/msg | 4000 (×1.00), 0 allocs | 4300 (×1.07), 0 allocs |", // medians, not means
		"| Idle OPEN connection, B | 7000 (×1.00) | 7700 (×1.10) |",
		"Medians of 3 rounds",
		"goos linux, cpu AMD EPYC\n", // once, though every round repeats it
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

func TestNoResults(t *testing.T) {
	if err := run(strings.NewReader("PASS\n"), new(bytes.Buffer)); err == nil {
		t.Error("no error for an input without results")
	}
}
