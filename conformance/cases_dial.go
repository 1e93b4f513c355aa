package conformance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
)

// handshakeStall is how long the handshake cases let a stalled handshake
// run before the context or HandshakeTimeout ends it.
const handshakeStall = 300 * time.Millisecond

// dialCases check the handshake: what Dial sends, what it accepts, how it
// fails, and that it honours its context and options.
var dialCases = []testCase{
	{
		name: "Dial/OffersSipSubprotocol",
		rule: `the upgrade request offers "Sec-WebSocket-Protocol: sip" and the connection opens once the server selects it (RFC 7118 §4; dialer.Subprotocol)`,
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			req := sc.Request()
			if !req.Offers(dialer.Subprotocol) {
				e.t.Errorf("upgrade request has Sec-WebSocket-Protocol %q; want a list holding %q",
					req.Header.Values("Sec-WebSocket-Protocol"), dialer.Subprotocol)
			}
			exchange(e, s, c, sc)
		},
	},
	{
		name: "Dial/ExtraHeadersReachServer",
		rule: "every value of Options.Header reaches the server in the upgrade request, and Dial only reads Options (dialer.Options)",
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			hdr := http.Header{
				"Origin":        {"https://phone.example.com"},
				"User-Agent":    {"sipws-conformance/1"},
				"Authorization": {"Bearer conformance-token"},
				"X-Conformance": {"one", "two"},
			}
			want := hdr.Clone()
			_, sc := e.open(s, dialer.Options{Header: hdr})
			got := sc.Request().Header
			for name, values := range want {
				have := headerValues(got, name)
				for _, v := range values {
					if !slices.Contains(have, v) {
						e.t.Errorf("upgrade request header %s = %q; want it to hold %q", name, got.Values(name), v)
					}
				}
			}
			if !reflect.DeepEqual(hdr, want) {
				e.t.Errorf("Dial modified Options.Header: now %v; want %v as given", hdr, want)
			}
		},
	},
	{
		name: "Dial/PathAndQueryUnchanged",
		rule: "the request target is the URL's path and query exactly as given (SPEC.md \"Server URIs\": ws://host:8443/sip?KEY=1234)",
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			const target = "/sip/ws?KEY=1234&transport=ws&x=a%20b"
			e.dial(strings.TrimSuffix(s.URL(), "/")+target, dialer.Options{})
			reqs := s.Requests()
			if len(reqs) != 1 || reqs[0].URI != target {
				e.t.Errorf("server saw request targets %q; want [%q]", targets(reqs), target)
			}
		},
	},
	{
		name: "Dial/MissingSubprotocolFails",
		rule: "a server that accepts the upgrade without selecting \"sip\" fails the dial with an error wrapping dialer.ErrSubprotocol, and the socket is closed (RFC 7118 §4; dialer.Dialer)",
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeOmitSubprotocol)
			r := e.tryDial(e.ctx, s.URL(), dialer.Options{}, patience)
			if r.conn != nil || !errors.Is(r.err, dialer.ErrSubprotocol) {
				e.t.Errorf("Dial: got %v; want no Conn and an error wrapping dialer.ErrSubprotocol", r)
			}
			if r.conn == nil && !e.waitFor(s, patience, func() bool { return s.OpenTCP() == 0 }) {
				e.t.Errorf("%d TCP connections still open %v after the failed Dial; want 0: Dial must close the socket it opened", s.OpenTCP(), patience)
			}
		},
	},
	{
		name: "Dial/RefusedIsHandshakeError",
		rule: "an upgrade answered with an HTTP status other than 101 fails with a *dialer.HandshakeError holding that status (dialer.HandshakeError)",
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeRefuse)
			for _, status := range []int{http.StatusServiceUnavailable, http.StatusNotFound} {
				s.SetRefuseStatus(status)
				r := e.tryDial(e.ctx, s.URL(), dialer.Options{}, patience)
				var he *dialer.HandshakeError
				if r.conn != nil || !errors.As(r.err, &he) || he.StatusCode != status {
					e.t.Errorf("Dial refused with %d: got %v; want no Conn and a *dialer.HandshakeError with StatusCode %d",
						status, r, status)
				}
			}
		},
	},
	{
		name: "Dial/StalledHandshakeHonoursContext",
		rule: "Dial honours ctx for the whole handshake: when ctx ends it returns an error wrapping ctx.Err() and closes the socket it opened (dialer.Dialer)",
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeStall)

			// A deadline that passes while the server holds the answer back.
			ctx, cancel := context.WithTimeout(e.ctx, handshakeStall)
			defer cancel()
			r := e.tryDial(ctx, s.URL(), dialer.Options{}, handshakeStall+patience)
			if r.conn != nil || !errors.Is(r.err, context.DeadlineExceeded) {
				e.t.Errorf("Dial past its deadline: got %v; want no Conn and an error wrapping context.DeadlineExceeded", r)
			}
			if !e.waitFor(s, patience, func() bool { return s.OpenTCP() == 0 }) {
				e.t.Errorf("%d TCP connections still open %v after Dial gave up; want 0: Dial must close the socket of the abandoned handshake", s.OpenTCP(), patience)
			}

			// A cancellation once the server has read the request.
			ctx, cancel = context.WithCancel(e.ctx)
			defer cancel()
			d := e.dialer()
			fu := start(e, "Dial with a context cancelled during the handshake", func() dialResult {
				c, err := d.Dial(ctx, s.URL(), dialer.Options{})
				return dialResult{conn: c, err: err}
			})
			if !e.waitFor(s, patience, func() bool { return len(s.Requests()) == 2 }) {
				e.t.Fatalf("server saw %d upgrade requests; want the second Dial's request", len(s.Requests()))
			}
			cancel()
			r = fu.wait(patience)
			if r.conn != nil {
				e.closeAtCleanup(r.conn)
			}
			if r.conn != nil || !errors.Is(r.err, context.Canceled) {
				e.t.Errorf("Dial cancelled: got %v; want no Conn and an error wrapping context.Canceled", r)
			}
			if !e.waitFor(s, patience, func() bool { return s.OpenTCP() == 0 }) {
				e.t.Errorf("%d TCP connections still open %v after the cancelled Dial; want 0", s.OpenTCP(), patience)
			}
		},
	},
	{
		name: "Dial/HandshakeTimeoutHonoured",
		rule: "Options.HandshakeTimeout bounds TCP, TLS and the upgrade even when ctx has no deadline, and the abandoned socket is closed (dialer.Options)",
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeStall)
			r := e.tryDial(e.ctx, s.URL(), dialer.Options{HandshakeTimeout: handshakeStall}, handshakeStall+patience)
			if r.conn != nil || r.err == nil {
				e.t.Errorf("Dial with HandshakeTimeout %v against a stalled server: got %v; want no Conn and an error",
					handshakeStall, r)
			}
			if !e.waitFor(s, patience, func() bool { return s.OpenTCP() == 0 }) {
				e.t.Errorf("%d TCP connections still open %v after the timeout; want 0", s.OpenTCP(), patience)
			}
		},
	},
	{
		name: "Dial/WssVerifiedAgainstRoots",
		rule: "wss verifies the server's certificate against Options.TLSConfig's roots and its ServerName (or the URL's host), and only reads the config (dialer.Options; SPEC.md \"Server URIs\")",
		run: func(e *env) {
			s := e.server(sipserver.Options{TLS: true})
			for _, name := range []string{"", "localhost"} {
				cfg := s.ClientTLSConfig()
				cfg.ServerName = name
				roots := cfg.RootCAs
				c, sc := e.open(s, dialer.Options{TLSConfig: cfg})
				exchange(e, s, c, sc)
				if cfg.ServerName != name || cfg.RootCAs != roots || cfg.InsecureSkipVerify {
					e.t.Errorf("Dial modified Options.TLSConfig: ServerName %q, InsecureSkipVerify %v, RootCAs replaced %v; want it as given",
						cfg.ServerName, cfg.InsecureSkipVerify, cfg.RootCAs != roots)
				}
			}
		},
	},
	{
		name: "Dial/WssUntrustedCertFails",
		rule: "wss fails before any upgrade request when the certificate is not trusted by the given roots or does not name the host; skipping verification is never a default (SPEC.md \"Server URIs\")",
		run: func(e *env) {
			s := e.server(sipserver.Options{TLS: true})
			wrongHost := s.ClientTLSConfig()
			wrongHost.ServerName = "example.com"
			for _, tt := range []struct {
				what string
				cfg  *tls.Config
			}{
				{"roots that do not hold its certificate", &tls.Config{RootCAs: x509.NewCertPool()}},
				{"a nil TLSConfig (system roots)", nil},
				{"the right roots but ServerName example.com", wrongHost},
			} {
				r := e.tryDial(e.ctx, s.URL(), dialer.Options{TLSConfig: tt.cfg}, patience)
				if r.conn != nil || r.err == nil {
					e.t.Errorf("Dial over wss with %s: got %v; want no Conn and a certificate error", tt.what, r)
				}
			}
			if n := len(s.Requests()); n != 0 {
				e.t.Errorf("server read %d upgrade requests over untrusted TLS; want 0", n)
			}
		},
	},
	{
		name: "Dial/ClosedPortFailsFast",
		rule: "a dial to a port nobody listens on fails at once, without retrying: retries belong to the Base (dialer.Dialer)",
		run: func(e *env) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				e.t.Fatalf("finding a free port: %v", err)
			}
			addr := ln.Addr().String()
			ln.Close()
			r := e.tryDial(e.ctx, "ws://"+addr+"/", dialer.Options{}, fast+patience)
			if r.conn != nil || r.err == nil || r.took > fast {
				e.t.Errorf("Dial to closed port %s: got %v after %v; want no Conn and an error within %v",
					addr, r, r.took.Round(time.Millisecond), fast)
			}
		},
	},
}

// headerValues returns the values of a header, with comma-joined lists
// split, since a client may send several values on one line.
func headerValues(h http.Header, name string) []string {
	var out []string
	for _, v := range h.Values(name) {
		for part := range strings.SplitSeq(v, ",") {
			out = append(out, strings.TrimSpace(part))
		}
	}
	return out
}

func targets(reqs []sipserver.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.URI
	}
	return out
}
