package sipmsg

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// headersN returns n distinct header lines.
func headersN(n int) string {
	var s strings.Builder
	for i := range n {
		fmt.Fprintf(&s, "X-H%d: %d\r\n", i, i)
	}
	return s.String()
}

const minimalRequest = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n" +
	"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n"

func TestParseRejectsMalformed(t *testing.T) {
	tests := []struct {
		name, in string
		want     *ParseError
	}{
		{"empty input", "", errEmpty},
		{"only line breaks", "\r\n\r\n", errEmpty},
		{"not SIP (Kamailio's probe)", "hello kamailio, this is not SIP", errLineEnd},
		{"not SIP, one line", "hello kamailio, this is not SIP\r\n\r\n", errVersion},
		{"not SIP, no spaces", "{json:1}\r\n\r\n", errMethod},
		{"start line without line ending", "OPTIONS sip:a@b SIP/2.0", errLineEnd},
		{"start line only", "OPTIONS sip:a@b SIP/2.0\r\n", errNoBlankLine},
		{"headers without blank line", "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n", errNoBlankLine},
		{"last header without line ending", "OPTIONS sip:a@b SIP/2.0\r\nVia: x", errLineEnd},
		{"lone CR as blank line", "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r", errLineEnd},
		{"start line indented", " OPTIONS sip:a@b SIP/2.0\r\n\r\n", errStartLine},
		{"method not a token", "OPT(IONS sip:a@b SIP/2.0\r\n\r\n", errMethod},
		{"method SIP/ alone", "SIP/ sip:a@b SIP/2.0\r\n\r\n", errMethod},
		{"no Request-URI", "OPTIONS\r\n\r\n", errRequestURI},
		{"no version", "OPTIONS sip:a@b\r\n\r\n", errVersion},
		{"request version 3.0", "OPTIONS sip:a@b SIP/3.0\r\n\r\n", errVersion},
		{"request version HTTP", "GET / HTTP/1.1\r\n\r\n", errVersion},
		{"space in Request-URI", "OPTIONS sip:a @b SIP/2.0\r\n\r\n", errVersion},
		{"text after version", "OPTIONS sip:a@b SIP/2.0 x\r\n\r\n", errStartLine},
		{"response version 2.1", "SIP/2.1 200 OK\r\n\r\n", errVersion},
		{"status code missing", "SIP/2.0\r\n\r\n", errStatusCode},
		{"status code two digits", "SIP/2.0 99 Odd\r\n\r\n", errStatusCode},
		{"status code four digits", "SIP/2.0 2000 OK\r\n\r\n", errStatusCode},
		{"status code 700", "SIP/2.0 700 Nope\r\n\r\n", errStatusCode},
		{"status code 099", "SIP/2.0 099 Nope\r\n\r\n", errStatusCode},
		{"status code not digits", "SIP/2.0 2x0 OK\r\n\r\n", errStatusCode},
		{"status code glued to reason", "SIP/2.0 200OK\r\n\r\n", errStatusCode},
		{"header without colon", "OPTIONS sip:a@b SIP/2.0\r\nVia x\r\n\r\n", errHeaderColon},
		{"header name with space", "OPTIONS sip:a@b SIP/2.0\r\nMax Forwards: 70\r\n\r\n", errHeaderColon},
		{"header without name", "OPTIONS sip:a@b SIP/2.0\r\n: x\r\n\r\n", errHeaderName},
		{"header name not a token", "OPTIONS sip:a@b SIP/2.0\r\nVia(x): y\r\n\r\n", errHeaderColon},
		{"bare CR line", "OPTIONS sip:a@b SIP/2.0\r\n\r\r\n\r\n", errHeaderName},
		{"continuation first", "OPTIONS sip:a@b SIP/2.0\r\n folded: x\r\n\r\n", errFold},
		{"continuation without line ending", "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n y", errLineEnd},
		{"too many headers", "OPTIONS sip:a@b SIP/2.0\r\n" + headersN(MaxHeaders+1) + "\r\n", errTooManyHeaders},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			// A successful parse first: a failure must not leave its state.
			if err := m.Parse([]byte(minimalRequest + "\r\n")); err != nil {
				t.Fatal(err)
			}
			in := []byte(tc.in)
			err := m.Parse(in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) = %v, want an error wrapping ErrMalformed", tc.in, err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe != tc.want {
				t.Errorf("Parse(%q) = %v, want %v", tc.in, err, tc.want)
			}
			if m.IsRequest() || m.IsResponse() || m.Header("Via") != nil || m.HeaderCount("Via") != 0 ||
				m.Method() != nil || m.StatusCode() != 0 || m.Body() != nil || m.TopVia() != nil {
				t.Errorf("after a failed Parse the message still reports content")
			}
			if _, ok := m.ContentLength(); ok {
				t.Errorf("after a failed Parse ContentLength is ok")
			}
			if string(m.Bytes()) != tc.in {
				t.Errorf("Bytes() = %q, want the input %q", m.Bytes(), tc.in)
			}
			if got := Check(&m, ""); got != MissingHeader {
				t.Errorf("Check after a failed Parse = %v, want %v", got, MissingHeader)
			}
		})
	}
}

func TestParseAcceptsLenientForms(t *testing.T) {
	tests := []struct {
		name, in       string
		method, uri    string
		status         int
		reason         string
		header, hvalue string
	}{
		{"leading CRLFs skipped (RFC 3261 §7.5)", "\r\n\r\n" + minimalRequest + "\r\n", "OPTIONS", "sip:a@b", 0, "", "Call-ID", "c1"},
		{"leading bare LF skipped", "\n" + minimalRequest + "\r\n", "OPTIONS", "sip:a@b", 0, "", "CSeq", "1 OPTIONS"},
		{"runs of spaces and tabs in the request line", "OPTIONS  sip:a@b\t SIP/2.0 \r\n\r\n", "OPTIONS", "sip:a@b", 0, "", "Via", absent},
		{"lower-case version", "OPTIONS sip:a@b sip/2.0\r\n\r\n", "OPTIONS", "sip:a@b", 0, "", "Via", absent},
		{"lower-case response version", "sip/2.0 180 Ringing\r\n\r\n", "", "", 180, "Ringing", "Via", absent},
		{"reason missing", "SIP/2.0 200\r\n\r\n", "", "", 200, "", "Via", absent},
		{"reason empty", "SIP/2.0 200 \r\n\r\n", "", "", 200, "", "Via", absent},
		{"reason with spaces kept", "SIP/2.0 100 trying -- your call is important to us\r\n\r\n", "", "", 100, "trying -- your call is important to us", "Via", absent},
		{"reason trailing space trimmed", "SIP/2.0 486 Busy Here  \r\n\r\n", "", "", 486, "Busy Here", "Via", absent},
		{"reason with any bytes", "SIP/2.0 699 \xff\x00 odd\r\n\r\n", "", "", 699, "\xff\x00 odd", "Via", absent},
		{"space before colon (HCOLON)", "OPTIONS sip:a@b SIP/2.0\r\nCall-ID \t: abc\r\n\r\n", "OPTIONS", "sip:a@b", 0, "", "Call-ID", "abc"},
		{"no space after colon", "OPTIONS sip:a@b SIP/2.0\r\nCall-ID:abc\r\n\r\n", "OPTIONS", "sip:a@b", 0, "", "i", "abc"},
		{"empty value", "OPTIONS sip:a@b SIP/2.0\r\nSupported:\r\n\r\n", "OPTIONS", "sip:a@b", 0, "", "Supported", ""},
		{"value of spaces", "OPTIONS sip:a@b SIP/2.0\r\nSupported:   \t\r\n\r\n", "OPTIONS", "sip:a@b", 0, "", "Supported", ""},
		{"value trailing CRs trimmed", "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: abc \r\r\n\r\n", "OPTIONS", "sip:a@b", 0, "", "Call-ID", "abc"},
		{"mixed line endings", "OPTIONS sip:a@b SIP/2.0\nCall-ID: abc\r\nCSeq: 1 OPTIONS\n\r\n", "OPTIONS", "sip:a@b", 0, "", "CSeq", "1 OPTIONS"},
		{"fold with empty first line", "OPTIONS sip:a@b SIP/2.0\r\nSubject:\r\n hello\r\n\r\n", "OPTIONS", "sip:a@b", 0, "", "Subject", "hello"},
		{"fold with bare LF", "OPTIONS sip:a@b SIP/2.0\nSubject: a\n\tb\n\n", "OPTIONS", "sip:a@b", 0, "", "s", "a\n\tb"},
		{"fold of white space only", "OPTIONS sip:a@b SIP/2.0\r\nSubject: a\r\n \r\n\r\n", "OPTIONS", "sip:a@b", 0, "", "Subject", "a"},
		{"exactly MaxHeaders lines", "OPTIONS sip:a@b SIP/2.0\r\n" + headersN(MaxHeaders) + "\r\n", "OPTIONS", "sip:a@b", 0, "", "X-H127", "127"},
		{"unknown method", "FOO.BAR sip:a@b SIP/2.0\r\n\r\n", "FOO.BAR", "sip:a@b", 0, "", "Via", absent},
		{"any Request-URI", "OPTIONS tel:+1-201-555-0123 SIP/2.0\r\n\r\n", "OPTIONS", "tel:+1-201-555-0123", 0, "", "Via", absent},
		{"body without Content-Length", "MESSAGE sip:a@b SIP/2.0\r\nc: text/plain\r\n\r\nhi\r\n\r\nthere", "MESSAGE", "sip:a@b", 0, "", "Content-Type", "text/plain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			if err := m.Parse([]byte(tc.in)); err != nil {
				t.Fatalf("Parse(%q) = %v", tc.in, err)
			}
			if tc.method != "" {
				if !m.IsRequest() || string(m.Method()) != tc.method || string(m.RequestURI()) != tc.uri {
					t.Errorf("request %v, method %q, uri %q; want %q %q", m.IsRequest(), m.Method(), m.RequestURI(), tc.method, tc.uri)
				}
			} else if !m.IsResponse() || m.StatusCode() != tc.status || string(m.Reason()) != tc.reason || m.Reason() == nil {
				t.Errorf("response %v, status %d, reason %q; want %d %q", m.IsResponse(), m.StatusCode(), m.Reason(), tc.status, tc.reason)
			}
			got := m.Header(tc.header)
			switch {
			case tc.hvalue == absent && got != nil:
				t.Errorf("Header(%q) = %q, want nil", tc.header, got)
			case tc.hvalue != absent && (got == nil || string(got) != tc.hvalue):
				t.Errorf("Header(%q) = %q (nil %v), want %q", tc.header, got, got == nil, tc.hvalue)
			}
		})
	}
}

func TestBodyAndContentLength(t *testing.T) {
	const head = "MESSAGE sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS x.invalid\r\n"
	tests := []struct {
		name, cl, rest string // cl "" = no Content-Length header
		n              int
		ok             bool
		body           string
		short          bool
	}{
		{"no Content-Length: whole rest", "", "hello\r\n", 0, false, "hello\r\n", false},
		{"no Content-Length, no body", "", "", 0, false, "", false},
		{"exact", "Content-Length: 5\r\n", "hello", 5, true, "hello", false},
		{"longer body is cut", "Content-Length: 5\r\n", "hello world", 5, true, "hello", false},
		{"zero cuts everything", "l: 0\r\n", "junk", 0, true, "", false},
		{"shorter body is kept whole", "Content-Length: 50\r\n", "hello", 50, true, "hello", true},
		{"leading zeros", "Content-Length: 005\r\n", "hello!", 5, true, "hello", false},
		{"not a number", "Content-Length: abc\r\n", "hello", 0, false, "hello", false},
		{"negative", "Content-Length: -1\r\n", "hello", 0, false, "hello", false},
		{"two numbers", "Content-Length: 1 2\r\n", "hello", 0, false, "hello", false},
		{"empty", "Content-Length: \r\n", "hello", 0, false, "hello", false},
		{"overflow", "Content-Length: 99999999999999999999999\r\n", "hello", 0, false, "hello", false},
		{"first line wins", "Content-Length: 2\r\nContent-Length: 4\r\n", "hello", 2, true, "he", false},
		{"compact form", "l: 3\r\n", "hello", 3, true, "hel", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			if err := m.Parse([]byte(head + tc.cl + "\r\n" + tc.rest)); err != nil {
				t.Fatal(err)
			}
			n, ok := m.ContentLength()
			if n != tc.n || ok != tc.ok {
				t.Errorf("ContentLength() = %d, %v; want %d, %v", n, ok, tc.n, tc.ok)
			}
			if got := m.Body(); got == nil || string(got) != tc.body {
				t.Errorf("Body() = %q (nil %v), want %q", got, got == nil, tc.body)
			}
			if got := m.bodyTooShort(); got != tc.short {
				t.Errorf("bodyTooShort() = %v, want %v", got, tc.short)
			}
		})
	}
}

func TestCompactAndLongFormsAreOneHeader(t *testing.T) {
	for id := idVia; id < numIDs; id++ {
		long := longNames[id]
		for c := range 256 {
			if compact[c] != id {
				continue
			}
			short := string(rune(c))
			in := "OPTIONS sip:a@b SIP/2.0\r\n" + short + ": one\r\n" + strings.ToUpper(long) + ": two\r\n\r\n"
			var m Message
			if err := m.Parse([]byte(in)); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{long, strings.ToLower(long), short, strings.ToUpper(short)} {
				if got := string(m.Header(name)); got != "one" {
					t.Errorf("%s/%s: Header(%q) = %q, want %q", long, short, name, got, "one")
				}
				if got := m.HeaderCount(name); got != 2 {
					t.Errorf("%s/%s: HeaderCount(%q) = %d, want 2", long, short, name, got)
				}
			}
		}
	}
	// Twenty compact forms, each mapped.
	n := 0
	for _, id := range compact {
		if id != idOther {
			n++
		}
	}
	if n != 20 {
		t.Errorf("%d compact forms, want 20", n)
	}
}

func TestHeaderLookupRules(t *testing.T) {
	in := "OPTIONS sip:a@b SIP/2.0\r\nX-Custom: 1\r\nx-custom: 2\r\nX: compact x is Session-Expires\r\n" +
		"Via-Extra: no\r\nK: kelvin?\r\n\r\n"
	var m Message
	if err := m.Parse([]byte(in)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value string
		count int
	}{
		{"X-CUSTOM", "1", 2},
		{"x-custom", "1", 2},
		{"Session-Expires", "compact x is Session-Expires", 1},
		{"Via", absent, 0},
		{"Via-Extra", "no", 1},
		{"Supported", "kelvin?", 1},
		{"\u212a", absent, 0}, // KELVIN SIGN does not fold to k
		{"", absent, 0},
	}
	for _, tc := range tests {
		got := m.Header(tc.name)
		if tc.value == absent && got != nil || tc.value != absent && string(got) != tc.value {
			t.Errorf("Header(%q) = %q, want %q", tc.name, got, tc.value)
		}
		if c := m.HeaderCount(tc.name); c != tc.count {
			t.Errorf("HeaderCount(%q) = %d, want %d", tc.name, c, tc.count)
		}
		if h := m.HasHeader(tc.name); h != (tc.count > 0) {
			t.Errorf("HasHeader(%q) = %v, want %v", tc.name, h, tc.count > 0)
		}
	}
}

func TestValuesSplitsListHeaders(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"one value", []string{"a"}, []string{"a"}},
		{"commas and lines in order", []string{"a, b", "c"}, []string{"a", "b", "c"}},
		{"empty elements skipped", []string{"a,,b, ,c,", "", " , "}, []string{"a", "b", "c"}},
		{"comma in quotes", []string{`"Doe, John" <sip:j@d>, <sip:k@d>`}, []string{`"Doe, John" <sip:j@d>`, "<sip:k@d>"}},
		{"escaped quote in quotes", []string{`"a \", b" <sip:x>, c`}, []string{`"a \", b" <sip:x>`, "c"}},
		{"comma in angle brackets", []string{"<sip:a@b;x=1,2>;p, <sip:c>"}, []string{"<sip:a@b;x=1,2>;p", "<sip:c>"}},
		{"unterminated quote runs to the end", []string{`"a, b`}, []string{`"a, b`}},
		{"folded list", []string{"a,\r\n b"}, []string{"a", "b"}},
		{"plain element, then a quoted comma", []string{`a, "b, c" <sip:x>, <sip:y,z>, d`}, []string{"a", `"b, c" <sip:x>`, "<sip:y,z>", "d"}},
		{"bracket after a plain element", []string{"a,<sip:b,c>"}, []string{"a", "<sip:b,c>"}},
		{"quoted param value", []string{`SIP/2.0/TLS h;comment="a, b", SIP/2.0/WS g`}, []string{`SIP/2.0/TLS h;comment="a, b"`, "SIP/2.0/WS g"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := "OPTIONS sip:a@b SIP/2.0\r\n"
			for i, l := range tc.lines {
				name := "Route"
				if i%2 == 1 {
					name = "route"
				}
				in += name + ": " + l + "\r\n"
			}
			var m Message
			if err := m.Parse([]byte(in + "Other: x, y\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			var got []string
			for v := range m.Values("Route") {
				got = append(got, string(v))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Values = %q, want %q", got, tc.want)
			}
			var first []string
			for v := range m.Values("ROUTE") {
				first = append(first, string(v))
				break
			}
			if len(tc.want) > 0 && (len(first) != 1 || first[0] != tc.want[0]) {
				t.Errorf("Values with break yielded %q, want just %q", first, tc.want[0])
			}
		})
	}
}

func TestViaCountAndTopVia(t *testing.T) {
	tests := []struct {
		name  string
		vias  string
		count int
		top   string
	}{
		{"none", "", 0, ""},
		{"one", "Via: SIP/2.0/WS a\r\n", 1, "SIP/2.0/WS a"},
		{"empty line then value", "Via: \r\nv: SIP/2.0/WS b\r\n", 1, "SIP/2.0/WS b"},
		{"commas and lines", "v: SIP/2.0/WS a , SIP/2.0/WS b\r\nVIA: SIP/2.0/WS c\r\n", 3, "SIP/2.0/WS a"},
		{"leading empty element", "Via: , SIP/2.0/WS a\r\n", 1, "SIP/2.0/WS a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			if err := m.Parse([]byte("SIP/2.0 200 OK\r\n" + tc.vias + "\r\n")); err != nil {
				t.Fatal(err)
			}
			if got := m.ViaCount(); got != tc.count {
				t.Errorf("ViaCount() = %d, want %d", got, tc.count)
			}
			if got := m.TopVia(); string(got) != tc.top || (tc.top == "") != (got == nil) {
				t.Errorf("TopVia() = %q, want %q", got, tc.top)
			}
		})
	}
}

func TestViaHostPort(t *testing.T) {
	const none = "<nil>"
	tests := []struct{ via, host, port string }{
		{"SIP/2.0/WS h.invalid;branch=z9hG4bK1", "h.invalid", none},
		{"SIP/2.0/WS h.invalid:5060;branch=z9hG4bK1", "h.invalid", "5060"},
		{"SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK4c86", "127.0.0.1", "18080"},
		{"SIP / 2.0 / WSS\tH.Invalid : 443 ;branch=x", "H.Invalid", "443"},
		{"SIP/2.0/WS\r\n h.invalid\r\n ;branch=x", "h.invalid", none},
		{"SIP/2.0/TLS [2001:db8::9]:5061;branch=x", "[2001:db8::9]", "5061"},
		{"SIP/2.0/TLS [2001:db8::9];branch=x", "[2001:db8::9]", none},
		{"SIP/2.0/WS h.invalid", "h.invalid", none},
		{"SIP/2.0/WS h.invalid:", "h.invalid", ""},
		{"SIP/2.0/WS h.invalid:;branch=x", "h.invalid", ""},
		{"SIP/2.0/WS h.invalid, SIP/2.0/WS g", "h.invalid", none},
		{"  SIP/2.0/WS h", "h", none},
		{"", none, none},
		{"SIP/2.0/WS", none, none},
		{"SIP/2.0/WS ;branch=x", none, none},
		{"SIP/2.0 h.invalid", none, none},
		{"SIP//WS h", none, none},
		{"h.invalid:5060", none, none},
		{"SIP/2.0/TLS [2001:db8::9", none, none},
	}
	for _, tc := range tests {
		host, port := ViaHostPort([]byte(tc.via))
		gh, gp := string(host), string(port)
		if host == nil {
			gh = none
		}
		if port == nil {
			gp = none
		}
		if gh != tc.host || gp != tc.port {
			t.Errorf("ViaHostPort(%q) = %q, %q; want %q, %q", tc.via, gh, gp, tc.host, tc.port)
		}
	}
}

// TestMessageReuse checks that a reused Message keeps nothing of the
// previous message.
func TestMessageReuse(t *testing.T) {
	var m Message
	if err := m.Parse(readCorpus(t, "invite-200-vias.sip")); err != nil {
		t.Fatal(err)
	}
	if err := m.Parse([]byte("SIP/2.0 200 OK\r\nX: 1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if m.HasHeader("Via") || m.HasHeader("Record-Route") || m.ViaCount() != 0 || len(m.Body()) != 0 {
		t.Errorf("stale state: Via %q, Record-Route %q, body %q", m.Header("Via"), m.Header("Record-Route"), m.Body())
	}
	if _, ok := m.ContentLength(); ok {
		t.Errorf("stale Content-Length")
	}
	if err := m.Parse(readCorpus(t, "register.sip")); err != nil {
		t.Fatal(err)
	}
	if m.StatusCode() != 0 || m.Reason() != nil || !m.IsRequest() {
		t.Errorf("stale response state after a request")
	}
}

func TestZeroMessage(t *testing.T) {
	var m Message
	if m.Bytes() != nil || m.IsRequest() || m.IsResponse() || m.Method() != nil || m.RequestURI() != nil ||
		m.StatusCode() != 0 || m.Reason() != nil || m.Header("Via") != nil || m.HasHeader("Via") ||
		m.HeaderCount("Via") != 0 || m.ViaCount() != 0 || m.TopVia() != nil || m.Body() != nil {
		t.Error("the zero Message reports content")
	}
	for range m.Values("Via") {
		t.Error("the zero Message yields values")
	}
	m.VisitHeaders(func(name, value []byte) { t.Errorf("the zero Message visits %q", name) })
}

// TestSlicesDoNotGrowIntoInput checks that appending to a returned slice
// copies instead of overwriting the input.
func TestSlicesDoNotGrowIntoInput(t *testing.T) {
	in := []byte(minimalRequest + "\r\nbody")
	orig := string(in)
	var m Message
	if err := m.Parse(in); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][]byte{m.Method(), m.RequestURI(), m.Header("Via"), m.TopVia(), m.Header("Call-ID")} {
		_ = append(s, "XXXXXXXX"...)
	}
	for v := range m.Values("Via") {
		_ = append(v, "XXXXXXXX"...)
	}
	m.VisitHeaders(func(name, value []byte) {
		_ = append(name, "XXXXXXXX"...)
		_ = append(value, "XXXXXXXX"...)
	})
	if string(in) != orig {
		t.Errorf("input modified:\n%q\nwant\n%q", in, orig)
	}
}

// TestHeaderIDs checks Parse's word-at-a-time name classification against
// idOf: every known name in several cases, and every one-byte change of
// it, near the end of the input (where Parse compares byte by byte) and
// with room after it.
func TestHeaderIDs(t *testing.T) {
	check := func(name string) {
		t.Helper()
		want := idOf(name)
		for _, pad := range []string{"", ": x\r\n\r\n" + strings.Repeat("y", 24)} {
			b := []byte(name + pad)
			if got := idOfToken(b, 0, len(name)); got != want {
				t.Errorf("idOfToken(%q) with %d bytes after = %d, idOf says %d", name, len(pad), got, want)
			}
		}
	}
	for id := idVia; id < numIDs; id++ {
		long := longNames[id]
		for _, name := range []string{long, strings.ToLower(long), strings.ToUpper(long)} {
			if got := idOf(name); got != id {
				t.Errorf("idOf(%q) = %d, want %d", name, got, id)
			}
			check(name)
			for i := range len(name) {
				for _, c := range []byte("-_.aZ0~") {
					b := []byte(name)
					b[i] = c
					check(string(b))
				}
			}
			check(name[1:])
			check(name + "s")
		}
	}
	for c := range 256 {
		if isToken(byte(c)) {
			check(string(rune(c)))
		}
	}
	if got := idOf("Call\rID"); got != idOther {
		t.Errorf("idOf(Call CR ID) = %d, want idOther", got)
	}
}
