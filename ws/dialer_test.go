package ws

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

// schemes runs f for a ws and a wss server.
func schemes(t *testing.T, f func(t *testing.T, tls bool)) {
	for _, name := range []string{"ws", "wss"} {
		t.Run(name, func(t *testing.T) { f(t, name == "wss") })
	}
}

func TestDialSubprotocolMissing(t *testing.T) {
	schemes(t, func(t *testing.T, useTLS bool) {
		s := startServer(t, sipserver.Options{TLS: useTLS})
		s.SetHandshake(sipserver.HandshakeOmitSubprotocol)
		var rec recorder
		_, err := (&Dialer{NetDial: rec.dial}).Dial(testContext(t), s.URL(), tlsOptions(s))
		if !errors.Is(err, dialer.ErrSubprotocol) {
			t.Fatalf("Dial = %v, want ErrSubprotocol", err)
		}
		rec.allClosed(t)
	})
}

func TestDialOtherSubprotocol(t *testing.T) {
	closed := make(chan error, 1)
	up := ws.Upgrader{ProtocolCustom: func([]byte) (string, bool) { return "chat", true }}
	srv := wstest.ServeRaw(t, func(c net.Conn) {
		if _, err := up.Upgrade(c); err != nil {
			return
		}
		_, err := c.Read(make([]byte, 1))
		closed <- err
	})
	_, err := new(Dialer).Dial(testContext(t), srv.URL(), dialer.Options{})
	if !errors.Is(err, dialer.ErrSubprotocol) || !strings.Contains(err.Error(), `"chat"`) {
		t.Fatalf("Dial = %v, want ErrSubprotocol naming %q", err, "chat")
	}
	if err := wstest.Await(t, closed); err != io.EOF {
		t.Errorf("server read = %v, want io.EOF: the client must close the socket", err)
	}
}

func TestDialUnofferedExtension(t *testing.T) {
	// The server selects permessage-deflate, which was not offered: gorilla
	// would accept it and compress writes; RFC 6455 §4.1 says fail.
	srv := wstest.ServeRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.WriteString(c, wstest.UpgradeResponse(req, "Sec-WebSocket-Protocol: sip\r\n"+
			"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n"))
		io.Copy(io.Discard, br)
	})
	var rec recorder
	_, err := (&Dialer{NetDial: rec.dial}).Dial(testContext(t), srv.URL(), dialer.Options{})
	if !errors.Is(err, errExtension) {
		t.Fatalf("Dial = %v, want errExtension", err)
	}
	rec.allClosed(t)
}

func TestDialRefused(t *testing.T) {
	t.Run("sipserver 503", func(t *testing.T) {
		schemes(t, func(t *testing.T, useTLS bool) {
			s := startServer(t, sipserver.Options{TLS: useTLS})
			s.SetHandshake(sipserver.HandshakeRefuse)
			var rec recorder
			_, err := (&Dialer{NetDial: rec.dial}).Dial(testContext(t), s.URL(), tlsOptions(s))
			var he *dialer.HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("Dial = %v, want a *dialer.HandshakeError", err)
			}
			if he.StatusCode != 503 || he.Status != "503 Service Unavailable" {
				t.Errorf("HandshakeError = %d %q, want 503 %q", he.StatusCode, he.Status, "503 Service Unavailable")
			}
			rec.allClosed(t)
		})
	})
	t.Run("403 with headers and a body", func(t *testing.T) {
		srv := wstest.ServeRaw(t, func(c net.Conn) {
			http.ReadRequest(bufio.NewReader(c))
			io.WriteString(c, "HTTP/1.1 403 Forbidden\r\nX-Reason: banned\r\nContent-Length: 6\r\n\r\nbanned")
		})
		_, err := new(Dialer).Dial(testContext(t), srv.URL(), dialer.Options{})
		var he *dialer.HandshakeError
		if !errors.As(err, &he) {
			t.Fatalf("Dial = %v, want a *dialer.HandshakeError", err)
		}
		if he.StatusCode != 403 || he.Status != "403 Forbidden" || he.Header.Get("X-Reason") != "banned" {
			t.Errorf("HandshakeError = %d %q %v, want 403 Forbidden with X-Reason", he.StatusCode, he.Status, he.Header)
		}
	})
	t.Run("101 with a bad accept key is not a refusal", func(t *testing.T) {
		srv := wstest.ServeRaw(t, func(c net.Conn) {
			http.ReadRequest(bufio.NewReader(c))
			io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Accept: bogus\r\nSec-WebSocket-Protocol: sip\r\n\r\n")
		})
		_, err := new(Dialer).Dial(testContext(t), srv.URL(), dialer.Options{})
		var he *dialer.HandshakeError
		if err == nil || errors.As(err, &he) {
			t.Fatalf("Dial = %v, want a handshake failure that is not a *dialer.HandshakeError", err)
		}
	})
}

func TestDialStalledHandshake(t *testing.T) {
	const short = 200 * time.Millisecond
	tests := []struct {
		name   string
		ctx    func() (context.Context, context.CancelFunc)
		option time.Duration // Options.HandshakeTimeout
		want   error
	}{
		{
			name: "context deadline",
			ctx:  func() (context.Context, context.CancelFunc) { return context.WithTimeout(context.Background(), short) },
			want: context.DeadlineExceeded,
		},
		{
			name:   "HandshakeTimeout",
			ctx:    func() (context.Context, context.CancelFunc) { return context.Background(), func() {} },
			option: short,
			want:   context.DeadlineExceeded,
		},
		{
			// gorilla bounds the upgrade by the deadline only: without
			// one, a cancel must still interrupt it.
			name: "cancel without deadline",
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(short, cancel)
				return ctx, cancel
			},
			want: context.Canceled,
		},
	}
	stalls := []struct {
		name  string
		start func(t *testing.T) (string, dialer.Options) // a stalling server's URL, and what trusts it
	}{
		{name: "upgrade/ws", start: stallUpgrade(false)},
		{name: "upgrade/wss", start: stallUpgrade(true)},
		{name: "TLS handshake", start: func(t *testing.T) (string, dialer.Options) {
			srv := wstest.ServeRaw(t, func(c net.Conn) { io.Copy(io.Discard, c) }) // accepts TCP, never answers
			return "wss" + strings.TrimPrefix(srv.URL(), "ws"), dialer.Options{}
		}},
	}
	for _, st := range stalls {
		for _, tt := range tests {
			t.Run(st.name+"/"+tt.name, func(t *testing.T) {
				url, o := st.start(t)
				o.HandshakeTimeout = tt.option
				ctx, cancel := tt.ctx()
				defer cancel()
				var rec recorder
				start := time.Now()
				done := make(chan error, 1)
				go func() { // a Dial that ignores ctx fails the test instead of hanging it
					_, err := (&Dialer{NetDial: rec.dial}).Dial(ctx, url, o)
					done <- err
				}()
				err := wstest.Await(t, done)
				elapsed := time.Since(start)
				if !errors.Is(err, tt.want) {
					t.Fatalf("Dial = %v, want an error wrapping %v", err, tt.want)
				}
				if elapsed < short || elapsed > short+time.Second {
					t.Errorf("Dial returned after %v, want %v and promptly", elapsed, short)
				}
				rec.allClosed(t)
			})
		}
	}
}

// stallUpgrade returns a start function for a sipserver that stalls the
// upgrade after TLS.
func stallUpgrade(useTLS bool) func(t *testing.T) (string, dialer.Options) {
	return func(t *testing.T) (string, dialer.Options) {
		s := startServer(t, sipserver.Options{TLS: useTLS})
		s.SetHandshake(sipserver.HandshakeStall)
		return s.URL(), tlsOptions(s)
	}
}

func TestDialTimeoutExact(t *testing.T) {
	tests := []struct {
		name     string
		ctx      time.Duration // the deadline of Dial's context; 0 for none
		option   time.Duration // Options.HandshakeTimeout
		wantTime time.Duration
	}{
		{name: "HandshakeTimeout alone", option: 3 * time.Second, wantTime: 3 * time.Second},
		{name: "context shorter", ctx: 2 * time.Second, option: 3 * time.Second, wantTime: 2 * time.Second},
		{name: "HandshakeTimeout shorter", ctx: 5 * time.Second, option: time.Second, wantTime: time.Second},
		{name: "context alone", ctx: 4 * time.Second, wantTime: 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				client, peer := net.Pipe()
				go io.Copy(io.Discard, peer) // reads the upgrade, never answers
				defer peer.Close()
				d := &Dialer{NetDial: func(context.Context, string, string) (net.Conn, error) { return client, nil }}
				ctx := context.Background()
				if tt.ctx > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.ctx)
					defer cancel()
				}
				start := time.Now()
				_, err := d.Dial(ctx, "ws://sip.invalid/ws", dialer.Options{HandshakeTimeout: tt.option})
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Dial = %v, want an error wrapping context.DeadlineExceeded", err)
				}
				if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
					t.Errorf("Dial = %v, want it to wrap ctx.Err() = %v", err, ctx.Err())
				}
				if got := time.Since(start); got != tt.wantTime {
					t.Errorf("Dial returned after %v, want %v", got, tt.wantTime)
				}
				if _, err := client.Write([]byte{0}); !errors.Is(err, io.ErrClosedPipe) {
					t.Errorf("client socket write = %v, want it closed", err)
				}
			})
		})
	}
}

func TestDialHeader(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	h := http.Header{
		"Origin":     {"https://phone.example.com"},
		"host":       {"sip.example.com"}, // not canonical: must still replace the Host line
		"user-agent": {"sipws-test"},
		"X-Multi":    {"a", "b"},
	}
	orig := h.Clone()
	dialTo(t, &Dialer{}, s.URL(), dialer.Options{Header: h})
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(reqs))
	}
	got := reqs[0].Header
	if v := got.Values("Host"); len(v) != 1 || v[0] != "sip.example.com" {
		t.Errorf("server saw Host %q, want exactly the one from Options.Header", v)
	}
	if got.Get("Origin") != "https://phone.example.com" || got.Get("User-Agent") != "sipws-test" {
		t.Errorf("server saw headers %v, want Origin and User-Agent", got)
	}
	if v := got.Values("X-Multi"); strings.Join(v, ",") != "a,b" {
		t.Errorf("server saw X-Multi %q, want both values", v)
	}
	if v := got.Values("Sec-WebSocket-Protocol"); len(v) != 1 || v[0] != "sip" {
		t.Errorf("server saw Sec-WebSocket-Protocol %q, want exactly sip", v)
	}
	if len(h) != len(orig) || h.Get("host") != "" || h["host"][0] != "sip.example.com" || h["user-agent"][0] != "sipws-test" {
		t.Errorf("Options.Header became %v, want it unmodified (%v)", h, orig)
	}
}

// TestDialRejectsOptions: Options that dialer.Options.Check refuses fail
// Dial before any socket is opened (the full table is dialer's own test).
func TestDialRejectsOptions(t *testing.T) {
	tests := []struct {
		name string
		o    dialer.Options
	}{
		{name: "Sec-WebSocket-Protocol", o: dialer.Options{Header: http.Header{"Sec-Websocket-Protocol": {"sip"}}}},
		{name: "header name with CRLF", o: dialer.Options{Header: http.Header{"X-A\r\nX-B": {"1"}}}},
		{name: "negative MaxMessageSize", o: dialer.Options{MaxMessageSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dials atomic.Int32
			d := &Dialer{NetDial: func(context.Context, string, string) (net.Conn, error) {
				dials.Add(1)
				return nil, errors.New("dialed")
			}}
			_, err := d.Dial(context.Background(), "ws://127.0.0.1:1/", tt.o)
			if !errors.Is(err, dialer.ErrOptions) || dials.Load() != 0 {
				t.Errorf("Dial = %v after %d dials, want dialer.ErrOptions before dialing", err, dials.Load())
			}
		})
	}
}

func TestDialNetDialReturnsNothing(t *testing.T) {
	d := &Dialer{NetDial: func(context.Context, string, string) (net.Conn, error) { return nil, nil }}
	if _, err := d.Dial(testContext(t), "ws://127.0.0.1:1/", dialer.Options{}); err == nil {
		t.Fatal("Dial = nil error with a NetDial that returned nothing, want an error")
	}
}

func TestDialConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	_, err = new(Dialer).Dial(testContext(t), url, dialer.Options{})
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Errorf("Dial = %v, want the *net.OpError of a refused connection", err)
	}
}

func TestDialBadURL(t *testing.T) {
	for _, url := range []string{"http://127.0.0.1/", "ws://user@127.0.0.1/", "::"} {
		if _, err := new(Dialer).Dial(testContext(t), url, dialer.Options{}); err == nil {
			t.Errorf("Dial(%q) = nil error, want one", url)
		}
	}
}

func TestDialBufferedAfterHandshake(t *testing.T) {
	// The server's first frame arrives in the same segment as its 101, so
	// it sits in the reader that parsed the answer: it must not be lost.
	srv := wstest.ServeRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		msg := ws.MustCompileFrame(ws.NewTextFrame([]byte("early")))
		c.Write(append([]byte(wstest.UpgradeResponse(req, "Sec-WebSocket-Protocol: sip\r\n")), msg...))
		wstest.ReadClose(br)
	})
	c := dialTo(t, &Dialer{}, srv.URL(), dialer.Options{})
	if p, err := c.ReadMessage(); err != nil || string(p) != "early" {
		t.Fatalf("ReadMessage = %q, %v; want the frame sent with the handshake", p, err)
	}
}

func TestDialTLS(t *testing.T) {
	s := startServer(t, sipserver.Options{TLS: true})
	t.Run("trusted via ClientTLSConfig", func(t *testing.T) {
		cfg := s.ClientTLSConfig()
		roots := cfg.RootCAs
		c := dialTo(t, &Dialer{}, s.URL(), dialer.Options{TLSConfig: cfg})
		if cfg.ServerName != "" || cfg.RootCAs != roots || cfg.NextProtos != nil || cfg.InsecureSkipVerify {
			t.Errorf("TLSConfig modified: %+v", cfg)
		}
		if _, ok := c.ws.NetConn().(*tls.Conn); !ok {
			t.Fatalf("socket is %T, want a *tls.Conn", c.ws.NetConn())
		}
		if err := c.WriteMessage(sipRequest(0)); err != nil {
			t.Fatal(err)
		}
		if p, err := c.ReadMessage(); err != nil || !strings.HasPrefix(string(p), "SIP/2.0 200 OK\r\n") {
			t.Fatalf("ReadMessage = %q, %v; want the 200", p, err)
		}
	})
	t.Run("trusted via RootCAs with ServerName", func(t *testing.T) {
		cfg := &tls.Config{RootCAs: s.RootCAs(), ServerName: "localhost"}
		dialTo(t, &Dialer{}, s.URL(), dialer.Options{TLSConfig: cfg})
	})
	t.Run("ServerName not in the certificate", func(t *testing.T) {
		cfg := &tls.Config{RootCAs: s.RootCAs(), ServerName: "sip.example.org"}
		_, err := new(Dialer).Dial(testContext(t), s.URL(), dialer.Options{TLSConfig: cfg})
		var ve *tls.CertificateVerificationError
		if !errors.As(err, &ve) {
			t.Errorf("Dial = %v, want a certificate verification error", err)
		}
	})
	t.Run("untrusted without RootCAs", func(t *testing.T) {
		var rec recorder
		_, err := (&Dialer{NetDial: rec.dial}).Dial(testContext(t), s.URL(), dialer.Options{})
		var ve *tls.CertificateVerificationError
		if !errors.As(err, &ve) {
			t.Errorf("Dial = %v, want a certificate verification error", err)
		}
		rec.allClosed(t)
	})
}
