package selector

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestParseServerAccepts(t *testing.T) {
	tests := []struct {
		name, in          string
		uri, sipURI, host string
	}{
		{"ws without port gets 80", "ws://sip.example.com", "ws://sip.example.com:80", "<sip:sip.example.com;transport=ws;lr>", "sip.example.com"},
		{"wss without port gets 443", "wss://sip.example.com", "wss://sip.example.com:443", "<sip:sip.example.com;transport=ws;lr>", "sip.example.com"},
		{"explicit port is kept and shown in the SIP URI", "ws://sip.example.com:8080", "ws://sip.example.com:8080", "<sip:sip.example.com:8080;transport=ws;lr>", "sip.example.com"},
		{"explicit default port is still shown in the SIP URI", "wss://h:443", "wss://h:443", "<sip:h:443;transport=ws;lr>", "h"},
		{"path and query kept byte for byte", "ws://sip-ws.example.com:8443/sip?KEY=1234", "ws://sip-ws.example.com:8443/sip?KEY=1234", "<sip:sip-ws.example.com:8443;transport=ws;lr>", "sip-ws.example.com"},
		{"path without port", "wss://h/ws", "wss://h:443/ws", "<sip:h;transport=ws;lr>", "h"},
		{"query without path", "ws://h?a=1&b=2", "ws://h:80?a=1&b=2", "<sip:h;transport=ws;lr>", "h"},
		{"escapes in path and query kept as given", "ws://h/a%2Fb%20c?x=%7E&y=a+b", "ws://h:80/a%2Fb%20c?x=%7E&y=a+b", "<sip:h;transport=ws;lr>", "h"},
		{"sub-delims and @ in path", "ws://h/;p=1,2/@x:y!$'()*", "ws://h:80/;p=1,2/@x:y!$'()*", "<sip:h;transport=ws;lr>", "h"},
		{"trailing slash kept", "ws://h/", "ws://h:80/", "<sip:h;transport=ws;lr>", "h"},
		{"upper-case scheme folded", "WSS://h", "wss://h:443", "<sip:h;transport=ws;lr>", "h"},
		{"mixed-case scheme folded", "Ws://h", "ws://h:80", "<sip:h;transport=ws;lr>", "h"},
		{"upper-case host folded, path case kept", "ws://SIP.Example.COM/WS?Q=A", "ws://sip.example.com:80/WS?Q=A", "<sip:sip.example.com;transport=ws;lr>", "sip.example.com"},
		{"IPv4 host", "ws://192.0.2.1:5066", "ws://192.0.2.1:5066", "<sip:192.0.2.1:5066;transport=ws;lr>", "192.0.2.1"},
		{"IPv6 host keeps brackets", "ws://[::1]:8080/x", "ws://[::1]:8080/x", "<sip:[::1]:8080;transport=ws;lr>", "::1"},
		{"IPv6 host without port", "wss://[2001:db8::1]", "wss://[2001:db8::1]:443", "<sip:[2001:db8::1];transport=ws;lr>", "2001:db8::1"},
		{"IPv6 hex folded to lower case", "ws://[2001:DB8::A]", "ws://[2001:db8::a]:80", "<sip:[2001:db8::a];transport=ws;lr>", "2001:db8::a"},
		{"IPv4-mapped IPv6", "ws://[::ffff:192.0.2.1]:81", "ws://[::ffff:192.0.2.1]:81", "<sip:[::ffff:192.0.2.1]:81;transport=ws;lr>", "::ffff:192.0.2.1"},
		{"leading zeros in port dropped", "ws://h:0080", "ws://h:80", "<sip:h:80;transport=ws;lr>", "h"},
		{"highest port", "ws://h:65535", "ws://h:65535", "<sip:h:65535;transport=ws;lr>", "h"},
		{"port 1", "ws://h:1", "ws://h:1", "<sip:h:1;transport=ws;lr>", "h"},
		{"fully qualified name with final dot", "ws://example.com.", "ws://example.com.:80", "<sip:example.com.;transport=ws;lr>", "example.com."},
		{"underscore and hyphen in host", "ws://my_host-1", "ws://my_host-1:80", "<sip:my_host-1;transport=ws;lr>", "my_host-1"},
		{"@ in the query is not userinfo", "ws://h/?u=a@b", "ws://h:80/?u=a@b", "<sip:h;transport=ws;lr>", "h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, weight := range []int{0, 7} {
				s, err := ParseServer(tt.in, weight)
				if err != nil {
					t.Fatalf("ParseServer(%q) error: %v", tt.in, err)
				}
				want := Server{URI: tt.uri, Weight: weight, SIPURI: tt.sipURI}
				if s != want {
					t.Errorf("ParseServer(%q, %d)\n got %+v\nwant %+v", tt.in, weight, s, want)
				}
			}
			s, _ := ParseServer(tt.in, 0)
			if got := s.Host(); got != tt.host {
				t.Errorf("Host() = %q, want %q", got, tt.host)
			}
			if got := s.String(); got != tt.uri {
				t.Errorf("String() = %q, want %q", got, tt.uri)
			}
			again, err := ParseServer(s.URI, 0)
			if err != nil || again.URI != s.URI {
				t.Errorf("re-parse of %q = %q, %v; want itself", s.URI, again.URI, err)
			}
			agreeWithNetURL(t, tt.in, s)
		})
	}
}

// agreeWithNetURL checks that net/url, which every WebSocket library uses,
// reads the raw and the normalised URI as ParseServer does.
func agreeWithNetURL(t *testing.T, raw string, s Server) {
	t.Helper()
	n, err := url.Parse(s.URI)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", s.URI, err)
	}
	r, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	if !strings.EqualFold(r.Scheme, n.Scheme) || !strings.EqualFold(r.Hostname(), n.Hostname()) || r.Hostname() == "" ||
		r.EscapedPath() != n.EscapedPath() || r.RawQuery != n.RawQuery || n.User != nil || r.User != nil || n.Fragment != "" {
		t.Errorf("net/url disagrees:\n raw %q -> %#v\nnorm %q -> %#v", raw, r, s.URI, n)
	}
	if n.Hostname() != s.Host() {
		t.Errorf("net/url Hostname() = %q, Host() = %q", n.Hostname(), s.Host())
	}
	if r.Port() != "" && strings.TrimLeft(r.Port(), "0") != n.Port() {
		t.Errorf("port: net/url reads %q in %q, normalised %q", r.Port(), raw, n.Port())
	}
}

func TestParseServerRejects(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"unknown scheme http", "http://x", ErrScheme},
		{"unknown scheme sip", "sip:alice@example.com", ErrScheme},
		{"scheme udp (SIP.js allowed it, no WebSocket)", "udp://h", ErrScheme},
		{"missing scheme", "sip.example.com", ErrScheme},
		{"host:port without scheme", "sip.example.com:8080", ErrScheme},
		{"empty scheme", "://h", ErrScheme},
		{"scheme with extra letters", "wsss://h", ErrScheme},
		{"empty string", "", ErrSyntax},
		{"garbage", "%%%", ErrScheme},
		{"leading space", " ws://h", ErrSyntax},
		{"trailing space", "ws://h ", ErrSyntax},
		{"trailing newline", "ws://h\n", ErrSyntax},
		{"space in path", "ws://h/a b", ErrSyntax},
		{"tab in host", "ws://h\tx", ErrSyntax},
		{"NUL byte", "ws://h/\x00", ErrSyntax},
		{"DEL byte", "ws://h/\x7f", ErrSyntax},
		{"non-ASCII host", "ws://bücher.example", ErrSyntax},
		{"non-ASCII path", "ws://h/é", ErrSyntax},
		{"userinfo", "ws://alice@h", ErrUserinfo},
		{"userinfo with password", "wss://alice:secret@h:443/ws", ErrUserinfo},
		{"empty userinfo", "ws://@h", ErrUserinfo},
		{"fragment", "ws://h/ws#frag", ErrFragment},
		{"empty fragment", "ws://h#", ErrFragment},
		{"fragment after query", "ws://h/?a=1#", ErrFragment},
		{"opaque form", "ws:h", ErrHost},
		{"single slash", "ws:/h", ErrHost},
		{"empty host", "ws://", ErrHost},
		{"empty host with path", "ws:///path", ErrHost},
		{"empty host with port", "ws://:8080", ErrHost},
		{"empty host with query", "ws://?x", ErrHost},
		{"unbracketed IPv6", "ws://::1", ErrHost},
		{"unbracketed IPv6 with port", "ws://2001:db8::1:80", ErrHost},
		{"unclosed bracket", "ws://[::1", ErrHost},
		{"junk after bracket", "ws://[::1]x", ErrHost},
		{"IPv4 in brackets", "ws://[192.0.2.1]", ErrHost},
		{"not an address in brackets", "ws://[example.com]", ErrHost},
		{"IPvFuture", "ws://[v1.fe]", ErrHost},
		{"IPv6 zone", "ws://[fe80::1%25eth0]:80", ErrHost},
		{"percent-encoded host", "ws://ex%61mple.com", ErrHost},
		{"sub-delim in host", "ws://a,b", ErrHost},
		{"empty label", "ws://a..b", ErrHost},
		{"leading dot", "ws://.a", ErrHost},
		{"backslash in host", `ws://a\b`, ErrHost},
		{"empty port", "ws://h:", ErrPort},
		{"empty port with path", "ws://h:/x", ErrPort},
		{"port zero", "ws://h:0", ErrPort},
		{"port zeros", "ws://h:0000", ErrPort},
		{"port too large", "ws://h:65536", ErrPort},
		{"port huge", "ws://h:99999999999999999999999", ErrPort},
		{"port non-numeric", "ws://h:http", ErrPort},
		{"port signed", "ws://h:+80", ErrPort},
		{"port negative", "ws://h:-1", ErrPort},
		{"IPv6 with empty port", "ws://[::1]:", ErrPort},
		{"IPv6 with bad port", "ws://[::1]:x", ErrPort},
		{"bad escape in path", "ws://h/%zz", ErrSyntax},
		{"truncated escape", "ws://h/a%2", ErrSyntax},
		{"bad escape in query", "ws://h/?a=%", ErrSyntax},
		{"quote in path", `ws://h/"x"`, ErrSyntax},
		{"angle brackets in query", "ws://h/?a=<b>", ErrSyntax},
		{"brace in query", "ws://h/?a={b}", ErrSyntax},
		{"pipe in path", "ws://h/a|b", ErrSyntax},
		{"bracket in path", "ws://h/[x]", ErrSyntax},
		{"backslash in path", `ws://h/a\b`, ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseServer(tt.in, 0)
			if !errors.Is(err, tt.want) {
				t.Fatalf("ParseServer(%q) = %+v, %v; want error %v", tt.in, s, err, tt.want)
			}
			if s != (Server{}) {
				t.Errorf("ParseServer(%q) returned %+v with its error, want the zero Server", tt.in, s)
			}
			var ue *URIError
			if !errors.As(err, &ue) || ue.Index != -1 || ue.URI != tt.in {
				t.Errorf("error %#v: want *URIError{Index: -1, URI: %q}", err, tt.in)
			}
			if !strings.HasPrefix(err.Error(), "selector: ") || !strings.Contains(err.Error(), tt.want.Error()) {
				t.Errorf("error text %q: want the selector prefix and %q", err, tt.want)
			}
		})
	}
}

func TestParseServerRejectsNegativeWeight(t *testing.T) {
	_, err := ParseServer("ws://h", -1)
	if !errors.Is(err, ErrWeight) {
		t.Fatalf("ParseServer weight -1: got %v, want %v", err, ErrWeight)
	}
	const want = `selector: "ws://h": weight must be a non-negative integer`
	if err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

func TestParseNamesEachBadEntry(t *testing.T) {
	_, err := Parse("ws://a", "wss://b", "http://x", "ws://c#", "ws://d")
	if err == nil {
		t.Fatal("Parse accepted bad entries")
	}
	for _, want := range []string{
		`selector: wsServers[2] "http://x": scheme must be ws or wss`,
		`selector: wsServers[3] "ws://c#": fragment (#) is not allowed`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "wsServers[0]") || strings.Contains(err.Error(), "wsServers[4]") {
		t.Errorf("error %q names a good entry", err)
	}
	var ue *URIError
	if !errors.As(err, &ue) || ue.Index != 2 || !errors.Is(ue, ErrScheme) {
		t.Errorf("errors.As: got %#v, want the first bad entry, index 2, ErrScheme", ue)
	}
	if !errors.Is(err, ErrFragment) {
		t.Errorf("errors.Is(err, ErrFragment) = false, want true (every entry is reported)")
	}
}

func TestParse(t *testing.T) {
	got, err := Parse("ws://a", "WSS://B:8443/x")
	if err != nil {
		t.Fatal(err)
	}
	want := Servers{
		{URI: "ws://a:80", SIPURI: "<sip:a;transport=ws;lr>"},
		{URI: "wss://b:8443/x", SIPURI: "<sip:b:8443;transport=ws;lr>"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Parse\n got %+v\nwant %+v", got, want)
	}
	if _, err := Parse(); !errors.Is(err, ErrNoServers) {
		t.Errorf("Parse() error = %v, want %v", err, ErrNoServers)
	}
}

func TestHostOfUnusualServers(t *testing.T) {
	tests := []struct {
		s    Server
		want string
	}{
		{Server{}, ""},
		{Server{URI: "ws://h"}, "h"},
		{Server{URI: "ws://[::1]/x"}, "::1"},
		{Server{URI: "ws://u@h:1"}, "h"},
		{Server{URI: "ws://[::1"}, "::1"},
	}
	for _, tt := range tests {
		if got := tt.s.Host(); got != tt.want {
			t.Errorf("Server{URI: %q}.Host() = %q, want %q", tt.s.URI, got, tt.want)
		}
	}
}

func TestNormalize(t *testing.T) {
	in := Servers{
		{URI: "WSS://Edge1.example.com/ws", Weight: 10},
		{URI: "ws://[::1]:5066", Weight: 0},
	}
	orig := append(Servers(nil), in...)
	got, err := in.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	want := Servers{
		{URI: "wss://edge1.example.com:443/ws", Weight: 10, SIPURI: "<sip:edge1.example.com;transport=ws;lr>"},
		{URI: "ws://[::1]:5066", Weight: 0, SIPURI: "<sip:[::1]:5066;transport=ws;lr>"},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Normalize()[%d]\n got %+v\nwant %+v", i, got[i], want[i])
		}
		if in[i] != orig[i] {
			t.Errorf("Normalize modified its input: %+v, was %+v", in[i], orig[i])
		}
	}
	again, err := got.Normalize()
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if again[i] != got[i] {
			t.Errorf("Normalize is not idempotent: [%d]\n got %+v\nwant %+v", i, again[i], got[i])
		}
	}
	if &again[0] == &got[0] {
		t.Error("Normalize returned its receiver, want a new slice")
	}
}

func TestNormalizeSIPURI(t *testing.T) {
	tests := []struct {
		name string
		in   Server
		want string
	}{
		{"derived when empty", Server{URI: "ws://h"}, "<sip:h;transport=ws;lr>"},
		{"portless form kept for a default port", Server{URI: "ws://h:80", SIPURI: "<sip:h;transport=ws;lr>"}, "<sip:h;transport=ws;lr>"},
		{"port form kept", Server{URI: "ws://h:80", SIPURI: "<sip:h:80;transport=ws;lr>"}, "<sip:h:80;transport=ws;lr>"},
		{"empty on a default port gets the port", Server{URI: "ws://h:80"}, "<sip:h:80;transport=ws;lr>"},
		{"portless form replaced for another port", Server{URI: "ws://h:81", SIPURI: "<sip:h;transport=ws;lr>"}, "<sip:h:81;transport=ws;lr>"},
		{"foreign value replaced", Server{URI: "wss://h", SIPURI: "<sip:evil;transport=ws;lr>"}, "<sip:h;transport=ws;lr>"},
		{"wss default port", Server{URI: "wss://h:443", SIPURI: "<sip:h;transport=ws;lr>"}, "<sip:h;transport=ws;lr>"},
		{"ws port 443 is not a default", Server{URI: "ws://h:443", SIPURI: "<sip:h;transport=ws;lr>"}, "<sip:h:443;transport=ws;lr>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Servers{tt.in}.Normalize()
			if err != nil {
				t.Fatal(err)
			}
			if got[0].SIPURI != tt.want {
				t.Errorf("SIPURI = %q, want %q", got[0].SIPURI, tt.want)
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	for _, in := range []Servers{nil, {}} {
		if got, err := in.Normalize(); !errors.Is(err, ErrNoServers) || got != nil {
			t.Errorf("Normalize(%#v) = %v, %v; want nil, %v", in, got, err, ErrNoServers)
		}
	}
	got, err := Servers{{URI: "ws://ok"}, {URI: "ws://h", Weight: -3}, {URI: "ftp://h"}}.Normalize()
	if got != nil {
		t.Errorf("Normalize returned %v with an error, want nil", got)
	}
	for _, want := range []string{
		`selector: wsServers[1] "ws://h": weight must be a non-negative integer`,
		`selector: wsServers[2] "ftp://h": scheme must be ws or wss`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
