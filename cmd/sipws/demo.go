package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/internal/sipua"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/transport"
)

// The demo's timings: short enough to watch, long enough to read.
const (
	demoKeepAlive           = 2 * time.Second
	demoReconnectionTimeout = 500 * time.Millisecond
	demoReconnections       = 2
	demoFailback            = time.Second
)

// runDemo starts two loopback servers, then shows connect, requests,
// keepalives, failover, failback and a clean disconnect.
func runDemo(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	r := newReport(stdout)
	primary, err := sipserver.Start(sipserver.Options{Name: "primary"})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, primary.Close()) }() // idempotent: the demo stops it early
	secondary, err := sipserver.Start(sipserver.Options{Name: "secondary"})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, secondary.Close()) }()

	servers, err := selector.Servers{{URI: primary.URL(), Weight: 10}, {URI: secondary.URL(), Weight: 1}}.Normalize()
	if err != nil {
		return err
	}
	r.label(servers[0].URI, "primary")
	r.label(servers[1].URI, "secondary")
	keep := o.keepAlive
	if keep == 0 {
		keep = demoKeepAlive
	}
	cfg := transport.Config{
		Servers:                 servers,
		ConnectionTimeout:       o.timeout,
		ReconnectionTimeout:     demoReconnectionTimeout,
		MaxReconnectionAttempts: demoReconnections,
		FailbackInterval:        demoFailback,
		KeepAliveInterval:       keep,
		KeepAlivePongTimeout:    keep,
		TraceSIP:                o.trace,
		Logger:                  logger(o, o.trace, stderr),
		Events:                  r.events(),
	}
	tr, err := transport.NewBase(cfg, &tap{d: backends[o.backend](), r: r})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sipws demo, backend %s: two loopback SIP-over-WebSocket servers and one transport\n", o.backend)
	fmt.Fprintf(stdout, "  primary   %s  weight 10\n  secondary %s  weight 1\n", servers[0].URI, servers[1].URI)
	fmt.Fprintf(stdout, "  keepalive every %v (period drawn in [0.8, 1) of it), pong timeout %v; %d reconnection attempts, %v apart (±50%%); failback probes every %v\n\n",
		keep, keep, demoReconnections, demoReconnectionTimeout, demoFailback)
	defer func() { err = errors.Join(err, disconnect(r, tr, o.timeout)) }()

	ua := sipua.New("alice", "127.0.0.1", false)
	ua.UserAgent = "sipws-demo"
	step := func(what string) { r.printf("---------- %s", what) }

	step("connect: the highest weight first")
	if err := connect(ctx, tr, o.timeout); err != nil {
		return err
	}
	step("OPTIONS and REGISTER")
	if _, _, err := transact(ctx, r, tr, ua.Options(), "OPTIONS", o.timeout); err != nil {
		return err
	}
	if _, _, err := transact(ctx, r, tr, ua.Register(600), "REGISTER", o.timeout); err != nil {
		return err
	}
	step("a CRLF keepalive round trip")
	if err := awaitPong(ctx, r, 2*keep); err != nil {
		return err
	}

	step("stopping the primary: reconnection attempts, then failover")
	primary.SetHandshake(sipserver.HandshakeCloseTCP) // down: every connection cut at once
	primary.DropAll()
	if err := awaitServer(ctx, r, servers[1].URI, o.timeout+demoReconnections*demoReconnectionTimeout); err != nil {
		return err
	}
	step("the secondary answers")
	if _, _, err := transact(ctx, r, tr, ua.Options(), "OPTIONS", o.timeout); err != nil {
		return err
	}
	if err := awaitPong(ctx, r, 2*keep); err != nil {
		return err
	}
	step("the primary is back: failback, make-before-break, and a new REGISTER there")
	primary.SetHandshake(sipserver.HandshakeAccept)
	if err := awaitServer(ctx, r, servers[0].URI, demoFailback+o.timeout); err != nil {
		return err
	}
	if _, _, err := transact(ctx, r, tr, ua.Register(600), "REGISTER", o.timeout); err != nil {
		return err
	}
	step("Disconnect: close 1000, no reconnection")
	return nil
}

// connect connects tr, bounded by timeout.
func connect(ctx context.Context, tr transport.Transport, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := tr.Connect(ctx); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	return nil
}

// awaitServer waits, at most timeout, until the transport is OPEN on uri.
func awaitServer(ctx context.Context, r *report, uri string, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		select {
		case s := <-r.connected:
			if s.URI == uri {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("not connected to %s within %v", uri, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// logger returns the transport's logger on stderr. Errors always show;
// with showSIP (-trace, or traceSip in the config) the SIP trace lines
// (Trace level, "SIP sending", "SIP received"...) show; with -v the other
// lines do (Debug, Info, Warn, and with showSIP the other Trace lines).
// Without -v the report already shows every event the other lines would
// repeat.
func logger(o options, showSIP bool, stderr io.Writer) hclog.Logger {
	opts := &hclog.LoggerOptions{Name: "sipws", Level: hclog.Error, Output: stderr}
	switch {
	case showSIP && o.verbose:
		opts.Level = hclog.Trace
	case showSIP:
		opts.Level = hclog.Trace
		opts.Exclude = func(level hclog.Level, msg string, _ ...any) bool {
			return level < hclog.Error && !(level == hclog.Trace && strings.HasPrefix(msg, "SIP "))
		}
	case o.verbose:
		opts.Level = hclog.Debug
	}
	return hclog.New(opts)
}
