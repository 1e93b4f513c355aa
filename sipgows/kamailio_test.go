package sipgows

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/transport"
)

// The Kamailio cases run real Kamailio 5.6 instances with the core's
// scripts (../integration/kamailio, whose README says what the
// configuration does). They skip unless SIPWS_KAMAILIO=1, as the core's
// integration tests do.
//
// Instances: this module uses the scripts' instances 5 and 6 (ws ports
// 18084 and 18085) by default, so that it can run while the core's
// integration tests hold 1 to 3; SIPGOWS_KAMAILIO_INSTANCE moves them.

const (
	kamStartTimeout = 3 * time.Minute // start.sh may apt-get install first
	kamStopTimeout  = 20 * time.Second
	kamSlack        = time.Second // scheduling on a loaded machine
)

type kamailio struct {
	dir, base string
	first     int
	started   map[int]bool
	roots     *x509.CertPool
}

func needKamailio(t *testing.T) *kamailio {
	t.Helper()
	if os.Getenv("SIPWS_KAMAILIO") != "1" {
		t.Skip("tests against Kamailio are off: set SIPWS_KAMAILIO=1 to run them " +
			"(../integration/kamailio/start.sh installs Kamailio 5.6 with apt-get when it is missing)")
	}
	dir, err := filepath.Abs(filepath.Join("..", "integration", "kamailio"))
	if err != nil {
		t.Fatal(err)
	}
	first := 5
	if s := os.Getenv("SIPGOWS_KAMAILIO_INSTANCE"); s != "" {
		if first, err = strconv.Atoi(s); err != nil || first < 1 || first > 8 {
			t.Fatalf("SIPGOWS_KAMAILIO_INSTANCE=%q: want 1..8 (the tests use it and the next)", s)
		}
	}
	base := os.Getenv("KAMAILIO_BASEDIR")
	if base == "" {
		base = filepath.Join(os.TempDir(), "sipws-kamailio")
	}
	k := &kamailio{dir: dir, base: base, first: first, started: map[int]bool{}}
	t.Cleanup(func() {
		for i := range k.started {
			if _, err := k.run("stop.sh", i, kamStopTimeout); err != nil {
				t.Error(err)
			}
		}
	})
	for i := 1; i <= 2; i++ { // an earlier run killed before its cleanup
		k.down(t, i)
	}
	return k
}

func (k *kamailio) instance(i int) int { return k.first + i - 1 }

func (k *kamailio) up(t *testing.T, i int) {
	t.Helper()
	k.started[i] = true
	took, err := k.run("start.sh", i, kamStartTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kamailio %d up in %v", k.instance(i), took.Round(time.Millisecond))
}

func (k *kamailio) down(t *testing.T, i int) {
	t.Helper()
	if _, err := k.run("stop.sh", i, kamStopTimeout); err != nil {
		t.Fatal(err)
	}
	delete(k.started, i)
}

func (k *kamailio) run(script string, i int, timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(k.dir, script), strconv.Itoa(k.instance(i)))
	cmd.Env = append(os.Environ(), "KAMAILIO_BASEDIR="+k.base, "KAMAILIO_RUNDIR=",
		"KAMAILIO_CERTDIR="+filepath.Join(k.base, "certs"), "KAMAILIO_FG=", "KAMAILIO_START_TIMEOUT=20")
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("kamailio/%s %d failed after %v: %w\n%s", script, k.instance(i),
			took.Round(time.Millisecond), err, strings.TrimSpace(out.String()))
	}
	return took, nil
}

func (k *kamailio) server(t *testing.T, i int, scheme string, weight int) selector.Server {
	t.Helper()
	port := 18080
	if scheme == "wss" {
		port = 18443
	}
	uri := fmt.Sprintf("%s://127.0.0.1:%d/", scheme, port+k.instance(i)-1)
	s, err := selector.ParseServer(uri, weight)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (k *kamailio) tlsConfig(t *testing.T) *tls.Config {
	t.Helper()
	if k.roots == nil {
		pem, err := os.ReadFile(filepath.Join(k.base, "certs", "kamailio-cert.pem"))
		if err != nil {
			t.Fatalf("the Kamailio certificate: %v", err)
		}
		k.roots = x509.NewCertPool()
		if !k.roots.AppendCertsFromPEM(pem) {
			t.Fatal("no certificate in kamailio-cert.pem")
		}
	}
	return &tls.Config{RootCAs: k.roots, MinVersion: tls.VersionTLS12}
}

// transcript collects timestamped lines from every UA of a case, for the
// log and for the failover's timeline.
type transcript struct {
	mu    sync.Mutex
	start time.Time
	lines []string
}

func (tr *transcript) add(format string, args ...any) time.Time {
	now := time.Now()
	tr.mu.Lock()
	tr.lines = append(tr.lines, fmt.Sprintf("%8.3fs  ", now.Sub(tr.start).Seconds())+fmt.Sprintf(format, args...))
	tr.mu.Unlock()
	return now
}

func (tr *transcript) log(t *testing.T) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	t.Log("transcript (from the first UA's creation):\n" + strings.Join(tr.lines, "\n"))
}

// kua is a sipgo user agent over a bridge over a sipws transport, whose
// Connected event makes it REGISTER (again, after a failover).
type kua struct {
	user   string
	tr     sipwsTransport
	b      *Bridge
	ua     *sipgo.UserAgent
	client *sipgo.Client
	inbox  chan *sip.Request
	regs   chan regResult // one per REGISTER sent on Connected
	log    *transcript
}

type regResult struct {
	server string
	res    *sip.Response
	err    error
	at     time.Time
}

func kamConfig(k *kamailio, t *testing.T, scheme string, servers ...selector.Server) transport.Config {
	cfg := transport.Config{
		Servers:                 servers,
		ConnectionTimeout:       time.Second,
		MaxReconnectionAttempts: 1,
		ReconnectionTimeout:     200 * time.Millisecond,
		RecoveryMinInterval:     500 * time.Millisecond,
		RecoveryMaxInterval:     time.Second,
		KeepAliveInterval:       5 * time.Second,
		KeepAlivePongTimeout:    2 * time.Second,
	}
	if scheme == "wss" {
		cfg.Dial.TLSConfig = k.tlsConfig(t)
	}
	return cfg
}

// newKUA builds a UA; with register, every Connected sends a REGISTER.
func newKUA(t *testing.T, newTransport func(transport.Config) (sipwsTransport, error), user string,
	cfg transport.Config, log *transcript, register bool) *kua {
	t.Helper()
	u := &kua{user: user, inbox: make(chan *sip.Request, 16), regs: make(chan regResult, 8), log: log}
	cfg.Events = transport.Events{
		Connected: func(s selector.Server) {
			log.add("%s: transport Connected to %s", user, s.URI)
			if register {
				go u.register(s)
			}
		},
		Disconnected: func(s selector.Server, err error) {
			log.add("%s: transport Disconnected from %s: %v", user, s.URI, err)
		},
		TransportError: func(err error) { log.add("%s: transport error: %v", user, err) },
	}
	var err error
	if u.tr, err = newTransport(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		u.tr.Disconnect(ctx)
	})
	if u.b, err = New(Config{Transport: u.tr, Logger: HCLogFromSlog(testLogger(t))}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.b.Close() })
	if u.ua, err = sipgo.NewUA(u.b.UserAgentOption(), sipgo.WithUserAgent(user), sipgo.WithUserAgentHostname("127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.ua.Close() })
	u.client, _ = sipgo.NewClient(u.ua)
	srv, _ := sipgo.NewServer(u.ua)
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		u.inbox <- req
	})
	return u
}

func (u *kua) connect(t *testing.T) {
	t.Helper()
	if err := u.tr.Connect(testCtx(t)); err != nil {
		t.Fatalf("%s: Connect: %v", u.user, err)
	}
}

// register sends a REGISTER for user@127.0.0.1 with the bridge's host in
// its Contact, as a UA does on Connected.
func (u *kua) register(s selector.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{User: u.user, Host: "127.0.0.1"})
	req.AppendHeader(sip.NewHeader("Contact", "<sip:"+u.user+"@"+u.b.Host()+";transport=ws>"))
	expires := sip.ExpiresHeader(600)
	req.AppendHeader(&expires)
	u.b.Prepare(req)
	res, err := u.client.Do(ctx, req, sipgo.ClientRequestRegisterBuild)
	r := regResult{server: s.URI, res: res, err: err, at: time.Now()}
	if err != nil {
		u.log.add("%s: REGISTER via %s failed: %v", u.user, s.URI, err)
	} else {
		u.log.add("%s: REGISTER via %s -> %s", u.user, s.URI, res.StartLine())
	}
	u.regs <- r
}

// awaitRegistered waits for the REGISTER sent on Connected to s.
func (u *kua) awaitRegistered(t *testing.T, s selector.Server, bound time.Duration) regResult {
	t.Helper()
	timeout := time.After(bound)
	for {
		select {
		case r := <-u.regs:
			if r.server != s.URI {
				continue
			}
			if r.err != nil || r.res.StatusCode != 200 {
				t.Fatalf("%s: REGISTER via %s: %v %v, want 200", u.user, s.URI, r.res, r.err)
			}
			return r
		case <-timeout:
			t.Fatalf("%s: no REGISTER answered via %s within %v", u.user, s.URI, bound)
		}
	}
}

// message sends a MESSAGE to user to through Kamailio and returns the answer.
func (u *kua) message(t *testing.T, to, text string) (*sip.Response, error) {
	t.Helper()
	req := sip.NewRequest(sip.MESSAGE, sip.Uri{User: to, Host: "127.0.0.1"})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	req.SetBody([]byte(text))
	u.b.Prepare(req)
	return u.client.Do(testCtx(t), req)
}

// exchange has from send a MESSAGE to to, and checks that to's handler got
// it and from got to's 200.
func exchange(t *testing.T, from, to *kua, text string) {
	t.Helper()
	start := time.Now()
	res, err := from.message(t, to.user, text)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("%s -> %s MESSAGE: %v %v, want 200", from.user, to.user, res, err)
	}
	select {
	case req := <-to.inbox:
		if string(req.Body()) != text {
			t.Errorf("%s got %q, want %q", to.user, req.Body(), text)
		}
	case <-time.After(wait):
		t.Fatalf("%s: no MESSAGE from %s", to.user, from.user)
	}
	from.log.add("%s -> %s: MESSAGE %q answered %q in %v", from.user, to.user, text, res.StartLine(), time.Since(start).Round(time.Microsecond))
}

func TestKamailio(t *testing.T) {
	k := needKamailio(t)
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for _, scheme := range []string{"ws", "wss"} {
				t.Run(scheme+"/RegisterMessage", func(t *testing.T) {
					k.up(t, 1)
					testKamailioRegisterMessage(t, k, be.new, scheme)
				})
			}
			t.Run("ws/Failover", func(t *testing.T) {
				k.up(t, 1)
				k.up(t, 2)
				testKamailioFailover(t, k, be.new)
			})
			t.Run("ws/DiagoRegisterLoop", func(t *testing.T) {
				k.up(t, 1)
				k.up(t, 2)
				testKamailioDiago(t, k, be.new)
			})
		})
	}
}

// testKamailioRegisterMessage: two sipgo UAs register with Kamailio through
// the bridge, and a MESSAGE from one reaches the other's sipgo.Server
// handler, whose 200 comes back: the Via sent-by works with Kamailio's NAT
// handling (rport, received, routing by connection) and with the
// transport's ViaHost check (on: ViaHost is set).
func testKamailioRegisterMessage(t *testing.T, k *kamailio, newTransport func(transport.Config) (sipwsTransport, error), scheme string) {
	log := &transcript{start: time.Now()}
	defer log.log(t)
	srv := k.server(t, 1, scheme, 0)
	var uas []*kua
	for _, user := range []string{"alice", "bob"} {
		cfg := kamConfig(k, t, scheme, srv)
		cfg.ViaHost = user + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36) + ".invalid"
		u := newKUA(t, newTransport, user, cfg, log, true)
		u.connect(t)
		u.awaitRegistered(t, srv, wait)
		uas = append(uas, u)
	}
	alice, bob := uas[0], uas[1]
	exchange(t, alice, bob, "hello bob over "+scheme)
	exchange(t, bob, alice, "hello alice over "+scheme)
	for _, u := range uas {
		if st := u.tr.Stats(); st.Dropped != 0 {
			t.Errorf("%s: the transport dropped %d messages (the ViaHost check must pass)", u.user, st.Dropped)
		}
	}
}

// testKamailioFailover: both UAs prefer instance 1 and have instance 2 as
// backup. Instance 1 stops; each transport fails over, each UA registers
// again on Connected, and MESSAGE works again, with sipgo's pipes never
// noticing (no pipe opened or closed).
func testKamailioFailover(t *testing.T, k *kamailio, newTransport func(transport.Config) (sipwsTransport, error)) {
	log := &transcript{start: time.Now()}
	defer log.log(t)
	preferred, backup := k.server(t, 1, "ws", 10), k.server(t, 2, "ws", 1)
	var uas []*kua
	for _, user := range []string{"alice", "bob"} {
		cfg := kamConfig(k, t, "ws", backup, preferred) // the weight decides, not the order
		u := newKUA(t, newTransport, user, cfg, log, true)
		u.connect(t)
		u.awaitRegistered(t, preferred, wait)
		uas = append(uas, u)
	}
	alice, bob := uas[0], uas[1]
	exchange(t, alice, bob, "before the failover")
	pipes := []Stats{alice.b.Stats(), bob.b.Stats()}

	stopped := log.add("---- stopping kamailio %d (the preferred server)", k.instance(1))
	k.down(t, 1)
	log.add("---- kamailio %d stopped (stop.sh returned)", k.instance(1))
	// Kamailio sends no Close frame: the transport sees the TCP EOF,
	// retries once (refused), marks the server in error, opens the backup.
	bound := 2*time.Second + 2*200*time.Millisecond + kamSlack
	for _, u := range uas {
		r := u.awaitRegistered(t, backup, bound+kamStopTimeout)
		t.Logf("%s: re-REGISTER 200 via the backup %v after the stop began", u.user, r.at.Sub(stopped).Round(time.Millisecond))
		if took := r.at.Sub(stopped); took > bound+time.Second {
			t.Errorf("%s: registered again %v after the stop, want within %v", u.user, took, bound)
		}
	}
	exchange(t, alice, bob, "after the failover")
	exchange(t, bob, alice, "and back")
	for i, u := range uas {
		st := u.b.Stats()
		if st.PipesOpened != pipes[i].PipesOpened || st.Pipes != pipes[i].Pipes {
			t.Errorf("%s: pipes %d open, %d opened; before the failover %d and %d: sipgo must not notice",
				u.user, st.Pipes, st.PipesOpened, pipes[i].Pipes, pipes[i].PipesOpened)
		}
		if srv, ok := u.tr.Server(); !ok || srv.URI != backup.URI {
			t.Errorf("%s: on %q, want the backup", u.user, srv.URI)
		}
		log.add("%s: bridge %+v", u.user, st)
	}
}

// testKamailioDiago: a diago user agent over the bridge keeps its
// registration with diago's own Register loop across the failover: after
// instance 1 stops, the loop's next refresh goes to instance 2 and an
// OPTIONS to the diago user through Kamailio is answered by diago again.
func testKamailioDiago(t *testing.T, k *kamailio, newTransport func(transport.Config) (sipwsTransport, error)) {
	log := &transcript{start: time.Now()}
	defer log.log(t)
	const retry = 500 * time.Millisecond
	preferred, backup := k.server(t, 1, "ws", 10), k.server(t, 2, "ws", 1)

	carol := newKUA(t, newTransport, "carol", kamConfig(k, t, "ws", backup, preferred), log, false)
	dg := diago.NewDiago(carol.ua,
		diago.WithLogger(slog.New(slog.DiscardHandler)),
		diago.WithTransport(diago.Transport{Transport: "ws", BindHost: "127.0.0.1", ExternalHost: carol.b.Host()}))
	// diago's refreshes, as carol's sipgo sees their answers.
	carol.ua.TransportLayer().OnMessage(func(m sip.Message) {
		if res, ok := m.(*sip.Response); ok && res.CSeq() != nil && res.CSeq().MethodName == sip.REGISTER {
			srv, _ := carol.tr.Server()
			log.add("carol: diago's REGISTER (CSeq %d) -> %s via %s", res.CSeq().SeqNo, res.StartLine(), srv.URI)
		}
	})
	carol.connect(t)
	bob := newKUA(t, newTransport, "bob", kamConfig(k, t, "ws", backup, preferred), log, true)
	bob.connect(t)
	bob.awaitRegistered(t, preferred, wait)

	ctx, cancel := context.WithCancel(context.Background())
	registered := make(chan struct{}, 16)
	loopDone := make(chan error, 1)
	go func() {
		aor := sip.Uri{User: "carol", Host: "127.0.0.1", UriParams: sip.NewParams()}
		aor.UriParams.Add("transport", "ws") // diago picks its ws transport by it
		loopDone <- dg.Register(ctx, aor,
			diago.RegisterOptions{
				ProxyHost:     Destination,
				Expiry:        time.Minute,
				RetryInterval: retry,
				OnRegistered:  func() { registered <- struct{}{} },
			})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-loopDone:
		case <-time.After(wait):
			t.Error("diago's Register did not return after its context ended")
		}
	})
	select {
	case <-registered:
		log.add("carol: diago Register: registered")
	case err := <-loopDone:
		t.Fatalf("diago Register returned: %v", err)
	case <-time.After(wait):
		t.Fatal("diago never registered")
	}
	bob.optionsTo(t, "carol", wait)

	stopped := log.add("---- stopping kamailio %d (the preferred server)", k.instance(1))
	k.down(t, 1)
	bob.awaitRegistered(t, backup, wait)
	took := bob.optionsTo(t, "carol", 2*time.Second+retry+kamSlack)
	log.add("carol: reachable on the backup %v after the stop began", took.Sub(stopped).Round(time.Millisecond))
	select {
	case err := <-loopDone:
		t.Fatalf("diago's Register loop ended during the failover: %v", err)
	default:
	}
	if srv, ok := carol.tr.Server(); !ok || srv.URI != backup.URI {
		t.Errorf("carol: on %q, want the backup", srv.URI)
	}
}

// optionsTo sends OPTIONS to user through Kamailio until they answer 200
// (404 while they are not registered there), within bound; it returns when.
func (u *kua) optionsTo(t *testing.T, user string, bound time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		req := sip.NewRequest(sip.OPTIONS, sip.Uri{User: user, Host: "127.0.0.1"})
		u.b.Prepare(req)
		res, err := u.client.Do(testCtx(t), req)
		if err == nil && res.StatusCode == 200 {
			allow := ""
			if h := res.GetHeader("Allow"); h != nil {
				allow = h.Value()
			}
			return u.log.add("%s -> %s: OPTIONS %q (Allow: %s)", u.user, user, res.StartLine(), allow)
		}
		if err != nil && !errors.Is(err, transport.ErrNotConnected) {
			t.Fatalf("%s -> %s OPTIONS: %v", u.user, user, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s -> %s OPTIONS: %v %v after %v, want 200", u.user, user, res, err, bound)
		}
		time.Sleep(100 * time.Millisecond) // polling Kamailio's registrar, not a timer of ours
	}
}
