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
// With -servers or -config it probes real servers instead, as a health
// check would: connect, OPTIONS (and REGISTER with -user, removed again
// with Expires: 0 at the end), keepalives for -duration, disconnect.
//
//	go run ./cmd/sipws -servers wss://sip.example.com/ws -user alice -keepalive 10s -duration 30s
//
// -servers takes comma-separated ws:// or wss:// URIs, or SIP.js's
// wsServers JSON ('[{"wsUri":"wss://a/ws","weight":10},"wss://b/ws"]', or
// one such object alone); -config reads a SIP.js configuration in JSON: a
// 0.1x transport configuration, 0.16+ transport options, or a whole UA
// configuration with "transportOptions" (see transport.Config.UnmarshalJSON).
// Flags given on the command line override the file; -keepalive 0 turns a
// configured keepalive off. Unless the file sets maxReconnectionAttempts,
// the probe tries each server once.
//
// Exit status:
//
//	0    every step got its answer (of the -expect class, when given)
//	1    the probe failed: no server connected, or a step got no answer or
//	     an unexpected one; the last line on stderr says why, with each
//	     server's last error when none connected
//	2    bad usage: a flag, its value, or the -config file is invalid; the
//	     probe did not touch any server
//	130  interrupted by SIGINT (Ctrl-C), 143 by SIGTERM: the probe still
//	     removes its registration and disconnects first
//
// -trace logs every SIP message sent and received to stderr (TraceSIP);
// -v logs the transport's other lines (Debug, Info, Warn). Errors are
// always logged.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		signal.Stop(sigs) // a second signal kills at once
		cancel(interrupted{s})
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// interrupted is the cause of main's context once a signal arrived.
type interrupted struct{ sig os.Signal }

func (i interrupted) Error() string { return "interrupted by " + signalName(i.sig) }

// status is the exit status of an interrupted command: 128 + the signal's
// number, as shells report it.
func (i interrupted) status() int {
	if s, ok := i.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// usageError is bad input: a flag, its value or the config file. The
// command exits with status 2 without touching any server.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// run is the whole command, for tests: it parses args, runs the demo or
// the probe, writes the report to stdout and logs, usage and the final
// verdict to stderr, and returns the exit status (see the package doc).
// When ctx is cancelled with an interrupted cause, the run stops, cleans
// up, and reports the interruption.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err == nil {
		if o.probe {
			err = runProbe(ctx, o, stdout, stderr)
		} else {
			err = runDemo(ctx, o, stdout, stderr)
		}
	}
	var intr interrupted
	if errors.As(context.Cause(ctx), &intr) {
		if err != nil && !errors.Is(err, context.Canceled) {
			printError(stderr, err)
		}
		fmt.Fprintln(stderr, "sipws:", intr)
		return intr.status()
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage): // printed already
		return 2
	}
	printError(stderr, err)
	if errors.As(err, new(usageError)) {
		return 2
	}
	return 1
}

// printError writes err to stderr, one "sipws: " line per line of it.
func printError(stderr io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(stderr, "sipws:", line)
	}
}
