package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// errUsage is returned for bad command-line arguments whose message, and
// the usage text, the flag package has printed already.
var errUsage = errors.New("usage")

// options are the command-line settings.
type options struct {
	backend    string
	servers    string
	configFile string
	user       string
	domain     string
	caFile     string
	expect     expectation
	keepAlive  time.Duration
	duration   time.Duration
	timeout    time.Duration
	trace      bool
	verbose    bool

	probe        bool // -servers or -config given: probe instead of the demo
	keepAliveSet bool // -keepalive given, 0 included: it overrides the config
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("sipws", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.backend, "backend", "ws", "socket backend: "+backendNames())
	fs.StringVar(&o.servers, "servers", "", "probe these servers instead of the demo: comma-separated ws:// or wss:// URIs, or SIP.js wsServers JSON (a list, or one {\"wsUri\", \"weight\"} object)")
	fs.StringVar(&o.configFile, "config", "", "probe with a SIP.js configuration in JSON: 0.1x transport options (wsServers...), 0.16+ ones (server...), or a whole UA configuration with transportOptions")
	fs.StringVar(&o.user, "user", "", "probe: also REGISTER as this user, and remove the registration at the end (Expires: 0)")
	fs.StringVar(&o.domain, "domain", "", "probe: the SIP domain of OPTIONS and REGISTER, host[:port] (default: the first server's host)")
	fs.StringVar(&o.caFile, "ca", "", "probe: PEM file of root certificates to trust for wss, in addition to the system's")
	fs.Var(&o.expect, "expect", "probe: the class every final response must have, e.g. 2xx, or a code, e.g. 200 (default: any final response)")
	fs.DurationVar(&o.keepAlive, "keepalive", 0, "CRLF keepalive interval; 0 turns it off (demo default 2s; probe default: the config's, or off)")
	fs.DurationVar(&o.duration, "duration", 0, "probe: stay connected this long after the requests, showing keepalives")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "the longest wait for one connection attempt (unless the config sets connectionTimeout) and for one answer")
	fs.BoolVar(&o.trace, "trace", false, "log every SIP message sent and received (TraceSIP) to stderr")
	fs.BoolVar(&o.verbose, "v", false, "log the transport's Debug, Info and Warn lines to stderr as well")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sipws [flags]\n\nWith no flags: the embedded demo (two loopback servers, failover, keepalives).\nWith -servers or -config: probe real servers; exit status 0 when every step got its answer,\n1 when not, 2 for bad usage, 130 or 143 when interrupted.\n\n")
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
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.probe = set["servers"] || set["config"]
	o.keepAliveSet = set["keepalive"]

	// An empty value is a mistake (an unset shell variable), never "no
	// value": a health check must not report green without probing.
	for _, name := range []string{"servers", "config"} {
		if set[name] && strings.TrimSpace(fs.Lookup(name).Value.String()) == "" {
			return o, usagef("-%s is empty: give it a value, or leave it out to run the demo", name)
		}
	}
	if _, ok := backends[o.backend]; !ok {
		return o, usagef("unknown -backend %q (want %s)", o.backend, backendNames())
	}
	if o.timeout <= 0 || o.keepAlive < 0 || o.duration < 0 {
		return o, usagef("-timeout must be positive, -keepalive and -duration not negative")
	}
	if set["user"] && !isSIPUser(o.user) {
		return o, usagef("-user %q is not a SIP user part: letters, digits, -_.!~*'()&=+$,;?/ and %%XX escapes (RFC 3261 §25.1)", o.user)
	}
	if set["domain"] && !isSIPHostPort(o.domain) {
		return o, usagef("-domain %q is not a host name, IPv4 address or [IPv6] address, with an optional :port", o.domain)
	}
	return o, nil
}

// expectation is the -expect flag: a response class (2xx) or one code.
type expectation struct {
	text string
	lo   int // the lowest code that matches; 0: any final response
	hi   int
}

func (e *expectation) String() string { return e.text }

func (e *expectation) Set(s string) error {
	lo, hi := 0, 0
	switch {
	case len(s) == 3 && s[0] >= '2' && s[0] <= '6' && strings.EqualFold(s[1:], "xx"):
		lo = int(s[0]-'0') * 100
		hi = lo + 99
	default:
		n, err := strconv.Atoi(s)
		if err != nil || len(s) != 3 || n < 200 || n > 699 {
			return errors.New("want a final response class (2xx to 6xx) or code (200 to 699)")
		}
		lo, hi = n, n
	}
	*e = expectation{text: strings.ToLower(s), lo: lo, hi: hi}
	return nil
}

// met reports whether a final response with code satisfies e.
func (e expectation) met(code int) bool { return e.lo == 0 || (code >= e.lo && code <= e.hi) }

// isSIPUser reports whether s is a valid user part of a SIP URI (RFC 3261
// §25.1: unreserved, escaped and user-unreserved characters).
func isSIPUser(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-_.!~*'()&=+$,;?/", c) >= 0:
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// isSIPHostPort reports whether s is host[:port] as a SIP URI holds it
// (RFC 3261 §25.1): a host name, an IPv4 address or a bracketed IPv6
// address, and a port from 1 to 65535.
func isSIPHostPort(s string) bool {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		host = s[1:end]
		if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
			return false
		}
		if rest := s[end+1:]; rest != "" {
			if rest[0] != ':' || len(rest) == 1 {
				return false
			}
			port = rest[1:]
		}
	} else {
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i+1:]
			if port == "" {
				return false
			}
		}
		if !isHostName(host) {
			return false
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '+' {
			return false
		}
	}
	return true
}

// isHostName reports whether s is a host name or an IPv4 address: labels
// of letters, digits and inner hyphens, separated by dots.
func isHostName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
