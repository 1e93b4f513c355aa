package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// TestMain runs the command itself when a test starts this test binary as
// a child process (SIPWS_TEST_MAIN=1), so that signals and exit statuses
// are tested on a real process without building one.
func TestMain(m *testing.M) {
	if os.Getenv("SIPWS_TEST_MAIN") == "1" {
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

// result is what one run of the command gave.
type result struct {
	status         int
	stdout, stderr string
}

// lastLine is the last line on stderr: the verdict.
func (r result) lastLine() string {
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	return lines[len(lines)-1]
}

func (r result) String() string {
	return "exit status " + strconv.Itoa(r.status) + "\nstdout:\n" + r.stdout + "\nstderr:\n" + r.stderr
}

// runFor runs the command in-process with args, bounded in time.
func runFor(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errs bytes.Buffer
	status := run(ctx, args, &out, &errs)
	return result{status, out.String(), errs.String()}
}

// want fails t unless the run exited with status and its last stderr line
// matches the anchored pattern line.
func (r result) want(t *testing.T, status int, line string) {
	t.Helper()
	if r.status != status || !regexp.MustCompile(`^`+line+`$`).MatchString(r.lastLine()) {
		t.Fatalf("got %s\nwant exit status %d and a last stderr line matching %q", r, status, line)
	}
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

// startServer starts a loopback SIP WebSocket server for one test.
func startServer(t *testing.T, o sipserver.Options) *sipserver.Server {
	t.Helper()
	s, err := sipserver.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writeFile writes a file in the test's temporary directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sipRequests returns the SIP requests a server received, CRLF keepalives
// left out, parsed.
func sipRequests(t *testing.T, s *sipserver.Server) []*sipmsg.Message {
	t.Helper()
	var out []*sipmsg.Message
	for _, raw := range s.Received() {
		m := new(sipmsg.Message)
		if m.Parse(raw) == nil && m.IsRequest() {
			out = append(out, m)
		}
	}
	return out
}

// The demo shows, in order: OPEN on the primary, both answers, a keepalive
// round trip, the primary lost, its retries failing, the failover, OPEN on
// the secondary, its answer, the failback to the primary with no status
// change, a REGISTER there, and a clean close. With each backend.
func TestDemo(t *testing.T) {
	for _, backend := range []string{"ws", "gobwas"} {
		t.Run(backend, func(t *testing.T) {
			r := runFor(t, "-backend", backend, "-keepalive", "300ms")
			if r.status != 0 {
				t.Fatalf("demo: %v", r)
			}
			wantInOrder(t, r.stdout,
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
				`left .*\(secondary\): transport: moved to a better server \(failback\)`,
				`connected .*\(primary\)`,
				`answer +REGISTER 200 OK`,
				`status +OPEN -> CLOSING`,
				`status +CLOSING -> CLOSED`,
				`closed .*\(primary\), by Disconnect`,
				`stats .* failovers 1, failbacks 1$`,
			)
			if r.stderr != "" {
				t.Errorf("stderr not empty:\n%s", r.stderr)
			}
		})
	}
}

// A probe that gets every answer exits 0 with nothing on stderr; its
// REGISTER is removed at the end with Expires: 0, on the same Call-ID and
// Contact with a higher CSeq (RFC 3261 §10.2.2), so no dead contact stays.
func TestProbeRegistersAndUnregisters(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	r := runFor(t, "-servers", s.URL(), "-user", "bob", "-keepalive", "100ms", "-duration", "300ms", "-expect", "2xx")
	if r.status != 0 || r.stderr != "" {
		t.Fatalf("probe: %v", r)
	}
	wantInOrder(t, r.stdout, `^sipws probe, backend ws, domain 127\.0\.0\.1`, `connected`,
		`answer +OPTIONS 200 OK`, `answer +REGISTER 200 OK`, `keepalive pong`,
		`answer +REGISTER \(Expires: 0\) 200 OK`, `closed .* by Disconnect`)
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].Header.Get("Sec-WebSocket-Protocol") != "sip" {
		t.Errorf("upgrade requests %+v, want one offering sip", reqs)
	}
	var regs []*sipmsg.Message
	for _, m := range sipRequests(t, s) {
		if string(m.Method()) == "REGISTER" {
			regs = append(regs, m)
		}
	}
	if len(regs) != 2 {
		t.Fatalf("%d REGISTERs, want 2 (register, unregister)", len(regs))
	}
	reg, unreg := regs[0], regs[1]
	if got := string(unreg.Header("Expires")); got != "0" {
		t.Errorf("second REGISTER has Expires %q, want 0", got)
	}
	if string(reg.Header("Expires")) == "0" {
		t.Errorf("first REGISTER already has Expires: 0")
	}
	if a, b := string(reg.Header("Call-ID")), string(unreg.Header("Call-ID")); a != b {
		t.Errorf("Call-IDs %q and %q differ", a, b)
	}
	contact := func(m *sipmsg.Message) string {
		c, _, _ := strings.Cut(string(m.Header("Contact")), ";expires")
		return strings.TrimSuffix(c, ">") + ">"
	}
	if a, b := contact(reg), contact(unreg); a != b || !strings.Contains(b, "sip:bob@") {
		t.Errorf("Contacts %q and %q, want the same contact for bob", a, b)
	}
	if a, b := string(reg.Header("CSeq")), string(unreg.Header("CSeq")); a >= b {
		t.Errorf("CSeq %q then %q, want a higher one", a, b)
	}
}

// A server that accepts the connection but never answers: exit 1, and the
// step that got no answer is named.
func TestProbeNoAnswer(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	s.SetAnswerSIP(false)
	runFor(t, "-servers", s.URL(), "-timeout", "200ms").
		want(t, 1, `sipws: no final response to OPTIONS within 200ms`)
}

// -expect: a final response outside the class fails the probe (exit 1),
// naming the request, the answer and what was wanted.
func TestProbeExpect(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	runFor(t, "-servers", s.URL(), "-expect", "2xx").want(t, 0, ``)
	runFor(t, "-servers", s.URL(), "-expect", "200").want(t, 0, ``)
	runFor(t, "-servers", s.URL(), "-expect", "4xx").want(t, 1, `sipws: OPTIONS answered 200 OK, want 4xx`)
	runFor(t, "-servers", s.URL(), "-user", "bob", "-expect", "404").want(t, 1, `sipws: OPTIONS answered 200 OK, want 404`)
	r := runFor(t, "-servers", s.URL(), "-expect", "2yy")
	if r.status != 2 || !strings.Contains(r.stderr, `invalid value "2yy" for flag -expect: want a final response class (2xx to 6xx) or code (200 to 699)`) {
		t.Errorf("-expect 2yy: %v", r)
	}
}

// Nothing listens: the failure message carries the server's last error.
func TestProbeConnectionRefused(t *testing.T) {
	s, err := sipserver.Start(sipserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	url := s.URL()
	s.Close() // nothing listens there any more
	uri := strings.TrimSuffix(url, "/")
	runFor(t, "-servers", url, "-timeout", "2s").
		want(t, 1, `sipws: connect: no server answered: `+regexp.QuoteMeta(uri+"/")+`: .*connection refused`)
}

// Two servers down: each one is named with its own last error, in the
// order they were tried.
func TestProbeEveryServerNamed(t *testing.T) {
	refused, err := sipserver.Start(sipserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	refused.Close()
	busy := startServer(t, sipserver.Options{})
	busy.SetHandshake(sipserver.HandshakeRefuse)
	servers := `[{"wsUri": "` + refused.URL() + `", "weight": 2}, "` + busy.URL() + `"]`
	runFor(t, "-servers", servers, "-backend", "gobwas").
		want(t, 1, `sipws: connect: no server answered: `+regexp.QuoteMeta(refused.URL())+`: .*connection refused; `+
			regexp.QuoteMeta(busy.URL())+`: .*503.*`)
	// A probe tries each server once, unless the config asks for retries.
	if n := busy.Handshakes(); n != 1 {
		t.Errorf("%d handshakes, want 1", n)
	}
	cfg := writeFile(t, "retry.json", `{"wsServers": "`+busy.URL()+`", "maxReconnectionAttempts": 1, "reconnectionTimeout": 0.1}`)
	runFor(t, "-config", cfg).want(t, 1, `sipws: connect: no server answered: `+regexp.QuoteMeta(busy.URL())+`: .*503.*`)
	if n := busy.Handshakes(); n != 3 {
		t.Errorf("%d handshakes, want 3: one more attempt, then its retry", n)
	}
}

// wss to a server whose certificate no trusted root signed: the x509
// error is in the verdict; with -ca naming its root, the probe passes.
func TestProbeCertificate(t *testing.T) {
	s := startServer(t, sipserver.Options{TLS: true})
	runFor(t, "-servers", s.URL(), "-timeout", "2s").
		want(t, 1, `sipws: connect: no server answered: `+regexp.QuoteMeta(s.URL())+`: .*x509: certificate signed by unknown authority`)

	// The server's certificate, as a PEM file for -ca.
	conn, err := tls.Dial("tcp", s.Addr(), &tls.Config{InsecureSkipVerify: true}) // to read the certificate only
	if err != nil {
		t.Fatal(err)
	}
	cert := conn.ConnectionState().PeerCertificates[0]
	conn.Close()
	ca := writeFile(t, "root.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})))
	if r := runFor(t, "-servers", s.URL(), "-ca", ca); r.status != 0 {
		t.Fatalf("with -ca: %v", r)
	}
}

// A server that stalls the handshake: the attempt ends at its connection
// timeout (-timeout, as the config sets none), and the verdict says so.
func TestProbeStalledHandshake(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	s.SetHandshake(sipserver.HandshakeStall)
	runFor(t, "-servers", s.URL(), "-timeout", "300ms").
		want(t, 1, `sipws: connect: no server answered: `+regexp.QuoteMeta(s.URL())+`: transport: connection timeout \(300ms\): .*`)
}

// blockingTransport is a transport whose Connect waits for its ctx.
type blockingTransport struct{ transport.Transport }

func (blockingTransport) Connect(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// When a pass takes longer than it should, the connect still ends, and
// names each server with the last error seen on it, or says it has none.
func TestConnectDeadlineNamesServers(t *testing.T) {
	var out bytes.Buffer
	r := newReport(&out)
	servers, err := selector.Parse("ws://a.invalid", "ws://b.invalid")
	if err != nil {
		t.Fatal(err)
	}
	r.failed(servers[0].URI, errors.New("dial tcp: lookup a.invalid: no such host"))
	cfg := transport.Config{Servers: servers, ConnectionTimeout: time.Millisecond}
	err = connectAll(context.Background(), r, blockingTransport{}, cfg)
	want := "connect: not OPEN within 1.202s: ws://a.invalid:80: dial tcp: lookup a.invalid: no such host; " +
		"ws://b.invalid:80: no error yet (still connecting, or not tried)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := connectAll(ctx, r, blockingTransport{}, cfg); !errors.Is(err, context.Canceled) {
		t.Errorf("interrupted connect: %v, want context.Canceled", err)
	}
}

// Bad input is refused before any server is touched, with exit status 2
// and a line naming what is wrong: an empty -servers or -config (an unset
// shell variable must not run the demo and exit 0), a bad -user or
// -domain, a bad server list.
func TestProbeUsage(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	for _, tc := range []struct {
		name string
		args []string
		line string
	}{
		{"empty -servers", []string{"-servers", ""}, `sipws: -servers is empty: give it a value, or leave it out to run the demo`},
		{"blank -servers", []string{"-servers", "  "}, `sipws: -servers is empty: give it a value, or leave it out to run the demo`},
		{"empty -config", []string{"-config", ""}, `sipws: -config is empty: give it a value, or leave it out to run the demo`},
		{"user with a space", []string{"-servers", s.URL(), "-user", "bob smith"},
			`sipws: -user "bob smith" is not a SIP user part: letters, digits, -_.!~\*'\(\)&=\+\$,;\?/ and %XX escapes \(RFC 3261 §25.1\)`},
		{"user with @", []string{"-servers", s.URL(), "-user", "bob@example.com"}, `sipws: -user "bob@example.com" is not a SIP user part: .*`},
		{"user with a bad escape", []string{"-servers", s.URL(), "-user", "bob%2"}, `sipws: -user "bob%2" is not a SIP user part: .*`},
		{"empty user", []string{"-servers", s.URL(), "-user", ""}, `sipws: -user "" is not a SIP user part: .*`},
		{"domain with a space", []string{"-servers", s.URL(), "-domain", "example .com"},
			`sipws: -domain "example .com" is not a host name, IPv4 address or \[IPv6\] address, with an optional :port`},
		{"domain with a CRLF", []string{"-servers", s.URL(), "-domain", "a.com\r\nX: y"}, `sipws: -domain "a.com\\r\\nX: y" is not a host name.*`},
		{"domain with a bad port", []string{"-servers", s.URL(), "-domain", "example.com:0"}, `sipws: -domain "example.com:0" is not a host name.*`},
		{"IPv6 domain without brackets", []string{"-servers", s.URL(), "-domain", "::1"}, `sipws: -domain "::1" is not a host name.*`},
		{"bad server URI", []string{"-servers", "http://x"}, `sipws: -servers: selector: wsServers\[0\] "http://x": scheme must be ws or wss`},
		{"bad JSON servers", []string{"-servers", "[1]"}, `sipws: -servers: selector: wsServers\[0\] "1": entry must be .*`},
		{"broken JSON servers", []string{"-servers", `[{"wsUri": "ws://a"`}, `sipws: -servers: not valid JSON`},
		{"unknown backend", []string{"-backend", "nope"}, `sipws: unknown -backend "nope" \(want gobwas\|ws\)`},
		{"negative duration", []string{"-duration", "-1s"}, `sipws: -timeout must be positive, -keepalive and -duration not negative`},
		{"missing CA", []string{"-servers", s.URL(), "-ca", "/nonexistent.pem"},
			`sipws: -ca /nonexistent.pem: open /nonexistent.pem: no such file or directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runFor(t, tc.args...).want(t, 2, tc.line)
		})
	}
	for _, ok := range []string{"alice", "a.b-c_d!~*'()&=+$,;?/", "%41lice"} {
		if !isSIPUser(ok) {
			t.Errorf("isSIPUser(%q) = false", ok)
		}
	}
	for _, ok := range []string{"example.com", "sip.example.com:5061", "127.0.0.1", "[::1]", "[2001:db8::1]:5060", "example.com."} {
		if !isSIPHostPort(ok) {
			t.Errorf("isSIPHostPort(%q) = false", ok)
		}
	}
	for _, bad := range []string{"", "-a.com", "a-.com", "a..com", "[::1]5060", "[::1]:", "[127.0.0.1]", "a.com:+80", "a.com:65536", "[::1"} {
		if isSIPHostPort(bad) {
			t.Errorf("isSIPHostPort(%q) = true", bad)
		}
	}
	if n := s.Handshakes(); n != 0 {
		t.Errorf("%d handshakes: bad input reached the server", n)
	}
	for _, args := range [][]string{{"extra"}, {"-nope"}} {
		if r := runFor(t, args...); r.status != 2 {
			t.Errorf("%q: %v, want exit status 2", args, r)
		}
	}
	if r := runFor(t, "-h"); r.status != 0 || !strings.Contains(r.stderr, "usage: sipws") {
		t.Errorf("-h: %v", r)
	}
}

// -servers takes SIP.js wsServers JSON, a lone {"wsUri", "weight"} object
// meaning one server, and comma-separated URIs with spaces around.
func TestProbeServerForms(t *testing.T) {
	a := startServer(t, sipserver.Options{})
	b := startServer(t, sipserver.Options{})
	for _, tc := range []struct {
		servers string
		want    []string
	}{
		{`{"wsUri": "` + a.URL() + `", "weight": 7}`, []string{regexp.QuoteMeta(a.URL()) + `  weight 7$`}},
		{`["` + a.URL() + `", {"wsUri": "` + b.URL() + `", "weight": 3}]`,
			[]string{regexp.QuoteMeta(a.URL()) + `  weight 0$`, regexp.QuoteMeta(b.URL()) + `  weight 3$`}},
		{`"` + a.URL() + `"`, []string{regexp.QuoteMeta(a.URL()) + `  weight 0$`}},
		{a.URL() + " , " + b.URL(), []string{regexp.QuoteMeta(a.URL()) + `  weight 0$`, regexp.QuoteMeta(b.URL()) + `  weight 0$`}},
	} {
		r := runFor(t, "-servers", tc.servers)
		if r.status != 0 {
			t.Fatalf("-servers %s: %v", tc.servers, r)
		}
		wantInOrder(t, r.stdout, append(tc.want, `answer +OPTIONS 200 OK`)...)
	}
}

// -config reads SIP.js configurations of both generations, whole UA
// configurations included; flags override the file.
func TestProbeConfig(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	for _, text := range []string{
		`{"wsServers": [{"wsUri": "` + s.URL() + `", "weight": 5}], "connectionTimeout": 2}`,
		`{"server": "` + s.URL() + `", "connectionTimeout": "2"}`,
		`{"uri": "sip:alice@example.com", "authorizationUsername": "alice", "transportOptions": {"server": "` + s.URL() + `"}}`,
		"\xef\xbb\xbf" + `{"wsServers": "` + s.URL() + `"}`,
	} {
		r := runFor(t, "-config", writeFile(t, "sipjs.json", text), "-backend", "gobwas")
		if r.status != 0 {
			t.Fatalf("%s: %v", text, r)
		}
		wantInOrder(t, r.stdout, regexp.QuoteMeta(s.URL())+`  weight \d$`, `answer +OPTIONS 200 OK`)
	}
	// -servers overrides the file's servers.
	cfg := writeFile(t, "sipjs.json", `{"wsServers": "ws://127.0.0.1:1"}`)
	if r := runFor(t, "-config", cfg, "-servers", s.URL()); r.status != 0 {
		t.Fatalf("-servers over -config: %v", r)
	}
}

// -keepalive 0 turns off a keepalive the config sets; without it the
// config's keepalive runs.
func TestProbeKeepaliveOff(t *testing.T) {
	pings := func(s *sipserver.Server) (n int) {
		for _, m := range s.Received() {
			if string(m) == "\r\n\r\n" {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		args  []string
		pings bool
	}{
		{nil, true},
		{[]string{"-keepalive", "0"}, false},
		{[]string{"-keepalive", "0s"}, false},
	} {
		s := startServer(t, sipserver.Options{})
		cfg := writeFile(t, "sipjs.json", `{"wsServers": "`+s.URL()+`", "keepAliveInterval": 0.05}`)
		r := runFor(t, append([]string{"-config", cfg, "-duration", "300ms"}, tc.args...)...)
		if r.status != 0 {
			t.Fatalf("%v", r)
		}
		// With a 50 ms interval, 300 ms hold about 6 pings; 3 is the
		// bound a loaded machine still meets.
		if got := pings(s); (got >= 3) != tc.pings || (!tc.pings && got != 0) {
			t.Errorf("%q: %d keepalive pings, want some: %v", tc.args, got, tc.pings)
		}
	}
}

// Config errors name the file; a syntax error gives line and column;
// every invalid option is reported, one line each, and none names a Go
// type.
func TestProbeConfigErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.json")
	runFor(t, "-config", missing).
		want(t, 2, `sipws: -config `+regexp.QuoteMeta(missing)+`: open `+regexp.QuoteMeta(missing)+`: no such file or directory`)

	syntax := writeFile(t, "syntax.json", "{\n  \"wsServers\": \"ws://a\",\n  \"traceSip\": tru\n}\n")
	runFor(t, "-config", syntax).
		want(t, 2, `sipws: `+regexp.QuoteMeta(syntax)+`:3:18: invalid character '\\n' in literal true \(expecting 'e'\)`)
	cut := writeFile(t, "cut.json", `{"wsServers": "ws://a",`)
	runFor(t, "-config", cut).want(t, 2, `sipws: `+regexp.QuoteMeta(cut)+`:1:24: unexpected end of JSON input`)
	notObject := writeFile(t, "list.json", `["ws://a"]`)
	runFor(t, "-config", notObject).
		want(t, 2, `sipws: `+regexp.QuoteMeta(notObject)+`: transport: config: want a JSON object of SIP.js options, got \["ws://a"\]`)

	bad := writeFile(t, "bad.json", `{"wsServers": ["http://x"], "connectionTimeout": "soon", "traceSip": "yes",
		"transportOptions": {"keepAliveInterval": [1]}}`)
	r := runFor(t, "-config", bad)
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	want := []string{
		`sipws: ` + bad + `: transport: config wsServers: selector: wsServers[0] "http://x": scheme must be ws or wss`,
		`sipws: ` + bad + `: transport: config connectionTimeout: want a number of seconds, got "soon"`,
		`sipws: ` + bad + `: transport: config transportOptions.keepAliveInterval: want a number of seconds, got [1]`,
		`sipws: ` + bad + `: transport: config traceSip: want true or false, got "yes"`,
	}
	if r.status != 2 || strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %v\nwant exit status 2 and stderr\n%s", r, strings.Join(want, "\n"))
	}
	if m := regexp.MustCompile(`Go (struct|value)|of type|float64|int64|jsonConfig`).FindString(r.stderr); m != "" {
		t.Errorf("stderr names a Go type (%q):\n%s", m, r.stderr)
	}

	// Ranges are checked when the transport is built: still named with the file.
	neg := writeFile(t, "neg.json", `{"wsServers": "ws://a", "keepAliveInterval": -3, "keepAliveDebounce": -1}`)
	r = runFor(t, "-config", neg)
	wantLines := `sipws: ` + neg + `: transport: config keepAliveInterval: -3s must not be negative` + "\n" +
		`sipws: ` + neg + `: transport: config keepAliveDebounce: -1s must not be negative`
	if r.status != 2 || strings.TrimRight(r.stderr, "\n") != wantLines {
		t.Errorf("got %v\nwant exit status 2 and stderr\n%s", r, wantLines)
	}
	none := writeFile(t, "none.json", `{"uri": "sip:alice@example.com"}`)
	runFor(t, "-config", none).want(t, 2, `sipws: `+regexp.QuoteMeta(none)+`: transport: config wsServers: .*no servers.*`)
}

// -trace shows the SIP messages and nothing else; -v shows the other log
// lines and no SIP message; both show both.
func TestProbeTraceAndVerbose(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	sentLine := regexp.MustCompile(`(?m)^\S+ \[TRACE\] sipws\.transport: SIP sending`)
	receivedLine := regexp.MustCompile(`(?m)^\S+ \[TRACE\] sipws\.transport: SIP received`)
	infoLine := regexp.MustCompile(`(?m)^\S+ \[INFO\] +sipws\.transport: connected`)
	anyOther := regexp.MustCompile(`(?m)^\S+ \[(DEBUG|INFO|WARN)\]`)
	for _, tc := range []struct {
		flags     []string
		sip, info bool
	}{
		{nil, false, false},
		{[]string{"-trace"}, true, false},
		{[]string{"-v"}, false, true},
		{[]string{"-trace", "-v"}, true, true},
	} {
		r := runFor(t, append([]string{"-servers", s.URL()}, tc.flags...)...)
		if r.status != 0 {
			t.Fatalf("%q: %v", tc.flags, r)
		}
		for _, line := range []*regexp.Regexp{sentLine, receivedLine} {
			if got := line.MatchString(r.stderr); got != tc.sip {
				t.Errorf("%q: SIP trace lines %q shown: %v, want %v\n%s", tc.flags, line, got, tc.sip, r.stderr)
			}
		}
		if got := infoLine.MatchString(r.stderr); got != tc.info {
			t.Errorf("%q: Info lines shown: %v, want %v\n%s", tc.flags, got, tc.info, r.stderr)
		}
		if !tc.info && anyOther.MatchString(r.stderr) {
			t.Errorf("%q: other log lines shown without -v:\n%s", tc.flags, r.stderr)
		}
	}
}

// An interrupted run stops, removes its registration, disconnects, and
// exits 128 + the signal: SIGINT (Ctrl-C) and SIGTERM alike, never 0.
// In-process, with the cause main gives its context.
func TestProbeInterrupted(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			s := startServer(t, sipserver.Options{})
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			var errs bytes.Buffer
			done := make(chan int, 1)
			go func() {
				defer pw.Close()
				done <- run(ctx, []string{"-servers", s.URL(), "-user", "bob", "-duration", "1m"}, pw, &errs)
			}()
			waitLine(t, pr, "staying connected")
			if sig == syscall.SIGINT {
				cancel(interrupted{os.Interrupt})
			} else {
				cancel(interrupted{syscall.SIGTERM})
			}
			var status int
			select {
			case status = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("the interrupted probe did not end within 10s")
			}
			name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]
			result{status: status, stderr: errs.String()}.want(t, 128+int(sig), `sipws: interrupted by `+name)
			unregistered := false
			for _, m := range sipRequests(t, s) {
				unregistered = unregistered || (string(m.Method()) == "REGISTER" && string(m.Header("Expires")) == "0")
			}
			if !unregistered {
				t.Error("no REGISTER with Expires: 0 after the interruption")
			}
		})
	}
}

// waitLine reads r until a line contains want, for at most 10 s.
func waitLine(t *testing.T, r *os.File, want string) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if strings.Contains(sc.Text(), want) {
				found <- true
				go func() { // keep draining, so the writer never blocks
					for sc.Scan() {
					}
				}()
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("output ended without %q", want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %q within 10s", want)
	}
}

// The real command handles SIGTERM like Ctrl-C: a process sent SIGTERM
// while probing exits 143, after removing its registration; SIGINT gives
// 130.
func TestSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			s := startServer(t, sipserver.Options{})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-servers", s.URL(), "-user", "bob", "-duration", "1m")
			cmd.Env = append(os.Environ(), "SIPWS_TEST_MAIN=1")
			var errs bytes.Buffer
			cmd.Stderr = &errs
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitLine(t, out.(*os.File), "staying connected")
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()
			name := map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig]
			result{status: cmd.ProcessState.ExitCode(), stderr: errs.String()}.want(t, 128+int(sig), `sipws: interrupted by `+name)
			unregistered := false
			for _, m := range sipRequests(t, s) {
				unregistered = unregistered || (string(m.Method()) == "REGISTER" && string(m.Header("Expires")) == "0")
			}
			if !unregistered {
				t.Error("no REGISTER with Expires: 0 after the signal")
			}
		})
	}
}
