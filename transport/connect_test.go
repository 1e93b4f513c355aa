package transport

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
)

// TestDisconnectBeforeOpen: a Disconnect that lands after the dial
// finished but before the connection is made OPEN wins: the connection is
// closed with Disconnect's code, never reported OPEN nor Connected, and the
// waiting Connect returns ErrDisconnected.
func TestDisconnectBeforeOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a")
		s := newSetup(t, Config{Servers: ss})
		l := s.net.Listen(ss[0].URI, nil)
		once := sync.Once{}
		testHookOpen = func() {
			once.Do(func() {
				go s.b.DisconnectWith(context.Background(), 4001, "gone")
				for { // until Disconnect has stopped the run
					s.b.mu.Lock()
					stopped := s.b.run == nil
					s.b.mu.Unlock()
					if stopped {
						return
					}
					runtime.Gosched()
				}
			})
		}
		defer func() { testHookOpen = func() {} }()
		if err := s.b.Connect(context.Background()); !errors.Is(err, ErrDisconnected) {
			t.Errorf("Connect = %v, want ErrDisconnected", err)
		}
		synctest.Wait()
		for _, e := range s.log.get() {
			if strings.Contains(e, "OPEN") || strings.HasPrefix(e, "connected") {
				t.Errorf("reported %q although Disconnect came first; events %q", e, s.log.get())
			}
		}
		if code, reason := l.Conns()[0].ClientClose(); code != 4001 || reason != "gone" {
			t.Errorf("the connection was closed with %d %q, want Disconnect's 4001 \"gone\"", code, reason)
		}
		if st := s.b.Status(); st != StatusClosed {
			t.Errorf("status = %v, want CLOSED", st)
		}
	})
}

// TestConnectWaitsForConnected: a Connect that arrives when the status is
// already OPEN but Connected is still running waits for Connected to return.
func TestConnectWaitsForConnected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a")
		s := newSetup(t, Config{Servers: ss})
		s.net.Listen(ss[0].URI, sipServer(false, nil))
		opened, release := make(chan struct{}), make(chan struct{})
		var done bool
		s.b.SetEvents(Events{
			StatusChanged: func(_, to Status) {
				if to == StatusOpen {
					close(opened)
				}
			},
			Connected: func(selector.Server) { <-release; done = true },
		})
		first := make(chan error, 1)
		go func() { first <- s.b.Connect(context.Background()) }()
		<-opened // OPEN, and Connected is about to run or running
		second := make(chan error, 1)
		go func() { second <- s.b.Connect(context.Background()) }()
		synctest.Wait()
		select {
		case err := <-second:
			t.Fatalf("a Connect arriving at OPEN returned (%v) while Connected was running", err)
		default:
		}
		close(release)
		for _, c := range []chan error{first, second} {
			if err := <-c; err != nil || !done {
				t.Errorf("Connect = %v, Connected done = %v", err, done)
			}
		}
	})
}

// TestConnectAfterHastyDisconnect: a Connect that follows a Disconnect whose
// ctx ended before the previous run wound down gets the outcome of its own
// run, never the previous one's, over thousands of cycles with real
// goroutine interleavings.
func TestConnectAfterHastyDisconnect(t *testing.T) {
	n := dialertest.NewNetwork(t)
	const url = "ws://a:80"
	n.Listen(url, func(c *dialertest.ServerConn) { <-c.ClientClosed() })
	ss := servers(t, url)
	b, err := NewBase(Config{Servers: ss}, n)
	if err != nil {
		t.Fatal(err)
	}
	hasty, cancel := context.WithCancel(context.Background())
	cancel()
	deadline := time.Now().Add(20 * time.Second)
	const cycles = 5000
	for i := range cycles {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d cycles in 20s", i, cycles)
		}
		if err := b.Connect(context.Background()); err != nil {
			t.Fatalf("cycle %d: Connect = %v, want nil: the previous run settled it", i, err)
		}
		b.Disconnect(hasty) // returns at once, the run winds down
		spin(i)
	}
	if err := b.Disconnect(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// spin waits a little, a different while each cycle, so that the next
// Connect lands at every point of the previous run's wind-down.
func spin(i int) {
	n := (i * 7919) % 4000
	x := 0
	for j := range n {
		x += j
	}
	spinSink = x
}

var spinSink int

// TestNilRecoveryBackOff: a factory that returns nil does not crash the
// transport; the default recovery schedule is used.
func TestNilRecoveryBackOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSetup(t, Config{
			Servers:                 servers(t, "ws://dead"),
			MaxReconnectionAttempts: -1,
			ReconnectionJitter:      -1,
			NewRecoveryBackOff:      func() backoff.BackOff { return nil },
		})
		if err := s.b.Connect(context.Background()); err == nil {
			t.Fatal("Connect succeeded with a dead server")
		}
		time.Sleep(2*time.Second + time.Millisecond)
		// The default's first wait, random(0, 1) + 1 = 1 s clamped to 2 s.
		if got, want := s.rec.dials(), []string{"dead:80@0s", "dead:80@2s"}; !equal(got, want) {
			t.Errorf("dials = %q, want %q", got, want)
		}
	})
}

// callbackCase drives a transport until the named callback runs.
type callbackCase struct {
	name  string
	hook  func(ev *Events, stop func())
	drive func(t *testing.T, s *setup, l *dialertest.Listener)
}

var callbackCases = []callbackCase{
	{"Connected", func(ev *Events, stop func()) { ev.Connected = func(selector.Server) { stop() } }, nil},
	{"StatusChanged", func(ev *Events, stop func()) {
		ev.StatusChanged = func(_, to Status) {
			if to == StatusOpen {
				stop()
			}
		}
	}, nil},
	{"Message", func(ev *Events, stop func()) { ev.Message = func(*sipmsg.Message) { stop() } },
		func(t *testing.T, s *setup, l *dialertest.Listener) {
			l.Conns()[0].WriteMessage([]byte(response(200, "c1", "SIP/2.0/WS x.invalid;branch=z9hG4bK1")))
		}},
	{"MessageDropped", func(ev *Events, stop func()) { ev.MessageDropped = func([]byte, error) { stop() } },
		func(t *testing.T, s *setup, l *dialertest.Listener) {
			l.Conns()[0].WriteMessage([]byte("garbage\r\n\r\n"))
		}},
	{"Disconnected", func(ev *Events, stop func()) { ev.Disconnected = func(selector.Server, error) { stop() } },
		func(t *testing.T, s *setup, l *dialertest.Listener) { l.DropAll() }},
	{"TransportError", func(ev *Events, stop func()) { ev.TransportError = func(error) { stop() } },
		func(t *testing.T, s *setup, l *dialertest.Listener) {
			l.SetMode(dialertest.Refuse)
			l.DropAll()
		}},
}

// TestDisconnectFromCallback: Disconnect and DisconnectWith called from
// inside any event callback stop the transport and return without waiting
// for the goroutine they run on; everything then ends.
func TestDisconnectFromCallback(t *testing.T) {
	for _, tc := range callbackCases {
		for _, with := range []bool{false, true} {
			name := tc.name + "/Disconnect"
			if with {
				name = tc.name + "/DisconnectWith"
			}
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					ss := servers(t, "ws://a")
					s := newSetup(t, Config{Servers: ss, MaxReconnectionAttempts: -1})
					l := s.net.Listen(ss[0].URI, func(c *dialertest.ServerConn) { <-c.ClientClosed() })
					returned := make(chan error, 1)
					var once sync.Once
					stop := func() {
						once.Do(func() {
							if with {
								returned <- s.b.DisconnectWith(context.Background(), 4000, "from a callback")
							} else {
								returned <- s.b.Disconnect(context.Background())
							}
						})
					}
					var ev Events
					tc.hook(&ev, stop)
					s.b.SetEvents(ev)
					connectErr := make(chan error, 1)
					go func() { connectErr <- s.b.Connect(context.Background()) }()
					synctest.Wait()
					if tc.drive != nil {
						tc.drive(t, s, l)
					}
					synctest.Wait()
					select {
					case err := <-returned:
						if err != nil {
							t.Errorf("Disconnect from %s = %v, want nil", tc.name, err)
						}
					default:
						t.Fatalf("Disconnect from %s did not return", tc.name)
					}
					<-connectErr
					if st := s.b.Status(); st != StatusClosed {
						t.Errorf("status = %v, want CLOSED", st)
					}
					n := len(s.rec.dials())
					time.Sleep(time.Minute)
					if got := len(s.rec.dials()); got != n {
						t.Errorf("%d dials after Disconnect, want none", got-n)
					}
					l.SetMode(dialertest.Accept)
					if err := s.b.Connect(context.Background()); err != nil {
						t.Errorf("Connect after a Disconnect from %s = %v", tc.name, err)
					}
				})
			})
		}
	}
}

// TestConnectFromCallback: Connect inside a callback never waits for the
// goroutine it runs on: nil when OPEN, ErrInCallback otherwise.
func TestConnectFromCallback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a")
		s := newSetup(t, Config{Servers: ss})
		l := s.net.Listen(ss[0].URI, func(c *dialertest.ServerConn) { <-c.ClientClosed() })
		var got []string
		s.b.SetEvents(Events{
			StatusChanged: func(_, to Status) {
				if to == StatusConnecting {
					got = append(got, fmt.Sprint(s.b.Connect(context.Background())))
				}
			},
			Message: func(*sipmsg.Message) { got = append(got, fmt.Sprint(s.b.Connect(context.Background()))) },
		})
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		l.Conns()[0].WriteMessage([]byte(response(200, "c1", "SIP/2.0/WS x.invalid;branch=z9hG4bK1")))
		synctest.Wait()
		if want := []string{ErrInCallback.Error(), "<nil>"}; !equal(got, want) {
			t.Errorf("Connect from callbacks = %q, want %q", got, want)
		}
	})
}

// TestConfigCopiedDeeply: changing the caller's Config after NewBase, or
// what Config() returned, changes nothing in the transport.
func TestConfigCopiedDeeply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a", "ws://b")
		cfg := Config{Servers: ss}
		cfg.Dial.Header = map[string][]string{"X-Token": {"one"}}
		s := newSetup(t, cfg)
		var seen []string
		var mu sync.Mutex
		s.net.Listen(ss[0].URI, func(c *dialertest.ServerConn) {
			mu.Lock()
			seen = append(seen, c.Options().Header.Get("X-Token"))
			mu.Unlock()
			<-c.ClientClosed()
		})
		cfg.Dial.Header.Set("X-Token", "changed by the caller")
		ss[0].URI = "ws://elsewhere:80"
		got := s.b.Config()
		got.Dial.Header.Set("X-Token", "changed through Config()")
		got.Servers[0].URI = "ws://elsewhere:80"
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the handler has recorded the dial
		mu.Lock()
		defer mu.Unlock()
		if len(seen) != 1 || seen[0] != "one" {
			t.Errorf("the dial sent X-Token %q, want the header as given to NewBase", seen)
		}
		if u := s.b.Config().Servers[0].URI; u != "ws://a:80" {
			t.Errorf("Config().Servers[0] = %s after changing a copy", u)
		}
	})
}

// TestConfigTLSCopied: the TLS config handed to the dialer is a copy of the
// one given to NewBase, and changing the caller's afterwards changes
// nothing.
func TestConfigTLSCopied(t *testing.T) {
	cfg := Config{Servers: servers(t, "wss://a")}
	cfg.Dial.TLSConfig = &tls.Config{NextProtos: []string{"first"}}
	b, err := NewBase(cfg, dialertest.NewNetwork(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Dial.TLSConfig.ServerName = "changed"
	cfg.Dial.TLSConfig.NextProtos[0] = "changed"
	o := b.dialOptions(b.Config().Servers[0])
	if o.TLSConfig == cfg.Dial.TLSConfig || o.TLSConfig.NextProtos[0] != "first" || o.TLSConfig.ServerName != "a" {
		t.Errorf("dial TLS config %p ServerName %q NextProtos %q: shares the caller's %p",
			o.TLSConfig, o.TLSConfig.ServerName, o.TLSConfig.NextProtos, cfg.Dial.TLSConfig)
	}
	c := b.Config()
	c.Dial.TLSConfig.NextProtos[0] = "changed via Config()"
	if o := b.dialOptions(b.Config().Servers[0]); o.TLSConfig.NextProtos[0] != "first" {
		t.Errorf("Config() handed out the transport's own TLS config")
	}
}

// selfSigned returns a fresh self-signed certificate, for pools.
func selfSigned(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestConfigTLSPoolShared: transports made from one tls.Config share one
// copy of its root pool, never the caller's; a root added to the caller's
// pool afterwards reaches the next transport only, and Config() hands out
// a copy of the pool, not the shared one.
func TestConfigTLSPoolShared(t *testing.T) {
	pool := x509.NewCertPool()
	pool.AddCert(selfSigned(t, "root one"))
	cfg := Config{Servers: servers(t, "wss://a")}
	cfg.Dial.TLSConfig = &tls.Config{RootCAs: pool}
	newBase := func() *Base {
		b, err := NewBase(cfg, dialertest.NewNetwork(t))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b1, b2 := newBase(), newBase()
	p1, p2 := b1.cfg.Dial.TLSConfig.RootCAs, b2.cfg.Dial.TLSConfig.RootCAs
	if p1 == pool || p1 != p2 || !p1.Equal(pool) {
		t.Fatalf("pools %p and %p for the caller's %p: want one shared copy, equal to it", p1, p2, pool)
	}
	pool.AddCert(selfSigned(t, "root two"))
	b3 := newBase()
	p3 := b3.cfg.Dial.TLSConfig.RootCAs
	if p3 == p1 || !p3.Equal(pool) {
		t.Errorf("after the caller added a root, the next transport's pool %p (equal: %v) is the old copy %p", p3, p3.Equal(pool), p1)
	}
	if p1.Equal(pool) {
		t.Error("the caller's new root reached the transports made before it")
	}
	if c := b1.Config().Dial.TLSConfig.RootCAs; c == p1 || !c.Equal(p1) {
		t.Errorf("Config() handed out the shared pool %p (copy %p)", p1, c)
	}
}
