package sipserver

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

func TestStartRejectsNegativeReadLimit(t *testing.T) {
	if s, err := Start(Options{ReadLimit: -1}); err == nil {
		s.Close()
		t.Fatal("Start with ReadLimit -1: got nil error, want one")
	}
}

func TestURL(t *testing.T) {
	for _, tls := range []bool{false, true} {
		s := start(t, Options{TLS: tls})
		want := "ws://" + s.Addr() + "/"
		if tls {
			want = "wss://" + s.Addr() + "/"
		}
		if s.URL() != want || !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
			t.Errorf("TLS %v: URL %q, Addr %q; want %q on 127.0.0.1", tls, s.URL(), s.Addr(), want)
		}
		if got := s.ClientTLSConfig() != nil && s.RootCAs() != nil; got != tls {
			t.Errorf("TLS %v: ClientTLSConfig and RootCAs non-nil = %v", tls, got)
		}
	}
}

func TestAnswersSIPRequests(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want string // the first line and the copied headers of the answer
	}{
		{"OPTIONS", options, optionsAnswer},
		{"REGISTER", register, "SIP/2.0 200 OK\r\nVia: SIP/2.0/WSS ua.invalid;branch=z9hG4bKr\r\n" +
			"From: <sip:bob@example.com>;tag=b1\r\nTo: <sip:bob@example.com>;tag=T\r\nCall-ID: r1\r\nCSeq: 2 REGISTER\r\n" +
			"Content-Length: 0\r\n\r\n"},
	}
	s := start(t, Options{})
	c := mustDial(t, s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(t, c, tt.msg)
			got := read(t, c)
			// The tag is random: check it is there, then compare the rest.
			to := strings.Index(got, "\r\nTo: ")
			j := strings.Index(got, "\r\nCall-ID")
			i := strings.Index(got[max(to, 0):], ";tag=") + to
			if to < 0 || i < to || j < i || i+len(";tag=") == j {
				t.Fatalf("answer without a To tag:\n%s", got)
			}
			if got = got[:i] + ";tag=T" + got[j:]; got != tt.want {
				t.Fatalf("answer =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestNoAnswer relies on answers keeping arrival order: when the probe's
// answer comes first, the message before it got none.
func TestNoAnswer(t *testing.T) {
	const probe = "\r\n\r\n"
	tests := []struct {
		name   string
		script func(s *Server)
		msg    string
	}{
		{"ACK", nil, strings.Replace(options, "OPTIONS sip:", "ACK sip:", 1)},
		{"response", nil, optionsAnswer},
		{"not SIP", nil, "hello"},
		{"SetAnswerSIP off", func(s *Server) { s.SetAnswerSIP(false) }, options},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{})
			if tt.script != nil {
				tt.script(s)
			}
			c := mustDial(t, s)
			write(t, c, tt.msg)
			write(t, c, probe)
			if got := read(t, c); got != "\r\n" {
				t.Fatalf("first answer %q, want the probe's \"\\r\\n\"", got)
			}
		})
	}
}

func TestCRLFKeepalive(t *testing.T) {
	t.Run("answered", func(t *testing.T) {
		s := start(t, Options{})
		c := mustDial(t, s)
		write(t, c, "\r\n\r\n")
		if got := read(t, c); got != "\r\n" {
			t.Fatalf("answer to a CRLF ping = %q, want %q", got, "\r\n")
		}
	})
	t.Run("blackholed", func(t *testing.T) {
		s := start(t, Options{})
		s.SetAnswerPings(false)
		c := mustDial(t, s)
		write(t, c, "\r\n\r\n")
		write(t, c, options)
		if got := read(t, c); !strings.HasPrefix(got, "SIP/2.0 200 OK\r\n") {
			t.Fatalf("first answer %q, want the OPTIONS' 200: the ping must get none", got)
		}
		if got, err := s.WaitReceived(testContext(t), 2); err != nil || string(got[0]) != "\r\n\r\n" {
			t.Fatalf("Received = %q, %v; want the ping recorded first", got, err)
		}
	})
}

func TestReceived(t *testing.T) {
	s := start(t, Options{})
	c := mustDial(t, s)
	want := []string{"one", "two", "three"}
	for _, m := range want {
		write(t, c, m)
	}
	got, err := s.WaitReceived(testContext(t), len(want))
	if err != nil || !equal(got, want) {
		t.Fatalf("WaitReceived = %q, %v; want %q", got, err, want)
	}
	conns := s.Conns()
	if len(conns) != 1 || !equal(conns[0].Received(), want) {
		t.Fatalf("Conns()[0].Received() = %q; want %q", conns[0].Received(), want)
	}
	got[0][0] = 'X'
	if string(s.Received()[0]) != "one" {
		t.Fatal("Received returned the server's own slice, not a copy")
	}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := s.WaitReceived(cancelled, 4); !errors.Is(err, context.Canceled) || len(got) != 3 {
		t.Fatalf("WaitReceived(cancelled, 4) = %d messages, %v; want 3 and context.Canceled", len(got), err)
	}
}

func TestWaitAfterClose(t *testing.T) {
	s := start(t, Options{})
	s.Close()
	if err := s.Wait(testContext(t), func() bool { return false }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after Close = %v, want ErrClosed", err)
	}
	if err := s.Wait(testContext(t), func() bool { return true }); err != nil {
		t.Fatalf("Wait for a true condition after Close = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
}

func TestWaitConnsInAcceptOrder(t *testing.T) {
	s := start(t, Options{})
	for range 3 {
		mustDial(t, s)
	}
	conns, err := s.WaitConns(testContext(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for _, c := range conns {
		ids = append(ids, c.ID())
	}
	if !slices.Equal(ids, []int{1, 2, 3}) || s.Handshakes() != 3 {
		t.Fatalf("conn IDs %v, Handshakes %d; want [1 2 3] and 3", ids, s.Handshakes())
	}
}

func TestBigMessages(t *testing.T) {
	t.Run("under the limit", func(t *testing.T) {
		s := start(t, Options{})
		c := mustDial(t, s)
		big := strings.Repeat("x", DefaultReadLimit)
		write(t, c, big)
		got, err := s.WaitReceived(testContext(t), 1)
		if err != nil || len(got[0]) != len(big) {
			t.Fatalf("received %d bytes, %v; want %d", len(got[0]), err, len(big))
		}
	})
	t.Run("over the limit", func(t *testing.T) {
		s := start(t, Options{ReadLimit: 100})
		c := mustDial(t, s)
		write(t, c, strings.Repeat("x", 101))
		var ce *websocket.CloseError
		if err := readErr(t, c); !errors.As(err, &ce) || ce.Code != 1009 {
			t.Fatalf("client read error %v, want close 1009", err)
		}
	})
}

func TestWSS(t *testing.T) {
	s := start(t, Options{TLS: true, Name: "wss"})
	tests := []struct {
		serverName string
		roots      bool
		wantErr    bool
	}{
		{"", true, false}, // 127.0.0.1, from the URL
		{"localhost", true, false},
		{"::1", true, false},
		{"example.com", true, true},
		{"", false, true}, // system roots only
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/roots=%v", tt.serverName, tt.roots), func(t *testing.T) {
			cfg := s.ClientTLSConfig()
			if !tt.roots {
				cfg.RootCAs = nil
			}
			cfg.ServerName = tt.serverName
			d := websocket.Dialer{Subprotocols: []string{"sip"}, TLSClientConfig: cfg}
			c, _, err := d.DialContext(testContext(t), s.URL(), nil)
			if tt.wantErr {
				var certErr x509.UnknownAuthorityError
				var hostErr x509.HostnameError
				if err == nil || !(errors.As(err, &certErr) || errors.As(err, &hostErr)) {
					t.Fatalf("dial: %v, want a certificate error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			write(t, c, options)
			if got := read(t, c); !strings.HasPrefix(got, "SIP/2.0 200 OK\r\n") {
				t.Fatalf("answer %q, want a 200", got)
			}
		})
	}
}

func TestRequestsRecorded(t *testing.T) {
	s := start(t, Options{})
	s.SetHandshake(HandshakeRefuse)
	hdr := http.Header{"Origin": {"https://phone.example.com"}, "User-Agent": {"sipserver-test"}}
	if _, _, err := dial(t, s, s.URL()+"sip?KEY=1234", hdr); err == nil {
		t.Fatal("refused dial succeeded")
	}
	s.SetHandshake(HandshakeAccept)
	if _, _, err := dial(t, s, s.URL()+"other", hdr); err != nil {
		t.Fatal(err)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].URI != "/sip?KEY=1234" || reqs[1].URI != "/other" {
		t.Fatalf("Requests = %+v, want /sip?KEY=1234 then /other", reqs)
	}
	for _, r := range reqs {
		for k, want := range map[string]string{
			"Origin": "https://phone.example.com", "User-Agent": "sipserver-test",
			"Sec-Websocket-Protocol": "sip", "Host": s.Addr(),
		} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s: header %s = %q, want %q", r.URI, k, got, want)
			}
		}
	}
	conns, err := s.WaitConns(testContext(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := conns[0].Request().URI; got != "/other" {
		t.Fatalf("Conn.Request().URI = %q, want /other", got)
	}
}

func TestRequestOffers(t *testing.T) {
	for _, tt := range []struct {
		values []string
		want   bool
	}{
		{[]string{"sip"}, true},
		{[]string{"chat, sip"}, true},
		{[]string{"chat", " sip "}, true},
		{[]string{"SIP"}, false}, // tokens are case-sensitive
		{[]string{"sips"}, false},
		{nil, false},
	} {
		r := Request{Header: http.Header{"Sec-Websocket-Protocol": tt.values}}
		if got := r.Offers("sip"); got != tt.want {
			t.Errorf("Offers(sip) with %q = %v, want %v", tt.values, got, tt.want)
		}
	}
}

func TestOpenTCP(t *testing.T) {
	s := start(t, Options{})
	if n := s.OpenTCP(); n != 0 {
		t.Fatalf("OpenTCP() = %d before any client, want 0", n)
	}
	c := mustDial(t, s)
	ctx := testContext(t)
	if _, err := s.WaitConns(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if n := s.OpenTCP(); n != 1 {
		t.Fatalf("OpenTCP() = %d with one client, want 1", n)
	}
	c.Close()
	if err := s.Wait(ctx, func() bool { return s.OpenTCP() == 0 }); err != nil {
		t.Fatalf("OpenTCP() = %d after the client closed, want 0: %v", s.OpenTCP(), err)
	}
}

func equal(got [][]byte, want []string) bool {
	return slices.EqualFunc(got, want, func(g []byte, w string) bool { return bytes.Equal(g, []byte(w)) })
}
