package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipws/sipws/selector"
)

// instances is how many Kamailio instances the tests use: 1 and 2 for
// failover, 3 with a short server keepalive.
const instances = 3

// Bounds on the scripts. Starting may install Debian packages first (about
// 2 s from a mirror, more on a slow one); stopping waits up to 10 s for
// Kamailio before it kills it.
const (
	startTimeout = 3 * time.Minute
	stopTimeout  = 20 * time.Second
)

// peers runs the Kamailio instances of one test through kamailio/start.sh
// and kamailio/stop.sh. Instances are numbered 1, 2... in the tests and
// mapped to the scripts' instances first, first+1... (SIPWS_KAMAILIO_INSTANCE).
type peers struct {
	dir     string // the kamailio directory holding the scripts
	base    string // KAMAILIO_BASEDIR: runtime files and the certificate
	first   int
	started map[int]bool // instances this test may have left running
	roots   *x509.CertPool
}

// needKamailio skips t unless SIPWS_KAMAILIO=1. With it set, a Kamailio that
// cannot be installed or started fails the test. Every instance started
// through the returned peers is stopped when t ends.
func needKamailio(t *testing.T) *peers {
	t.Helper()
	if os.Getenv("SIPWS_KAMAILIO") != "1" {
		t.Skip("integration tests against Kamailio are off: set SIPWS_KAMAILIO=1 to run them " +
			"(kamailio/start.sh installs Kamailio 5.6 with apt-get when it is missing)")
	}
	dir, err := filepath.Abs("kamailio")
	if err != nil {
		t.Fatal(err)
	}
	first := 1
	if s := os.Getenv("SIPWS_KAMAILIO_INSTANCE"); s != "" {
		first, err = strconv.Atoi(s)
		if err != nil || first < 1 || first > 10-instances {
			t.Fatalf("SIPWS_KAMAILIO_INSTANCE=%q: want 1..%d (the tests use that instance and the next %d)",
				s, 10-instances, instances-1)
		}
	}
	base := os.Getenv("KAMAILIO_BASEDIR")
	if base == "" {
		base = filepath.Join(os.TempDir(), "sipws-kamailio")
	}
	p := &peers{dir: dir, base: base, first: first, started: map[int]bool{}}
	t.Cleanup(func() {
		for i := range p.started {
			if _, err := p.run("stop.sh", i, stopTimeout); err != nil {
				t.Error(err) // go on: stop the others too
			}
		}
	})
	// An earlier run killed before its cleanup may have left our own
	// instances behind (stop.sh only signals the PID in our pid file).
	for i := 1; i <= instances; i++ {
		p.down(t, i)
	}
	return p
}

// instance maps a test's instance number to the scripts' one.
func (p *peers) instance(i int) int { return p.first + i - 1 }

// up starts instance i unless it is running, and returns once its ws and
// wss ports serve. env holds settings for start.sh ("NAME=value"); they
// apply only when the instance is not running yet.
func (p *peers) up(t *testing.T, i int, env ...string) {
	t.Helper()
	p.started[i] = true
	took, err := p.run("start.sh", i, startTimeout, env...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kamailio %d up in %v", p.instance(i), took.Round(time.Millisecond))
}

// down stops instance i if it is running, and returns once it has exited.
func (p *peers) down(t *testing.T, i int) {
	t.Helper()
	took, err := p.run("stop.sh", i, stopTimeout)
	if err != nil {
		t.Fatal(err)
	}
	delete(p.started, i)
	if took > 300*time.Millisecond {
		t.Logf("kamailio %d down in %v", p.instance(i), took.Round(time.Millisecond))
	}
}

// run runs one script for instance i, bounded by timeout. Its error holds
// the script's output.
func (p *peers) run(script string, i int, timeout time.Duration, env ...string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(p.dir, script), strconv.Itoa(p.instance(i)))
	// The last value of a variable wins: settings of a manual run in the
	// environment must not move the files the tests look for.
	cmd.Env = append(os.Environ(), "KAMAILIO_BASEDIR="+p.base, "KAMAILIO_RUNDIR=",
		"KAMAILIO_CERTDIR="+filepath.Join(p.base, "certs"), "KAMAILIO_FG=", "KAMAILIO_START_TIMEOUT=20")
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("kamailio/%s %d failed after %v: %w\n%s", script, p.instance(i),
			took.Round(time.Millisecond), err, strings.TrimSpace(out.String()))
	}
	return took, nil
}

// uri returns the ws or wss URI of instance i.
func (p *peers) uri(i int, scheme string) string {
	port := 18080
	if scheme == "wss" {
		port = 18443
	}
	return fmt.Sprintf("%s://127.0.0.1:%d/", scheme, port+p.instance(i)-1)
}

// server returns instance i as a selector.Server of the given weight.
func (p *peers) server(t *testing.T, i int, scheme string, weight int) selector.Server {
	t.Helper()
	s, err := selector.ParseServer(p.uri(i, scheme), weight)
	if err != nil {
		t.Fatalf("ParseServer(%q): %v", p.uri(i, scheme), err)
	}
	return s
}

// tlsConfig trusts the instances' self-signed certificate as a root, so
// wss is verified for real (never InsecureSkipVerify). start.sh generates
// it, so call this after up.
func (p *peers) tlsConfig(t *testing.T) *tls.Config {
	t.Helper()
	if p.roots == nil {
		file := filepath.Join(p.base, "certs", "kamailio-cert.pem")
		pem, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("the Kamailio certificate: %v", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			t.Fatalf("%s: no certificate in it", file)
		}
		p.roots = roots
	}
	return &tls.Config{RootCAs: p.roots, MinVersion: tls.VersionTLS12}
}
