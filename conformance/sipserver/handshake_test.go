package sipserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestHandshakeModes(t *testing.T) {
	tests := []struct {
		name         string
		mode         HandshakeMode
		refuseStatus int // 0: leave the default
		wantStatus   int // 0: no HTTP response at all
		wantProtocol string
	}{
		{"Accept selects sip", HandshakeAccept, 0, http101, "sip"},
		{"OmitSubprotocol", HandshakeOmitSubprotocol, 0, http101, ""},
		{"Refuse with 503 by default", HandshakeRefuse, 0, 503, ""},
		{"Refuse with the status set", HandshakeRefuse, 404, 404, ""},
		{"CloseTCP", HandshakeCloseTCP, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{})
			s.SetHandshake(tt.mode)
			if tt.refuseStatus != 0 {
				s.SetRefuseStatus(tt.refuseStatus)
			}
			c, resp, err := dial(t, s, s.URL(), nil)
			gotStatus := 0
			if resp != nil {
				gotStatus = resp.StatusCode
			}
			if gotStatus != tt.wantStatus {
				t.Fatalf("status %d (err %v), want %d", gotStatus, err, tt.wantStatus)
			}
			if (err == nil) != (tt.wantStatus == http101) {
				t.Fatalf("dial error %v, want one only when the status is not 101", err)
			}
			if tt.wantStatus == 503 || tt.wantStatus == 404 {
				if !errors.Is(err, websocket.ErrBadHandshake) {
					t.Fatalf("dial error %v, want websocket.ErrBadHandshake", err)
				}
			}
			if c != nil && c.Subprotocol() != tt.wantProtocol {
				t.Fatalf("subprotocol %q, want %q", c.Subprotocol(), tt.wantProtocol)
			}
			if s.Handshakes() != 1 {
				t.Fatalf("Handshakes() = %d, want 1", s.Handshakes())
			}
		})
	}
}

const http101 = 101

func TestAcceptWithoutSipOffered(t *testing.T) {
	s := start(t, Options{})
	d := websocket.Dialer{Subprotocols: []string{"other"}}
	c, _, err := d.DialContext(testContext(t), s.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Subprotocol() != "" {
		t.Fatalf("subprotocol %q, want none: sip was not offered", c.Subprotocol())
	}
}

func TestStallTimesOutClientAndEndsOnClose(t *testing.T) {
	s := start(t, Options{})
	s.SetHandshake(HandshakeStall)
	d := websocket.Dialer{Subprotocols: []string{"sip"}, HandshakeTimeout: 200 * time.Millisecond}
	_, resp, err := d.DialContext(testContext(t), s.URL(), nil)
	var ne net.Error
	if resp != nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("dial: resp %v, err %v; want a timeout without a response", resp, err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Fatalf("Requests() has %d, want the stalled request read", n)
	}
	// Close reports a goroutine that would not end.
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// TestStallNoticesHangup checks that a client giving up on a stalled
// handshake is seen closing its socket, over ws and wss, and that a client
// that waits keeps its socket counted.
func TestStallNoticesHangup(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			s := start(t, Options{TLS: tls})
			s.SetHandshake(HandshakeStall)
			// gorilla honours a context's deadline, not its cancellation.
			ctx, cancel := context.WithTimeout(testContext(t), 300*time.Millisecond)
			defer cancel()
			done := make(chan error, 1)
			go func() {
				d := websocket.Dialer{Subprotocols: []string{"sip"}, TLSClientConfig: s.ClientTLSConfig()}
				c, _, err := d.DialContext(ctx, s.URL(), nil)
				if c != nil {
					c.Close()
				}
				done <- err
			}()
			wctx := testContext(t)
			if err := s.Wait(wctx, func() bool { return len(s.Requests()) == 1 }); err != nil {
				t.Fatalf("waiting for the stalled request: %v", err)
			}
			if n := s.OpenTCP(); n != 1 {
				t.Fatalf("OpenTCP() = %d while the client waits, want 1", n)
			}
			if err := <-done; err == nil {
				t.Fatal("a timed-out dial succeeded")
			}
			if err := s.Wait(wctx, func() bool { return s.OpenTCP() == 0 }); err != nil {
				t.Fatalf("OpenTCP() = %d after the client hung up, want 0: %v", s.OpenTCP(), err)
			}
			// The server still works: the next handshake proceeds once released.
			s.SetHandshake(HandshakeAccept)
			mustDial(t, s)
		})
	}
}

func TestStallReleasedIntoNewMode(t *testing.T) {
	tests := []struct {
		mode       HandshakeMode
		wantStatus int
	}{
		{HandshakeAccept, http101},
		{HandshakeRefuse, 503},
		{HandshakeCloseTCP, 0},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			s := start(t, Options{})
			s.SetHandshake(HandshakeStall)
			type result struct {
				status int
				err    error
			}
			done := make(chan result, 1)
			dctx := testContext(t)
			go func() {
				c, resp, err := websocket.DefaultDialer.DialContext(dctx, s.URL(), nil)
				r := result{err: err}
				if resp != nil {
					r.status = resp.StatusCode
				}
				if c != nil {
					c.Close()
				}
				done <- r
			}()
			ctx := testContext(t)
			if err := s.Wait(ctx, func() bool { return len(s.Requests()) == 1 }); err != nil {
				t.Fatalf("waiting for the stalled request: %v", err)
			}
			s.SetHandshake(tt.mode)
			select {
			case r := <-done:
				if r.status != tt.wantStatus {
					t.Fatalf("status %d (err %v), want %d", r.status, r.err, tt.wantStatus)
				}
			case <-ctx.Done():
				t.Fatal("the stalled handshake was not released")
			}
		})
	}
}

func TestHandshakeModeString(t *testing.T) {
	for m, want := range map[HandshakeMode]string{
		HandshakeAccept: "Accept", HandshakeRefuse: "Refuse", HandshakeStall: "Stall",
		HandshakeOmitSubprotocol: "OmitSubprotocol", HandshakeCloseTCP: "CloseTCP", 42: "HandshakeMode(42)",
	} {
		if got := m.String(); got != want {
			t.Errorf("HandshakeMode(%d).String() = %q, want %q", int(m), got, want)
		}
	}
}

func TestSetResponseHeader(t *testing.T) {
	s := start(t, Options{})
	s.SetResponseHeader(http.Header{"X-Server": {"sipserver test"}})
	c, resp, err := dial(t, s, s.URL(), nil)
	if err != nil || resp.Header.Get("X-Server") != "sipserver test" {
		t.Fatalf("101: err %v, headers %v; want X-Server", err, resp.Header)
	}
	c.Close()

	// A redirect: the Location rides on the refusal.
	s.SetHandshake(HandshakeRefuse)
	s.SetRefuseStatus(http.StatusFound)
	s.SetResponseHeader(http.Header{"Location": {"ws://127.0.0.1:1/elsewhere"}})
	_, resp, err = dial(t, s, s.URL(), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "ws://127.0.0.1:1/elsewhere" {
		t.Fatalf("refusal: err %v, response %+v; want 302 with the Location", err, resp)
	}

	// An extension the client never offered: gorilla ignores one it does
	// not know, so the header is seen as sent.
	s.SetHandshake(HandshakeAccept)
	s.SetResponseHeader(http.Header{"Sec-Websocket-Extensions": {"x-unknown"}})
	c, resp, err = dial(t, s, s.URL(), nil)
	if err != nil || resp.Header.Get("Sec-Websocket-Extensions") != "x-unknown" {
		t.Fatalf("101 with an extension: err %v, headers %v", err, resp.Header)
	}
	c.Close()
	s.SetResponseHeader(nil)
	_, resp, err = dial(t, s, s.URL(), nil)
	if err != nil || len(resp.Header.Values("Sec-Websocket-Extensions")) != 0 {
		t.Fatalf("after SetResponseHeader(nil): err %v, headers %v; want none extra", err, resp.Header)
	}
}

func TestSetEarlyFrames(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tls), func(t *testing.T) {
			s := start(t, Options{TLS: tls})
			s.SetEarlyFrames(Frame{Op: OpText, Fin: true, Payload: []byte("early")}, Frame{Op: OpBinary, Fin: true, Payload: []byte{0xff}})
			// A raw client reads the answer and the frames in one read.
			d := &net.Dialer{}
			nc, err := d.DialContext(testContext(t), "tcp", s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			rw := net.Conn(nc)
			if tls {
				rw = tlsClient(nc, s)
			}
			rw.SetDeadline(time.Now().Add(timeout))
			io.WriteString(rw, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n")
			buf := make([]byte, 4096)
			n, err := rw.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got := string(buf[:n])
			head, rest, ok := strings.Cut(got, "\r\n\r\n")
			if !ok || !strings.HasPrefix(head, "HTTP/1.1 101 ") || !strings.Contains(head, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") {
				t.Fatalf("first read %q; want the 101 with the RFC 6455 §1.3 accept key", got)
			}
			if want := "\x81\x05early\x82\x01\xff"; rest != want {
				t.Fatalf("after the 101, the same read holds %q; want %q", rest, want)
			}
		})
	}
}

func TestBadUpgradeRequest(t *testing.T) {
	for _, tt := range []struct{ name, req string }{
		{"no Upgrade", "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"},
		{"version 8", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"},
		{"POST", "POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"},
		{"no key", "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{})
			nc, err := net.DialTimeout("tcp", s.Addr(), timeout)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.SetDeadline(time.Now().Add(timeout))
			io.WriteString(nc, tt.req)
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if err != nil || resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("answer %v, %v; want 400", resp, err)
			}
			if len(s.Conns()) != 0 {
				t.Errorf("%d connections open, want none", len(s.Conns()))
			}
		})
	}
}

func tlsClient(nc net.Conn, s *Server) net.Conn {
	cfg := s.ClientTLSConfig()
	cfg.ServerName = "localhost"
	return tls.Client(nc, cfg)
}
