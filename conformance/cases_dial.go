package conformance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
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

// lingeringDial bounds a Dial whose 101 answer the client must refuse:
// the rule is that it fails, not how fast, and a library may read what
// follows a bad answer for a while first (coder/websocket reads its body
// for up to three seconds).
const lingeringDial = caseTimeout / 3

// dialCases check the handshake: what Dial sends, what it accepts, how it
// fails, and that it honours its context and options.
var dialCases = []testCase{
	{
		name: "Dial/OffersSipSubprotocol",
		rule: must(`the upgrade request offers "Sec-WebSocket-Protocol: sip" and the connection opens once the server selects it (RFC 7118 §4; dialer.Subprotocol)`),
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
		rule: must("every value of Options.Header reaches the server in the upgrade request, and Dial only reads Options (dialer.Options)"),
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
		rule: must("the request target is the URL's path and query exactly as given (SPEC.md \"Server URIs\": ws://host:8443/sip?KEY=1234)"),
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
		rule: must("a server that accepts the upgrade without selecting \"sip\" fails the dial with an error wrapping dialer.ErrSubprotocol, and the socket is closed (RFC 7118 §4; dialer.Dialer)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeOmitSubprotocol)
			r := e.tryDial(e.ctx, s.URL(), dialer.Options{}, patience)
			if r.conn != nil || !errors.Is(r.err, dialer.ErrSubprotocol) {
				e.t.Errorf("Dial: got %v; want no Conn and an error wrapping dialer.ErrSubprotocol", r)
			}
			if r.conn == nil && !e.waitFor(s, settle, func() bool { return s.OpenTCP() == 0 }) {
				e.t.Errorf("%d TCP connections still open %v after the failed Dial; want 0: Dial must close the socket it opened", s.OpenTCP(), settle)
			}
		},
	},
	{
		name: "Dial/RefusedIsHandshakeError",
		rule: must("an upgrade answered with an HTTP status other than 101 fails with a *dialer.HandshakeError holding that status (dialer.HandshakeError)"),
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
		rule: must("Dial honours ctx for the whole handshake: when ctx ends it returns an error wrapping ctx.Err() and closes the socket it opened (dialer.Dialer)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeStall)

			// A deadline that passes while the server holds the answer back.
			ctx, cancel := context.WithTimeout(e.ctx, handshakeStall)
			defer cancel()
			r := e.tryDial(ctx, s.URL(), dialer.Options{}, handshakeStall+settle)
			if r.conn != nil || !errors.Is(r.err, context.DeadlineExceeded) {
				e.t.Errorf("Dial past its deadline: got %v; want no Conn and an error wrapping context.DeadlineExceeded", r)
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
			r = fu.wait(settle)
			if r.conn != nil {
				e.closeAtCleanup(r.conn)
			}
			if r.conn != nil || !errors.Is(r.err, context.Canceled) {
				e.t.Errorf("Dial cancelled: got %v; want no Conn and an error wrapping context.Canceled", r)
			}
			if !e.waitFor(s, settle, func() bool { return s.OpenTCP() == 0 }) {
				e.t.Errorf("%d TCP connections still open %v after both Dials gave up; want 0: Dial must close the socket of an abandoned handshake", s.OpenTCP(), settle)
			}
		},
	},
	{
		name: "Dial/HandshakeTimeoutHonoured",
		rule: must("Options.HandshakeTimeout bounds TCP, TLS and the upgrade even when ctx has no deadline, the shorter of it and ctx's deadline wins, the error wraps context.DeadlineExceeded, and the abandoned socket is closed (dialer.Options)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeStall)
			long := caseTimeout / 3
			for _, tt := range []struct {
				what    string
				ctx     time.Duration // 0: no deadline
				timeout time.Duration
			}{
				{"HandshakeTimeout alone", 0, handshakeStall},
				{"HandshakeTimeout shorter than ctx", long, handshakeStall},
				{"ctx shorter than HandshakeTimeout", handshakeStall, long},
			} {
				ctx, cancel := e.ctx, context.CancelFunc(func() {})
				if tt.ctx > 0 {
					ctx, cancel = context.WithTimeout(e.ctx, tt.ctx)
				}
				r := e.tryDial(ctx, s.URL(), dialer.Options{HandshakeTimeout: tt.timeout}, handshakeStall+settle)
				cancel()
				if r.conn != nil || !errors.Is(r.err, context.DeadlineExceeded) {
					e.t.Errorf("%s, against a stalled server: got %v; want no Conn and an error wrapping context.DeadlineExceeded", tt.what, r)
				}
			}
			if !e.waitFor(s, settle, func() bool { return s.OpenTCP() == 0 }) {
				e.t.Errorf("%d TCP connections still open %v after the three Dials returned; want 0: Dial closes the socket before it returns", s.OpenTCP(), settle)
			}
		},
	},
	{
		name: "Dial/WssVerifiedAgainstRoots",
		rule: must("wss verifies the server's certificate against Options.TLSConfig's roots and its ServerName (or the URL's host), and only reads the config (dialer.Options; SPEC.md \"Server URIs\")"),
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
		rule: must("wss fails with a certificate verification error, before any upgrade request, when the certificate is not trusted by the given roots or does not name the host; skipping verification is never a default (SPEC.md \"Server URIs\")"),
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
				if r.conn != nil || !isCertificateError(r.err) {
					e.t.Errorf("Dial over wss with %s: got %v; want no Conn and a certificate verification error (a *tls.CertificateVerificationError, or crypto/x509's)", tt.what, r)
				}
			}
			if n := len(s.Requests()); n != 0 {
				e.t.Errorf("server read %d upgrade requests over untrusted TLS; want 0", n)
			}
		},
	},
	{
		name: "Dial/OffersExactlySip",
		rule: must("the handshake offers exactly one subprotocol, \"sip\", on one Sec-WebSocket-Protocol line, and no extension: FreeSWITCH echoes the offer verbatim (RFC 7118 §4; SPEC.md \"Interop defaults\")"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			_, sc := e.open(s, dialer.Options{})
			h := sc.Request().Header
			if got := h.Values("Sec-Websocket-Protocol"); len(got) != 1 || got[0] != dialer.Subprotocol {
				e.t.Errorf("upgrade request has Sec-WebSocket-Protocol %q; want exactly [%q]", got, dialer.Subprotocol)
			}
			if got := h.Values("Sec-Websocket-Extensions"); len(got) != 0 {
				e.t.Errorf("upgrade request offers the extensions %q; want none", got)
			}
		},
	},
	{
		name: "Dial/OriginSentByDefault",
		rule: must("with no Origin in Options, the handshake sends the server's own origin, http://host:port for ws and https://host:port for wss, once (dialer.Options.Origin; SPEC.md \"Interop defaults\": OpenSIPS refuses a handshake without one)"),
		run: func(e *env) {
			for _, tls := range []bool{false, true} {
				s := e.server(sipserver.Options{TLS: tls})
				_, sc := e.open(s, dialer.Options{TLSConfig: s.ClientTLSConfig()})
				want := "http://" + s.Addr()
				if tls {
					want = "https://" + s.Addr()
				}
				if got := sc.Request().Header.Values("Origin"); len(got) != 1 || got[0] != want {
					e.t.Errorf("dialing %s, the handshake sent Origin %q; want exactly [%q]", s.URL(), got, want)
				}
			}
		},
	},
	{
		name: "Dial/OriginReplaceable",
		rule: must("Options.Origin replaces the derived Origin, and an Origin in Options.Header replaces both; either is sent once (dialer.Options.OriginFor, HandshakeHeader)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			for _, tt := range []struct {
				what string
				o    dialer.Options
				want string
			}{
				{"Options.Origin", dialer.Options{Origin: "https://phone.example.com"}, "https://phone.example.com"},
				{"Options.Header", dialer.Options{Origin: "https://ignored.example.com", Header: http.Header{"origin": {"https://softphone.example.org"}}}, "https://softphone.example.org"},
				{"Options.Header with NoOrigin", dialer.Options{NoOrigin: true, Header: http.Header{"Origin": {"null"}}}, "null"},
			} {
				_, sc := e.open(s, tt.o)
				if got := sc.Request().Header.Values("Origin"); len(got) != 1 || got[0] != tt.want {
					e.t.Errorf("with %s, the handshake sent Origin %q; want exactly [%q]", tt.what, got, tt.want)
				}
			}
		},
	},
	{
		name: "Dial/NoOriginOmits",
		rule: must("Options.NoOrigin sends no Origin header at all (dialer.Options.NoOrigin)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			_, sc := e.open(s, dialer.Options{NoOrigin: true, Origin: "https://phone.example.com"})
			if got := sc.Request().Header.Values("Origin"); len(got) != 0 {
				e.t.Errorf("with NoOrigin, the handshake sent Origin %q; want none", got)
			}
		},
	},
	{
		name: "Dial/HostHeaderReplacesHost",
		rule: must("a Host in Options.Header, whatever the case of its name, replaces the URL's host in the request's one Host header, and other names in lower case are sent too (dialer.Options.Header)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			hdr := http.Header{"host": {"sip.example.com"}, "user-agent": {"sipws-conformance/1"}}
			_, sc := e.open(s, dialer.Options{Header: hdr})
			h := sc.Request().Header
			if got := h.Values("Host"); len(got) != 1 || got[0] != "sip.example.com" {
				e.t.Errorf("upgrade request has Host %q; want exactly [\"sip.example.com\"]", got)
			}
			if got := h.Values("User-Agent"); len(got) != 1 || got[0] != "sipws-conformance/1" {
				e.t.Errorf("upgrade request has User-Agent %q; want exactly [\"sipws-conformance/1\"]", got)
			}
		},
	},
	{
		name: "Dial/InvalidOptionsRefused",
		rule: must("Options that Options.Check refuses fail Dial with an error wrapping dialer.ErrOptions before any socket is opened (dialer.Options.Check, dialer.Dialer)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			for _, tt := range []struct {
				what string
				o    dialer.Options
			}{
				{"a negative MaxMessageSize", dialer.Options{MaxMessageSize: -1}},
				{"a negative MaxSendSize", dialer.Options{MaxSendSize: -1}},
				{"Sec-WebSocket-Protocol in Header", dialer.Options{Header: http.Header{"Sec-Websocket-Protocol": {"sip"}}}},
				{"Upgrade in Header", dialer.Options{Header: http.Header{"Upgrade": {"h2c"}}}},
				{"a header name holding CRLF", dialer.Options{Header: http.Header{"X-A\r\nX-B": {"1"}}}},
				{"an Origin holding CRLF", dialer.Options{Origin: "https://a\r\nX-B: 1"}},
			} {
				r := e.tryDial(e.ctx, s.URL(), tt.o, patience)
				if r.conn != nil || !errors.Is(r.err, dialer.ErrOptions) {
					e.t.Errorf("Dial with %s: got %v; want no Conn and an error wrapping dialer.ErrOptions", tt.what, r)
				}
			}
			// A good dial now: if a refused one had opened a socket, the
			// server would have accepted it first.
			_, sc := e.open(s, dialer.Options{})
			if sc.ID() != 1 {
				e.t.Errorf("the server accepted %d TCP connections before the valid Dial's; want none: Dial must refuse bad Options before opening a socket", sc.ID()-1)
			}
		},
	},
	{
		name: "Dial/OtherSubprotocolFails",
		rule: must("a server that selects a subprotocol other than \"sip\" fails the dial with an error wrapping dialer.ErrSubprotocol, and the socket is closed (RFC 7118 §4; RFC 6455 §4.1)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeOmitSubprotocol)
			s.SetResponseHeader(http.Header{"Sec-Websocket-Protocol": {"chat"}})
			r := e.tryDial(e.ctx, s.URL(), dialer.Options{}, lingeringDial)
			if r.conn != nil || !errors.Is(r.err, dialer.ErrSubprotocol) {
				e.t.Errorf("Dial to a server selecting \"chat\": got %v; want no Conn and an error wrapping dialer.ErrSubprotocol", r)
			}
			if r.conn != nil {
				return
			}
			if !e.waitFor(s, settle, func() bool { return s.OpenTCP() == 0 }) {
				e.t.Errorf("%d TCP connections still open %v after the failed Dial; want 0", s.OpenTCP(), settle)
			}
		},
	},
	{
		name: "Dial/UnofferedExtensionRefused",
		rule: must("a server that selects an extension the client did not offer (permessage-deflate) fails the dial, and the socket is closed (RFC 6455 §4.1, §9.1; package dialer: \"offers no extension\")"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetResponseHeader(http.Header{"Sec-Websocket-Extensions": {"permessage-deflate; server_no_context_takeover; client_no_context_takeover"}})
			r := e.tryDial(e.ctx, s.URL(), dialer.Options{}, lingeringDial)
			if r.conn != nil || r.err == nil {
				e.t.Fatalf("Dial to a server selecting permessage-deflate: got %v; want no Conn and an error", r)
			}
			if !e.waitFor(s, settle, func() bool { return s.OpenTCP() == 0 }) {
				e.t.Errorf("%d TCP connections still open %v after the failed Dial; want 0", s.OpenTCP(), settle)
			}
		},
	},
	{
		name: "Dial/RedirectNotFollowed",
		rule: must("a redirect (301, 302, 307, 308) is a refusal like any other status, a *dialer.HandshakeError with that status; the Location is not dialed: retries and failover are the Base's (dialer.Dialer)"),
		run: func(e *env) {
			target := e.server(sipserver.Options{Name: "target"})
			s := e.server(sipserver.Options{Name: "redirecting"})
			s.SetHandshake(sipserver.HandshakeRefuse)
			s.SetResponseHeader(http.Header{"Location": {target.URL()}})
			for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
				s.SetRefuseStatus(status)
				r := e.tryDial(e.ctx, s.URL(), dialer.Options{}, patience)
				var he *dialer.HandshakeError
				if r.conn != nil || !errors.As(r.err, &he) || he.StatusCode != status {
					e.t.Errorf("Dial answered %d with a Location: got %v; want no Conn and a *dialer.HandshakeError with StatusCode %d", status, r, status)
				}
			}
			if n := target.Handshakes(); n != 0 {
				e.t.Errorf("the redirect's target saw %d connections; want 0", n)
			}
		},
	},
	{
		name: "Dial/RefusalStatusAndHeaders",
		rule: should("a *dialer.HandshakeError carries the status line's text and the answer's headers, so that a caller can read a Retry-After or a reason (dialer.HandshakeError)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{})
			s.SetHandshake(sipserver.HandshakeRefuse)
			s.SetRefuseStatus(http.StatusForbidden)
			s.SetResponseHeader(http.Header{"X-Reason": {"banned"}})
			r := e.tryDial(e.ctx, s.URL(), dialer.Options{}, patience)
			var he *dialer.HandshakeError
			switch {
			case !errors.As(r.err, &he):
				e.t.Errorf("Dial refused with 403: got %v; want a *dialer.HandshakeError", r)
			case he.Status != "403 Forbidden" || he.Header.Get("X-Reason") != "banned":
				e.t.Errorf("HandshakeError has Status %q and Header %v; want \"403 Forbidden\" and X-Reason: banned", he.Status, he.Header)
			}
		},
	},
	{
		name: "Dial/BadAcceptKeyFails",
		rule: must("a 101 whose Sec-WebSocket-Accept does not answer the key fails the dial with an error that is not a *dialer.HandshakeError (it is no refusal), and the socket is closed (RFC 6455 §4.1, §4.2.2)"),
		run: func(e *env) {
			hungUp := make(chan struct{})
			addr := e.rawServer(func(c net.Conn) {
				httpHead(c)
				io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
					"Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\n\r\n")
				readUntilEOF(c, hungUp)
			})
			r := e.tryDial(e.ctx, "ws://"+addr+"/", dialer.Options{}, lingeringDial)
			var he *dialer.HandshakeError
			if r.conn != nil || r.err == nil || errors.As(r.err, &he) {
				e.t.Fatalf("Dial answered 101 with a wrong accept key: got %v; want no Conn and an error that is not a *dialer.HandshakeError", r)
			}
			if !waitClosed(hungUp, settle) {
				e.t.Errorf("the socket is still open %v after the failed Dial; want it closed", settle)
			}
		},
	},
	{
		name: "Dial/StalledTLSHonoursContext",
		rule: must("ctx bounds the TLS handshake too: against a server that never answers TLS, Dial returns an error wrapping context.DeadlineExceeded at the deadline and closes the socket (dialer.Dialer)"),
		run: func(e *env) {
			hungUp := make(chan struct{})
			addr := e.rawServer(func(c net.Conn) { readUntilEOF(c, hungUp) })
			ctx, cancel := context.WithTimeout(e.ctx, handshakeStall)
			defer cancel()
			r := e.tryDial(ctx, "wss://"+addr+"/", dialer.Options{TLSConfig: &tls.Config{RootCAs: x509.NewCertPool()}}, handshakeStall+settle)
			if r.conn != nil || !errors.Is(r.err, context.DeadlineExceeded) {
				e.t.Errorf("Dial over a stalled TLS handshake: got %v; want no Conn and an error wrapping context.DeadlineExceeded", r)
			}
			if !waitClosed(hungUp, settle) {
				e.t.Errorf("the socket is still open %v after Dial gave up; want it closed", settle)
			}
		},
	},
	{
		name: "Dial/ClosedPortFailsFast",
		rule: must("a dial to a port nobody listens on fails at once, without retrying: retries belong to the Base (dialer.Dialer)"),
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

// isCertificateError reports whether err says that the server's certificate
// failed verification.
func isCertificateError(err error) bool {
	var (
		ve *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.As(err, &ve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}
