package ws

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

func TestCloseSendsCloseFrame(t *testing.T) {
	long := strings.Repeat("r", 200)
	accents := strings.Repeat("é", 100) // 2 bytes each: 123 bytes would split one
	tests := []struct {
		name       string
		code       int
		reason     string
		wantCode   int
		wantReason string
	}{
		{name: "normal", code: 1000, wantCode: 1000},
		{name: "code and reason", code: 4001, reason: "bye", wantCode: 4001, wantReason: "bye"},
		{name: "going away", code: 1001, reason: "pong timeout", wantCode: 1001, wantReason: "pong timeout"},
		{name: "long reason cut to 123 bytes", code: 1000, reason: long, wantCode: 1000, wantReason: long[:123]},
		{name: "long reason cut between characters", code: 1000, reason: accents, wantCode: 1000, wantReason: accents[:122]},
		{name: "1005 sends no body", code: 1005, reason: "x", wantCode: 1005},
		{name: "1006 sends no body", code: 1006, wantCode: 1005},
		{name: "1015 sends no body", code: 1015, wantCode: 1005},
		{name: "999 sends no body", code: 999, wantCode: 1005},
		{name: "5000 sends no body", code: 5000, wantCode: 1005},
	}
	s := startServer(t, sipserver.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, sc := dialServer(t, s, &Dialer{})
			if err := c.Close(tt.code, tt.reason); err != nil {
				t.Errorf("Close = %v, want nil", err)
			}
			if code, reason := closeReceived(t, s, sc); code != tt.wantCode || reason != tt.wantReason {
				t.Errorf("server got close %d %q, want %d %q", code, reason, tt.wantCode, tt.wantReason)
			}
		})
	}
}

// pipeConn dials over net.Pipe, inside a synctest bubble, and returns the
// connection and the server's end, upgraded (over TLS for wss) and no
// longer read: a peer that has stopped reading.
func pipeConn(t *testing.T, useTLS bool) (*conn, net.Conn) {
	t.Helper()
	client, raw := net.Pipe()
	t.Cleanup(func() { raw.Close() })
	peer := raw
	url := "ws://sip.invalid/"
	var o dialer.Options
	if useTLS {
		peer = tls.Server(raw, &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}})
		url = "wss://sip.invalid/"
		o.TLSConfig = &tls.Config{InsecureSkipVerify: true} // this is about closing, not trust
	}
	upgraded := make(chan error, 1)
	go func() {
		_, err := wstest.SIPUpgrader().Upgrade(peer)
		upgraded <- err
	}()
	d := &Dialer{NetDial: func(context.Context, string, string) (net.Conn, error) { return client, nil }}
	c, err := d.Dial(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-upgraded; err != nil {
		t.Fatal(err)
	}
	return c.(*conn), peer
}

func TestCloseBounded(t *testing.T) {
	schemes(t, func(t *testing.T, useTLS bool) {
		t.Run("peer not reading", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, peer := pipeConn(t, useTLS)
				start := time.Now()
				c.Close(dialer.CloseNormalClosure, "")
				// Exactly the close frame's second: no TLS close_notify
				// wait (five seconds) after it.
				if got := time.Since(start); got != closeTimeout {
					t.Errorf("Close took %v, want %v", got, closeTimeout)
				}
				if _, err := peer.Read(make([]byte, 1)); err == nil {
					t.Errorf("peer read succeeded, want the socket closed")
				}
			})
		})
		t.Run("write pending on a peer not reading", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, _ := pipeConn(t, useTLS)
				werr := make(chan error, 1)
				go func() { werr <- c.WriteMessage(make([]byte, 1000)) }()
				synctest.Wait() // the write is blocked
				start := time.Now()
				c.Close(dialer.CloseNormalClosure, "")
				if got := time.Since(start); got != closeTimeout {
					t.Errorf("Close took %v, want %v", got, closeTimeout)
				}
				if err := <-werr; !errors.Is(err, net.ErrClosed) {
					t.Errorf("WriteMessage = %v, want net.ErrClosed", err)
				}
			})
		})
	})
}

func TestCloseBoundedOnRealSockets(t *testing.T) {
	// A peer that upgrades and never reads, with small socket buffers on
	// both sides: a 64 KiB message cannot fit in them.
	schemes(t, func(t *testing.T, useTLS bool) {
		var cfg *tls.Config
		if useTLS {
			cfg = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
		}
		stop := make(chan struct{})
		srv := wstest.ServeRaw(t, func(c net.Conn) {
			c.(*net.TCPConn).SetReadBuffer(2048)
			var nc net.Conn = c
			if cfg != nil {
				nc = tls.Server(c, cfg)
			}
			nc.SetDeadline(time.Now().Add(wstest.Wait))
			if _, err := wstest.SIPUpgrader().Upgrade(nc); err != nil {
				return
			}
			select {
			case <-stop:
			case <-time.After(wstest.Wait):
			}
		})
		defer close(stop)
		url, o := srv.URL(), dialer.Options{}
		if useTLS {
			url = "wss" + strings.TrimPrefix(url, "ws")
			o.TLSConfig = &tls.Config{InsecureSkipVerify: true}
		}
		rec := recorder{setup: func(c *net.TCPConn) { c.SetWriteBuffer(2048) }}
		c := dialTo(t, &Dialer{NetDial: rec.dial}, url, o)
		started := make(chan struct{})
		werr := make(chan error, 1)
		go func() {
			close(started)
			for {
				if err := c.WriteMessage(message(dialer.DefaultMaxMessageSize, false)); err != nil {
					werr <- err
					return
				}
			}
		}()
		<-started
		start := time.Now()
		c.Close(dialer.CloseNormalClosure, "")
		if got := time.Since(start); got > closeTimeout+time.Second {
			t.Errorf("Close took %v, want at most about %v", got, closeTimeout)
		}
		if err := wstest.Await(t, werr); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WriteMessage = %v, want net.ErrClosed", err)
		}
	})
}

func TestCloseDoesNotInterleave(t *testing.T) {
	// A Close during a write waits for the frame to be whole before its
	// close frame goes out.
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipeConn(t, false)
		received := make(chan []byte, 1)
		go func() {
			var all []byte
			buf := make([]byte, 100)
			for {
				n, err := peer.Read(buf)
				all = append(all, buf[:n]...)
				if err != nil {
					received <- all
					return
				}
				time.Sleep(time.Millisecond) // a slow reader
			}
		}()
		msg := bytes.Repeat([]byte("x"), 10000)
		werr := make(chan error, 1)
		go func() { werr <- c.WriteMessage(msg) }()
		synctest.Wait()
		c.Close(4002, "done")
		if err := <-werr; err != nil {
			t.Errorf("WriteMessage = %v, want nil", err)
		}
		r := bytes.NewReader(<-received)
		f, err := wstest.ReadFrame(r)
		if err != nil || f.Header.OpCode != ws.OpText || !f.Header.Fin || !bytes.Equal(f.Payload, msg) {
			t.Fatalf("first frame = %v fin=%v %d bytes (%v), want the whole message", f.Header.OpCode, f.Header.Fin, len(f.Payload), err)
		}
		code, reason, err := wstest.ReadClose(r)
		if err != nil || code != 4002 || reason != "done" {
			t.Errorf("then %d %q (%v), want close 4002 %q", code, reason, err, "done")
		}
	})
}

func TestCloseUnblocksReadMessage(t *testing.T) {
	type closeFrame struct {
		code   int
		reason string
	}
	got := make(chan closeFrame, 1)
	srv := wstest.ServeSIP(t, func(c net.Conn) {
		code, reason, _ := wstest.ReadClose(c) // no echo: the client must not wait
		got <- closeFrame{code, reason}
		io.Copy(io.Discard, c)
	})
	c := dialTo(t, &Dialer{}, srv.URL(), dialer.Options{})
	read := wstest.ReadAsync(c)
	start := time.Now()
	if err := c.Close(4003, "leaving"); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	r := wstest.Await(t, read)
	if ce := wstest.CloseErrorOf(t, r.Err); ce.Code != dialer.CloseAbnormal || !errors.Is(r.Err, net.ErrClosed) {
		t.Errorf("ReadMessage = %v, want 1006 wrapping net.ErrClosed", r.Err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ReadMessage returned %v after Close, want promptly", d)
	}
	if g := wstest.Await(t, got); g.code != 4003 || g.reason != "leaving" {
		t.Errorf("server got close %d %q, want 4003 %q", g.code, g.reason, "leaving")
	}
}

func TestCloseIdempotent(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	c, sc := dialServer(t, s, &Dialer{})
	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() { errs <- c.Close(dialer.CloseNormalClosure, "") })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
	}
	if err := c.Close(dialer.CloseGoingAway, "again"); err != nil {
		t.Errorf("Close after Close = %v, want nil", err)
	}
	wstest.Await(t, sc.Done())
	n := 0
	for _, f := range sc.Frames() {
		if f.Op == sipserver.OpClose {
			n++
		}
	}
	if n != 1 {
		t.Errorf("server got %d close frames, want 1", n)
	}
}

func TestAfterClose(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	c, _ := dialServer(t, s, &Dialer{})
	c.Close(dialer.CloseNormalClosure, "")
	_, err := c.ReadMessage()
	if ce := wstest.CloseErrorOf(t, err); ce.Code != dialer.CloseAbnormal || !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadMessage after Close = %v, want 1006 wrapping net.ErrClosed", err)
	}
	if _, again := c.ReadMessage(); again != err {
		t.Errorf("ReadMessage again = %v, want the same %v", again, err)
	}
	if err := c.WriteMessage([]byte("late")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteMessage after Close = %v, want net.ErrClosed", err)
	}
}

func TestCloseConcurrentWithReadAndWrite(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	req := sipRequest(0)
	for i := range 20 {
		c := dialTo(t, &Dialer{}, s.URL(), dialer.Options{})
		var wg sync.WaitGroup
		started := make(chan struct{}, 2)
		wg.Go(func() {
			started <- struct{}{}
			for {
				if _, err := c.ReadMessage(); err != nil {
					var ce *dialer.CloseError
					if !errors.As(err, &ce) {
						t.Errorf("round %d: ReadMessage = %v, want a *dialer.CloseError", i, err)
					}
					return
				}
			}
		})
		wg.Go(func() {
			started <- struct{}{}
			for range 10000 {
				if c.WriteMessage(req) != nil {
					return
				}
			}
		})
		<-started
		<-started
		for range 2 {
			wg.Go(func() { c.Close(dialer.CloseNormalClosure, "") })
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		wstest.Await(t, done)
	}
}

func TestPongsBetweenFrames(t *testing.T) {
	// The server pings while the client writes fragmented messages: each
	// pong must go between two frames, never inside one, or the server's
	// parser breaks.
	s := startServer(t, sipserver.Options{})
	c, sc := dialServer(t, s, &Dialer{WriteBufferSize: 256})
	reading := make(chan error, 1)
	go func() {
		for {
			if _, err := c.ReadMessage(); err != nil {
				reading <- err
				return
			}
		}
	}()
	const pings, messages = 200, 50
	pinged := make(chan error, 1)
	go func() {
		for i := range pings {
			if err := sc.Ping([]byte{byte(i)}); err != nil {
				pinged <- err
				return
			}
		}
		pinged <- nil
	}()
	p := message(5000, false)
	for range messages {
		if err := c.WriteMessage(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := wstest.Await(t, pinged); err != nil {
		t.Fatal(err)
	}
	waitFor(t, s, "every message and pong", func() bool {
		return len(sc.Received()) == messages && len(sc.Pongs()) == pings
	})
	for i, m := range sc.Received() {
		if !bytes.Equal(m, p) {
			t.Fatalf("message %d: server got %d bytes that differ from the %d written", i, len(m), len(p))
		}
	}
	for i, pong := range sc.Pongs() {
		if len(pong) != 1 || pong[0] != byte(i) {
			t.Fatalf("pong %d = %v, want [%d]", i, pong, byte(i))
		}
	}
	if _, _, ok := sc.CloseReceived(); ok {
		t.Fatal("the connection was closed")
	}
	c.Close(dialer.CloseNormalClosure, "")
	wstest.Await(t, reading)
}

// selfSigned returns a throwaway server certificate for 127.0.0.1, valid
// around the current time (a synctest bubble's too).
func selfSigned(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ws test"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
