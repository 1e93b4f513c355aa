package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"
)

// errUsage is returned for bad command-line arguments; the message has
// been printed already.
var errUsage = errors.New("usage")

// options are the command-line settings.
type options struct {
	backend    string
	servers    string
	configFile string
	user       string
	domain     string
	caFile     string
	keepAlive  time.Duration
	duration   time.Duration
	timeout    time.Duration
	trace      bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("sipws", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.backend, "backend", "ws", "socket backend: "+backendNames())
	fs.StringVar(&o.servers, "servers", "", "probe these servers instead of the demo: comma-separated ws:// or wss:// URIs, or SIP.js wsServers JSON")
	fs.StringVar(&o.configFile, "config", "", "a SIP.js transport configuration in JSON (wsServers, connectionTimeout, keepAliveInterval, ...)")
	fs.StringVar(&o.user, "user", "", "probe: also REGISTER as this user")
	fs.StringVar(&o.domain, "domain", "", "probe: the SIP domain of OPTIONS and REGISTER (default: the first server's host)")
	fs.StringVar(&o.caFile, "ca", "", "probe: PEM file of root certificates to trust for wss, in addition to the system's")
	fs.DurationVar(&o.keepAlive, "keepalive", 0, "CRLF keepalive interval (demo default 2s; probe default: the config's, or off)")
	fs.DurationVar(&o.duration, "duration", 0, "probe: stay connected this long after the requests, showing keepalives")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "the longest wait for a connection or an answer")
	fs.BoolVar(&o.trace, "trace", false, "log every SIP message sent and received (TraceSIP) to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sipws [flags]\n\nWith no flags: the embedded demo (two loopback servers, failover, keepalives).\nWith -servers or -config: probe real servers.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sipws: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return o, errUsage
	}
	if _, ok := backends[o.backend]; !ok {
		fmt.Fprintf(stderr, "sipws: unknown -backend %q (want %s)\n", o.backend, backendNames())
		return o, errUsage
	}
	if o.timeout <= 0 || o.keepAlive < 0 || o.duration < 0 {
		fmt.Fprintln(stderr, "sipws: -timeout must be positive, -keepalive and -duration not negative")
		return o, errUsage
	}
	return o, nil
}
