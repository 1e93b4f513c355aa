// Command sipws runs the sipws SIP-over-WebSocket transport (RFC 7118) and
// shows what it does, line by line, with timestamps.
//
// With no arguments it runs the embedded demo: two loopback SIP WebSocket
// servers (weights 10 and 1) start in-process, a transport connects to the
// primary, sends OPTIONS and REGISTER and shows the answers and the CRLF
// keepalives, then the primary is stopped and the transport fails over to
// the secondary, and finally disconnects cleanly.
//
//	go run ./cmd/sipws
//	go run ./cmd/sipws -backend gobwas
//
// With -servers it probes real servers instead: connect, OPTIONS (and
// REGISTER with -user), keepalives for -duration, disconnect. The exit
// status is 0 only when every step got its answer.
//
//	go run ./cmd/sipws -servers wss://sip.example.com/ws -user alice -keepalive 10s -duration 30s
//
// -servers takes comma-separated ws:// or wss:// URIs, or SIP.js's
// wsServers JSON ('[{"wsUri":"wss://a/ws","weight":10},"wss://b/ws"]');
// -config reads a whole SIP.js transport configuration in JSON.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "sipws:", err)
		os.Exit(1)
	}
}

// run is the whole command, for tests: it parses args and runs the demo or
// the probe, writing the report to stdout and logs and usage to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.servers == "" && o.configFile == "" {
		return runDemo(ctx, o, stdout, stderr)
	}
	return runProbe(ctx, o, stdout, stderr)
}
