package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipws/sipws/internal/sipua"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/transport"
)

// runProbe connects to real servers, sends OPTIONS (and REGISTER with
// -user), keeps the flow up for -duration, removes the registration and
// disconnects. It fails when no server connects, or a step gets no final
// response, or one outside -expect. Without -expect any final response
// counts as an answer (the probe does not authenticate, so a 401 to
// REGISTER is reported, not retried).
func runProbe(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	cfg, err := probeConfig(o)
	if err != nil {
		return err
	}
	r := newReport(stdout)
	cfg.Events = r.events()
	cfg.Logger = logger(o, o.trace || cfg.TraceSIP, stderr)
	cfg.TraceSIP = o.trace || cfg.TraceSIP
	tr, err := transport.NewBase(cfg, &tap{d: backends[o.backend](), r: r})
	if err != nil {
		if o.configFile != "" {
			return usageError{prefixLines(o.configFile+": ", err)}
		}
		return usageError{err}
	}
	defer func() { err = errors.Join(err, disconnect(r, tr, o.timeout)) }()
	cfg = tr.Config()
	domain := o.domain
	if domain == "" {
		domain = cfg.Servers[0].Host()
		if strings.Contains(domain, ":") {
			domain = "[" + domain + "]" // an IPv6 address
		}
	}
	fmt.Fprintf(stdout, "sipws probe, backend %s, domain %s\n", o.backend, domain)
	for _, s := range cfg.Servers {
		fmt.Fprintf(stdout, "  %s  weight %d\n", s.URI, s.Weight)
	}
	fmt.Fprintln(stdout)

	secure := strings.HasPrefix(cfg.Servers[0].URI, "wss:")
	ua := sipua.New(o.user, domain, secure)
	if o.user == "" {
		ua.User = "sipws-probe"
	}
	ua.UserAgent = "sipws-probe"
	if err := connectAll(ctx, r, tr, cfg); err != nil {
		return err
	}
	if err := ask(ctx, r, tr, ua.Options(), "OPTIONS", o); err != nil {
		return err
	}
	if o.user != "" {
		reg := ua.Register(600)
		code, reason, err := transact(ctx, r, tr, reg, "REGISTER", o.timeout)
		if code >= 200 && code < 300 {
			// Registered: the binding is removed whatever happens next,
			// interruption included, so that no dead contact stays.
			defer func() { err = errors.Join(err, unregister(ctx, r, tr, ua, reg, o)) }()
		}
		if err == nil {
			err = o.expect.check("REGISTER", code, reason)
		}
		if err != nil {
			return err
		}
	}
	if o.duration > 0 {
		r.printf("staying connected for %v", o.duration)
		select {
		case <-time.After(o.duration):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// ask sends req, waits for its final response and checks it against
// -expect.
func ask(ctx context.Context, r *report, tr transport.Transport, req sipua.Request, what string, o options) error {
	code, reason, err := transact(ctx, r, tr, req, what, o.timeout)
	if err != nil {
		return err
	}
	return o.expect.check(what, code, reason)
}

// check returns an error unless code satisfies e.
func (e expectation) check(what string, code int, reason string) error {
	if e.met(code) {
		return nil
	}
	return fmt.Errorf("%s answered %d %s, want %s", what, code, reason, e.text)
}

// unregister removes the binding reg made (RFC 3261 §10.2.2): the same
// Call-ID and Contact, a higher CSeq, Expires: 0. It runs after the probe
// ended, interrupted or not, bounded by -timeout.
func unregister(ctx context.Context, r *report, tr transport.Transport, ua *sipua.UA, reg sipua.Request, o options) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.timeout)
	defer cancel()
	req := ua.NewRequest("REGISTER", sipua.Fields{RURI: "sip:" + ua.Domain, To: ua.AOR(), Extra: []string{"Expires: 0"}})
	req.Raw = bytes.Replace(req.Raw, []byte("\r\nCall-ID: "+req.CallID+"\r\n"), []byte("\r\nCall-ID: "+reg.CallID+"\r\n"), 1)
	req.CallID = reg.CallID
	return ask(ctx, r, tr, req, "REGISTER (Expires: 0)", o)
}

// connectAll connects tr, waiting until every server has been tried as
// configured (passTime): when all fail, the error names each server with
// its last error.
func connectAll(ctx context.Context, r *report, tr transport.Transport, cfg transport.Config) error {
	wait := passTime(cfg)
	cctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	err := tr.Connect(cctx)
	var ce *transport.ConnectError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		var parts []string
		for _, s := range ce.Servers {
			parts = append(parts, s.Server.URI+": "+s.Err.Error())
		}
		return errors.New("connect: no server answered: " + strings.Join(parts, "; "))
	case ctx.Err() != nil:
		return ctx.Err() // interrupted
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("connect: not OPEN within %v: %s", wait.Round(time.Millisecond), r.lastErrors(cfg.Servers))
	}
	return fmt.Errorf("connect: %w", err)
}

// passTime bounds one pass over the servers as cfg schedules it (see
// transport.Config): for each server, the spread before its first dial,
// its attempts at ConnectionTimeout each, and the waits between them, all
// at their longest; plus a second for scheduling.
func passTime(cfg transport.Config) time.Duration {
	jitter := max(cfg.ReconnectionJitter, 0)
	spread := time.Duration(jitter * float64(cfg.ReconnectionTimeout) / 4) // the first retry, or a failover's first dial
	retries := time.Duration(max(cfg.MaxReconnectionAttempts, 0))
	perServer := spread + (1+retries)*cfg.ConnectionTimeout
	if retries > 0 {
		perServer += spread + (retries-1)*time.Duration((1+jitter)*float64(cfg.ReconnectionTimeout))
	}
	return time.Duration(len(cfg.Servers))*(perServer+100*time.Millisecond) + time.Second
}

// probeConfig builds the transport configuration from -config, -servers,
// -keepalive and -ca. Every error is a usageError naming its source.
func probeConfig(o options) (transport.Config, error) {
	var cfg transport.Config
	if o.configFile != "" {
		var err error
		if cfg, err = loadConfig(o.configFile); err != nil {
			return cfg, err
		}
	}
	if o.servers != "" {
		servers, err := parseServers(o.servers)
		if err != nil {
			return cfg, usageError{prefixLines("-servers: ", err)}
		}
		cfg.Servers = servers
	}
	if o.keepAliveSet {
		cfg.KeepAliveInterval = o.keepAlive // 0 turns a configured keepalive off
	}
	if cfg.ConnectionTimeout == 0 {
		cfg.ConnectionTimeout = o.timeout
	}
	if cfg.MaxReconnectionAttempts == 0 {
		cfg.MaxReconnectionAttempts = -1 // a probe tries each server once
	}
	if o.caFile != "" {
		roots, err := x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return cfg, usagef("-ca %s: %v", o.caFile, err)
		}
		if !roots.AppendCertsFromPEM(pem) {
			return cfg, usagef("-ca %s: no PEM certificate in it", o.caFile)
		}
		cfg.Dial.TLSConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}

// loadConfig reads a SIP.js configuration file. A JSON syntax error is
// reported as FILE:LINE:COLUMN; every other problem is one line per
// invalid option, each naming the file.
func loadConfig(name string) (transport.Config, error) {
	var cfg transport.Config
	b, err := os.ReadFile(name)
	if err != nil {
		return cfg, usagef("-config %s: %v", name, err)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark, as some editors write
	if err := json.Unmarshal(b, &cfg); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			at := syn.Offset - 1 // the byte that stopped the decoder
			if syn.Offset >= int64(len(b)) && strings.Contains(syn.Error(), "end of JSON input") {
				at = int64(len(b)) // just after the last byte
			}
			line, col := position(b, at)
			return cfg, usagef("%s:%d:%d: %v", name, line, col, syn)
		}
		return cfg, usageError{prefixLines(name+": ", err)}
	}
	return cfg, nil
}

// position returns the line and column, from 1, of byte at of b; columns
// count characters.
func position(b []byte, at int64) (line, col int) {
	before := b[:min(max(at, 0), int64(len(b)))]
	start := bytes.LastIndexByte(before, '\n') + 1
	return bytes.Count(before, []byte("\n")) + 1, utf8.RuneCount(before[start:]) + 1
}

// parseServers reads -servers: SIP.js wsServers JSON when it starts like
// JSON (a list, a string, or one {"wsUri", "weight"} object), and
// comma-separated URIs otherwise.
func parseServers(s string) (selector.Servers, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "{"):
		s = "[" + s + "]" // one server
		fallthrough
	case strings.HasPrefix(s, "[") || strings.HasPrefix(s, `"`):
		if !json.Valid([]byte(s)) {
			return nil, errors.New("not valid JSON")
		}
		var servers selector.Servers
		err := json.Unmarshal([]byte(s), &servers)
		return servers, err
	}
	uris := strings.Split(s, ",")
	for i := range uris {
		uris[i] = strings.TrimSpace(uris[i])
	}
	return selector.Parse(uris...)
}

// linesError prefixes every line of an error (errors.Join puts one error
// per line), so that each names where it comes from.
type linesError struct {
	prefix string
	err    error
}

func prefixLines(prefix string, err error) error { return linesError{prefix, err} }

func (e linesError) Error() string {
	lines := strings.Split(e.err.Error(), "\n")
	for i := range lines {
		lines[i] = e.prefix + lines[i]
	}
	return strings.Join(lines, "\n")
}

func (e linesError) Unwrap() error { return e.err }
