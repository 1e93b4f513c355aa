package main

import (
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

	"github.com/sipws/sipws/internal/sipua"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/transport"
)

// runProbe connects to real servers, sends OPTIONS (and REGISTER with
// -user), keeps the flow up for -duration and disconnects. It fails when a
// step gets no answer; any final response counts as an answer (the probe
// does not authenticate, so a 401 to REGISTER is reported, not retried).
func runProbe(ctx context.Context, o options, stdout, stderr io.Writer) (err error) {
	cfg, err := probeConfig(o)
	if err != nil {
		return err
	}
	r := newReport(stdout)
	cfg.Events = r.events()
	cfg.Logger = logger(o, stderr)
	cfg.TraceSIP = cfg.TraceSIP || o.trace
	tr, err := transport.NewBase(cfg, &tap{d: backends[o.backend](), r: r})
	if err != nil {
		return err
	}
	cfg = tr.Config()
	domain := o.domain
	if domain == "" {
		domain = cfg.Servers[0].Host()
	}
	fmt.Fprintf(stdout, "sipws probe, backend %s, domain %s\n", o.backend, domain)
	for _, s := range cfg.Servers {
		fmt.Fprintf(stdout, "  %s  weight %d\n", s.URI, s.Weight)
	}
	fmt.Fprintln(stdout)
	defer func() { err = errors.Join(err, disconnect(r, tr, o.timeout)) }()

	secure := strings.HasPrefix(cfg.Servers[0].URI, "wss:")
	ua := sipua.New(o.user, domain, secure)
	if o.user == "" {
		ua.User = "sipws-probe"
	}
	ua.UserAgent = "sipws-probe"
	if err := connect(ctx, tr, o.timeout); err != nil {
		return err
	}
	if _, err := transact(ctx, r, tr, ua.Options(), o.timeout); err != nil {
		return err
	}
	if o.user != "" {
		if _, err := transact(ctx, r, tr, ua.Register(600), o.timeout); err != nil {
			return err
		}
	}
	if o.duration > 0 {
		r.printf("staying connected for %v", o.duration)
		select {
		case <-time.After(o.duration):
		case <-ctx.Done():
		}
	}
	return nil
}

// probeConfig builds the transport configuration from -config, -servers,
// -keepalive and -ca.
func probeConfig(o options) (transport.Config, error) {
	var cfg transport.Config
	if o.configFile != "" {
		b, err := os.ReadFile(o.configFile)
		if err != nil {
			return cfg, err
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			return cfg, fmt.Errorf("%s: %w", o.configFile, err)
		}
	}
	if o.servers != "" {
		servers, err := parseServers(o.servers)
		if err != nil {
			return cfg, fmt.Errorf("-servers: %w", err)
		}
		cfg.Servers = servers
	}
	if o.keepAlive > 0 {
		cfg.KeepAliveInterval = o.keepAlive
	}
	if cfg.ConnectionTimeout == 0 {
		cfg.ConnectionTimeout = o.timeout
	}
	if o.caFile != "" {
		roots, err := x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		pem, err := os.ReadFile(o.caFile)
		if err != nil {
			return cfg, err
		}
		if !roots.AppendCertsFromPEM(pem) {
			return cfg, fmt.Errorf("-ca %s: no PEM certificate in it", o.caFile)
		}
		cfg.Dial.TLSConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return cfg, nil
}

// parseServers reads -servers: SIP.js wsServers JSON when it starts like
// JSON, comma-separated URIs otherwise.
func parseServers(s string) (selector.Servers, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") || strings.HasPrefix(s, `"`) {
		var servers selector.Servers
		err := json.Unmarshal([]byte(s), &servers)
		return servers, err
	}
	return selector.Parse(strings.Split(s, ",")...)
}
