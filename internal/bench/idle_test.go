package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// idleServerEnv makes the test binary an idle server (see runIdleServer).
const idleServerEnv = "SIPWS_BENCH_IDLE_SERVER"

// idleKeepAlive is the keepalive interval of the idle sipws transports: its
// timers are armed, as in production, and no ping falls due during the
// measurement.
const idleKeepAlive = 30 * time.Second

// BenchmarkIdle: an op opens one connection that then stays idle and OPEN
// (the plain clients with one reader goroutine parked on it, as any
// receiving client has; sipws with its keepalive schedule armed). The
// metrics are the heap and goroutine stacks each one holds, after garbage
// collection. The server runs in a child process so only the client's
// memory is counted. bash .ci/bench runs it with 2000 connections.
func BenchmarkIdle(b *testing.B) {
	wsURL, tcpAddr := startIdleServer(b)
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			addr := tcpAddr
			if v.ws {
				addr = wsURL
			}
			clients := make([]client, 0, b.N)
			var readers sync.WaitGroup
			defer func() {
				for _, c := range clients {
					c.close()
				}
				readers.Wait()
			}()
			before := memory()
			for range b.N {
				c, err := v.dial(addr, idleKeepAlive)
				if err != nil {
					b.Fatalf("connection %d: %v", len(clients), err)
				}
				clients = append(clients, c)
				if _, ok := c.(*sipwsClient); !ok {
					readers.Go(func() { c.recv(1) }) // parked until close
				}
			}
			b.StopTimer()
			time.Sleep(100 * time.Millisecond) // let every reader park
			after := memory()
			heap := float64(after.heap-before.heap) / float64(b.N)
			stack := float64(after.stack-before.stack) / float64(b.N)
			b.ReportMetric(heap, "heap-B/conn")
			b.ReportMetric(stack, "stack-B/conn")
			b.ReportMetric(heap+stack, "B/conn")
		})
	}
}

type mem struct{ heap, stack int64 }

// memory returns the live heap and the stacks in use, after collecting
// enough times for idle goroutine stacks to shrink to what they use.
func memory() mem {
	for range 4 {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return mem{int64(ms.HeapAlloc), int64(ms.StackInuse)}
}

// startIdleServer runs this test binary as an idle server in a child
// process and returns its ws URL and raw-TCP address.
func startIdleServer(b *testing.B) (wsURL, tcpAddr string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), idleServerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close() // the server exits when its stdin ends
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if _, err2 := fmt.Sscan(line, &wsURL, &tcpAddr); err != nil || err2 != nil {
		b.Fatalf("idle server: %q: %v %v", line, err, err2)
	}
	return wsURL, tcpAddr
}

// runIdleServer serves idle connections, ws and raw TCP, until stdin ends:
// it answers CRLF keepalive pings and otherwise only reads.
func runIdleServer() int {
	wsLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tcpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("ws://%s/ %s\n", wsLn.Addr(), tcpLn.Addr())
	go serveIdle(wsLn, true)
	go serveIdle(tcpLn, false)
	io.Copy(io.Discard, os.Stdin)
	return 0
}

func serveIdle(ln net.Listener, isWS bool) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			if !isWS {
				io.Copy(io.Discard, c)
				return
			}
			if _, err := upgrader.Upgrade(c); err != nil {
				return
			}
			br := bufio.NewReader(c)
			pong := ws.MustCompileFrame(ws.NewTextFrame([]byte("\r\n")))
			for {
				h, err := ws.ReadHeader(br)
				if err != nil || h.OpCode == ws.OpClose {
					return
				}
				p := make([]byte, h.Length)
				if _, err := io.ReadFull(br, p); err != nil {
					return
				}
				ws.Cipher(p, h.Mask, 0)
				if bytes.Equal(p, []byte("\r\n\r\n")) {
					c.Write(pong)
				}
			}
		}()
	}
}
