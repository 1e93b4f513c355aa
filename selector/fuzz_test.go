package selector

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseServer checks that ParseServer never panics, that every error is
// a *URIError naming the input, and that an accepted URI is stable:
// normalising is idempotent, net/url reads raw and normalised URI alike,
// and the SIP URI only gains the port the normalised URI made explicit.
func FuzzParseServer(f *testing.F) {
	for _, s := range []string{
		"ws://sip.example.com", "wss://sip.example.com:8443/sip?KEY=1234", "WSS://H", "ws://[::1]:8080/x",
		"ws://[fe80::1%25eth0]", "ws://h:", "ws://h:0080", "ws://u@h", "ws://h#", "http://x", "ws://h/%zz",
		"ws://h/a%2Fb?x=%7E", "ws://h?q", " ws://h", "ws:h", "ws:///p", "ws://a..b", "ws://[::ffff:1.2.3.4]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		s, err := ParseServer(raw, 3)
		if err != nil {
			var ue *URIError
			if !errors.As(err, &ue) || ue.Index != -1 || ue.URI != raw {
				t.Fatalf("ParseServer(%q) error %#v: want *URIError{Index: -1, URI: input}", raw, err)
			}
			for _, cause := range []error{ErrScheme, ErrUserinfo, ErrFragment, ErrHost, ErrPort, ErrSyntax} {
				if errors.Is(err, cause) {
					return
				}
			}
			t.Fatalf("ParseServer(%q) error %v wraps no known cause", raw, err)
		}
		if s.Weight != 3 {
			t.Fatalf("weight %d, want 3", s.Weight)
		}
		again, err := ParseServer(s.URI, 3)
		if err != nil {
			t.Fatalf("normalised %q (from %q) is rejected: %v", s.URI, raw, err)
		}
		if again.URI != s.URI {
			t.Fatalf("normalising is not idempotent: %q -> %q -> %q", raw, s.URI, again.URI)
		}
		if again.SIPURI != s.SIPURI && again.SIPURI != strings.Replace(s.SIPURI, ";transport", ":"+portOf(t, s.URI)+";transport", 1) {
			t.Fatalf("SIPURI %q re-parses to %q", s.SIPURI, again.SIPURI)
		}
		if n, err := (Servers{s}).Normalize(); err != nil || n[0] != s {
			t.Fatalf("Normalize(%+v) = %+v, %v; want unchanged", s, n, err)
		}
		agreeWithNetURL(t, raw, s)
	})
}

func portOf(t *testing.T, uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// FuzzUnmarshalJSON checks that no input makes UnmarshalJSON panic, that a
// failure leaves the list unchanged, and that an accepted list survives a
// Marshal/Unmarshal round trip and Normalize unchanged in URI and weight.
func FuzzUnmarshalJSON(f *testing.F) {
	for _, s := range []string{
		`"ws://a"`, `["ws://a","wss://b"]`, `[{"wsUri":"ws://a","weight":10},"wss://b"]`, `[{"ws_uri":"ws://a"}]`,
		`[]`, `null`, `42`, `[42]`, `[{"weight":1}]`, `[{"wsUri":"ws://a","weight":1.5}]`, `[{"wsUri":"ws://a","weight":"1"}]`,
		`[{"wsUri":"ws://a","weight":1e1}]`, `{"wsUri":"ws://a"}`, `[`, ``, `[null]`, `[{"wsUri":"ws://[::1]:1/x?y#"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		first, _ := ParseServer("ws://sentinel", 0)
		sentinel := Servers{first}
		got := sentinel
		if err := got.UnmarshalJSON(b); err != nil {
			if len(got) != 1 || got[0] != sentinel[0] {
				t.Fatalf("failed UnmarshalJSON(%q) changed the list to %+v", b, got)
			}
			return
		}
		if len(got) == 0 {
			t.Fatalf("UnmarshalJSON(%q) accepted an empty list", b)
		}
		for i, s := range got {
			if s.Weight < 0 {
				t.Fatalf("entry %d has weight %d", i, s.Weight)
			}
			if again, err := ParseServer(s.URI, s.Weight); err != nil || again.URI != s.URI {
				t.Fatalf("entry %d %q re-parses to %q, %v", i, s.URI, again.URI, err)
			}
		}
		out, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", got, err)
		}
		var back Servers
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("Unmarshal(Marshal) %s: %v", out, err)
		}
		if len(back) != len(got) {
			t.Fatalf("round trip: %d servers, want %d", len(back), len(got))
		}
		for i := range got {
			if back[i].URI != got[i].URI || back[i].Weight != got[i].Weight {
				t.Fatalf("round trip [%d] = %+v, want %+v", i, back[i], got[i])
			}
		}
		if n, err := got.Normalize(); err != nil || len(n) != len(got) {
			t.Fatalf("Normalize(%+v) = %v, %v", got, n, err)
		} else {
			for i := range n {
				if n[i] != got[i] {
					t.Fatalf("Normalize changed [%d] %+v to %+v", i, got[i], n[i])
				}
			}
		}
	})
}
