package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sipws/sipws/conformance/sipserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runFor runs the command with args, bounded in time, and returns what it
// printed.
func runFor(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errs bytes.Buffer
	err = run(ctx, args, &out, &errs)
	return out.String(), errs.String(), err
}

// wantInOrder fails t unless every pattern matches a line of out, each on a
// later line than the one before.
func wantInOrder(t *testing.T, out string, patterns ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, p := range patterns {
		re := regexp.MustCompile(p)
		for i < len(lines) && !re.MatchString(lines[i]) {
			i++
		}
		if i == len(lines) {
			t.Fatalf("no line matching %q (in this order) in:\n%s", p, out)
		}
		i++
	}
}

// The demo shows, in order: OPEN on the primary, both answers, a keepalive
// round trip, the primary lost, its retries failing, the failover, OPEN on
// the secondary, its answer, and a clean close. With each backend.
func TestDemo(t *testing.T) {
	for _, backend := range []string{"ws", "gobwas"} {
		t.Run(backend, func(t *testing.T) {
			out, errs, err := runFor(t, "-backend", backend, "-keepalive", "300ms")
			if err != nil {
				t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, out, errs)
			}
			wantInOrder(t, out,
				`^sipws demo, backend `+backend,
				`status +CLOSED -> CONNECTING`,
				`status +CONNECTING -> OPEN`,
				`connected .*\(primary\)`,
				`-> +OPTIONS sip:127\.0\.0\.1 SIP/2\.0`,
				`answer +OPTIONS 200 OK`,
				`answer +REGISTER 200 OK`,
				`-> +CRLF CRLF \(keepalive ping\)`,
				`<- +CRLF \(keepalive pong\)`,
				`lost .*\(primary\): .*1006`,
				`dial +failed`,
				`failover .*\(primary\) is marked in error`,
				`connected .*\(secondary\)`,
				`answer +OPTIONS 200 OK`,
				`status +OPEN -> CLOSING`,
				`status +CLOSING -> CLOSED`,
				`closed .*\(secondary\), by Disconnect`,
				`stats .* failovers 1$`,
			)
			if errs != "" {
				t.Errorf("stderr not empty:\n%s", errs)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	s, err := sipserver.Start(sipserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, errs, err := runFor(t, "-servers", s.URL(), "-user", "bob", "-keepalive", "100ms", "-duration", "300ms")
	if err != nil {
		t.Fatalf("probe: %v\n%s\n%s", err, out, errs)
	}
	wantInOrder(t, out, `^sipws probe, backend ws, domain 127\.0\.0\.1`, `connected`,
		`answer +OPTIONS 200 OK`, `answer +REGISTER 200 OK`, `keepalive pong`, `closed .* by Disconnect`)
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].Header.Get("Sec-WebSocket-Protocol") != "sip" {
		t.Errorf("upgrade requests %+v, want one offering sip", reqs)
	}
}

func TestProbeNoAnswer(t *testing.T) {
	s, err := sipserver.Start(sipserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetAnswerSIP(false)
	out, _, err := runFor(t, "-servers", s.URL(), "-timeout", "200ms")
	if err == nil || !strings.Contains(err.Error(), "no final response to OPTIONS") {
		t.Fatalf("err = %v, want no final response to OPTIONS\n%s", err, out)
	}
}

func TestProbeJSONServersAndConfig(t *testing.T) {
	s, err := sipserver.Start(sipserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cfg := filepath.Join(t.TempDir(), "sipjs.json")
	if err := os.WriteFile(cfg, []byte(`{"wsServers": [{"wsUri": "`+s.URL()+`", "weight": 5}], "connectionTimeout": 2}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, err := runFor(t, "-config", cfg, "-backend", "gobwas")
	if err != nil {
		t.Fatalf("probe: %v\n%s\n%s", err, out, errs)
	}
	wantInOrder(t, out, `weight 5`, `answer +OPTIONS 200 OK`)

	out, errs, err = runFor(t, "-servers", `["`+s.URL()+`"]`)
	if err != nil {
		t.Fatalf("probe: %v\n%s\n%s", err, out, errs)
	}
	wantInOrder(t, out, `answer +OPTIONS 200 OK`)
}

func TestBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the error or stderr
	}{
		{"unknown backend", []string{"-backend", "nope"}, `unknown -backend "nope"`},
		{"extra argument", []string{"extra"}, `unexpected argument "extra"`},
		{"bad flag", []string{"-nope"}, "flag provided but not defined"},
		{"negative duration", []string{"-duration", "-1s"}, "not negative"},
		{"bad server URI", []string{"-servers", "http://x"}, "-servers"},
		{"bad JSON servers", []string{"-servers", "[1]"}, "-servers"},
		{"missing config", []string{"-config", "/nonexistent/sipjs.json"}, "no such file"},
		{"missing CA", []string{"-servers", "wss://127.0.0.1:1", "-ca", "/nonexistent.pem"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, err := runFor(t, tt.args...)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error()+errs, tt.want) {
				t.Errorf("error %v, stderr %q; want %q", err, errs, tt.want)
			}
		})
	}
	if _, _, err := runFor(t, "-backend", "nope"); !errors.Is(err, errUsage) {
		t.Errorf("bad flags: %v, want errUsage (exit 2)", err)
	}
}

func TestProbeConnectFails(t *testing.T) {
	s, err := sipserver.Start(sipserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url := s.URL()
	s.Close() // nothing listens there any more
	_, _, err = runFor(t, "-servers", url, "-timeout", "2s")
	if err == nil || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("err = %v, want a connect error", err)
	}
}
