package wsgobwas

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

func TestDialSubprotocol(t *testing.T) {
	tests := []struct {
		name string
		up   ws.Upgrader
	}{
		{name: "server selects none", up: ws.Upgrader{}},
		{
			name: "server selects another",
			up:   ws.Upgrader{ProtocolCustom: func([]byte) (string, bool) { return "chat", true }},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			closed := make(chan error, 1)
			srv := wstest.ServeUpgraded(t, tt.up, func(c net.Conn) {
				_, err := c.Read(make([]byte, 1))
				closed <- err
			})
			_, err := new(Dialer).Dial(context.Background(), srv.URL(), dialer.Options{})
			if !errors.Is(err, dialer.ErrSubprotocol) {
				t.Fatalf("Dial = %v, want ErrSubprotocol", err)
			}
			if err := wstest.Await(t, closed); err != io.EOF {
				t.Errorf("server read = %v, want io.EOF: the client must close the socket", err)
			}
		})
	}
}

func TestDialRefusedWithStatus(t *testing.T) {
	tests := []struct {
		name       string
		handle     func(c net.Conn)
		wantCode   int
		wantStatus string
		wantHeader [2]string
	}{
		{
			name: "403 from gobwas Upgrader",
			handle: func(c net.Conn) {
				ws.Upgrader{
					OnRequest: func([]byte) error {
						return ws.RejectConnectionError(
							ws.RejectionStatus(http.StatusForbidden),
							ws.RejectionReason("banned"),
							ws.RejectionHeader(ws.HandshakeHeaderString("X-Reason: banned\r\n")),
						)
					},
				}.Upgrade(c)
			},
			wantCode:   403,
			wantStatus: "403 Forbidden",
			wantHeader: [2]string{"X-Reason", "banned"},
		},
		{
			name: "503 with a body",
			handle: func(c net.Conn) {
				http.ReadRequest(bufio.NewReader(c))
				io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: 4\r\n\r\nbusy")
			},
			wantCode:   503,
			wantStatus: "503 Service Unavailable",
			wantHeader: [2]string{"Retry-After", "5"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wstest.ServeRaw(t, tt.handle)
			_, err := new(Dialer).Dial(context.Background(), srv.URL(), dialer.Options{})
			var he *dialer.HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("Dial = %v, want a *dialer.HandshakeError", err)
			}
			if he.StatusCode != tt.wantCode || he.Status != tt.wantStatus {
				t.Errorf("HandshakeError = %d %q, want %d %q", he.StatusCode, he.Status, tt.wantCode, tt.wantStatus)
			}
			if got := he.Header.Get(tt.wantHeader[0]); got != tt.wantHeader[1] {
				t.Errorf("Header[%s] = %q, want %q", tt.wantHeader[0], got, tt.wantHeader[1])
			}
		})
	}
}

func TestDialStalledHandshakeCancel(t *testing.T) {
	accepted := make(chan struct{})
	ended := make(chan error, 1)
	srv := wstest.ServeRaw(t, func(c net.Conn) {
		close(accepted)
		_, err := io.Copy(io.Discard, c) // never answers the upgrade
		ended <- err
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-accepted
		cancel()
	}()
	start := time.Now()
	_, err := new(Dialer).Dial(ctx, srv.URL(), dialer.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Dial = %v, want an error wrapping context.Canceled", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Dial returned %v after the cancel, want promptly", d)
	}
	if err := wstest.Await(t, ended); err != nil {
		t.Errorf("server saw %v, want EOF: Dial must close the socket", err)
	}
}

func TestDialTimeout(t *testing.T) {
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
				d := &Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
					return client, nil
				}}
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
	type seen struct {
		host   string
		header http.Header
	}
	got := make(chan seen, 1)
	var s seen
	up := wstest.SIPUpgrader()
	up.OnHost = func(h []byte) error { s.host = string(h); return nil }
	up.OnHeader = func(k, v []byte) error {
		if s.header == nil {
			s.header = make(http.Header)
		}
		s.header.Add(string(k), string(v))
		return nil
	}
	srv := wstest.ServeUpgraded(t, up, func(c net.Conn) {
		got <- s
		wstest.ReadClose(c)
	})
	h := http.Header{"Origin": {"https://phone.example.com"}, "Host": {"sip.example.com"}, "user-agent": {"sipws-test"}}
	dial(t, &Dialer{}, srv.URL(), dialer.Options{Header: h})
	g := wstest.Await(t, got)
	if g.host != "sip.example.com" {
		t.Errorf("server saw Host %q, want the one from Options.Header", g.host)
	}
	if g.header.Get("Origin") != "https://phone.example.com" || g.header.Get("User-Agent") != "sipws-test" {
		t.Errorf("server saw headers %v, want Origin and User-Agent", g.header)
	}
	if len(h) != 3 || h.Get("Host") != "sip.example.com" {
		t.Errorf("Options.Header became %v, want it unmodified", h)
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

func TestDialConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	_, err = new(Dialer).Dial(context.Background(), url, dialer.Options{})
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Errorf("Dial = %v, want the *net.OpError of a refused connection", err)
	}
}

func TestDialBufferedAfterHandshake(t *testing.T) {
	// The server's first frame arrives in the same segment as its 101, so
	// gobwas's handshake reader holds it: the connection must read it.
	srv := wstest.ServeRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		msg := ws.MustCompileFrame(ws.NewTextFrame([]byte("early")))
		c.Write(append([]byte(wstest.UpgradeResponse(req, "Sec-WebSocket-Protocol: sip\r\n")), msg...))
		echoRW(struct {
			io.Reader
			io.Writer
		}{br, c})
	})
	c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
	if !c.brWS {
		t.Fatalf("the connection does not use gobwas's handshake reader; the test server's timing did not hold")
	}
	if p, err := c.ReadMessage(); err != nil || string(p) != "early" {
		t.Fatalf("ReadMessage = %q, %v; want the frame sent with the handshake", p, err)
	}
	if err := c.WriteMessage([]byte("later")); err != nil {
		t.Fatal(err)
	}
	if p, err := c.ReadMessage(); err != nil || string(p) != "later" {
		t.Fatalf("ReadMessage = %q, %v; want the echo", p, err)
	}
}

func TestDialTLS(t *testing.T) {
	var handlers sync.WaitGroup
	defer handlers.Wait()
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		up := ws.HTTPUpgrader{Protocol: func(p string) bool { return p == dialer.Subprotocol }}
		c, _, _, err := up.Upgrade(r, w)
		if err != nil {
			return
		}
		handlers.Add(1)
		defer handlers.Done()
		defer c.Close()
		c.SetDeadline(time.Now().Add(wstest.Wait))
		echo(c)
	}))
	defer ts.Close()
	url := "wss://" + ts.Listener.Addr().String() + "/sip"
	roots := x509.NewCertPool()
	roots.AddCert(ts.Certificate())

	t.Run("self-signed trusted via RootCAs", func(t *testing.T) {
		cfg := &tls.Config{RootCAs: roots}
		c, err := new(Dialer).Dial(context.Background(), url, dialer.Options{TLSConfig: cfg})
		if err != nil {
			t.Fatalf("Dial = %v, want a connection", err)
		}
		defer c.Close(dialer.CloseNormalClosure, "")
		if cfg.ServerName != "" || cfg.RootCAs != roots || cfg.NextProtos != nil || cfg.InsecureSkipVerify {
			t.Errorf("TLSConfig modified: %+v", cfg)
		}
		if err := c.WriteMessage([]byte("over TLS")); err != nil {
			t.Fatal(err)
		}
		if p, err := c.ReadMessage(); err != nil || string(p) != "over TLS" {
			t.Fatalf("ReadMessage = %q, %v; want the echo", p, err)
		}
	})
	t.Run("ServerName checked", func(t *testing.T) {
		cfg := &tls.Config{RootCAs: roots, ServerName: "sip.example.org"}
		_, err := new(Dialer).Dial(context.Background(), url, dialer.Options{TLSConfig: cfg})
		var ve *tls.CertificateVerificationError
		if !errors.As(err, &ve) {
			t.Errorf("Dial = %v, want a certificate verification error", err)
		}
	})
	t.Run("untrusted without RootCAs", func(t *testing.T) {
		_, err := new(Dialer).Dial(context.Background(), url, dialer.Options{})
		var ve *tls.CertificateVerificationError
		if !errors.As(err, &ve) {
			t.Errorf("Dial = %v, want a certificate verification error", err)
		}
	})
}
