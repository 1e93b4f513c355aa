package sipmsg

import (
	"strings"
	"testing"
)

// msg builds a message from a start line, header lines and a body.
func msg(start string, headers []string, body string) string {
	return start + "\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n" + body
}

// without returns headers minus those starting with prefix.
func without(headers []string, prefix string) []string {
	var out []string
	for _, h := range headers {
		if !strings.HasPrefix(h, prefix) {
			out = append(out, h)
		}
	}
	return out
}

// with returns headers plus more.
func with(headers []string, more ...string) []string {
	return append(append([]string(nil), headers...), more...)
}

var (
	reqHeaders = []string{
		"Via: SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bK1",
		"From: <sip:alice@127.0.0.1>;tag=1",
		"To: <sip:bob@127.0.0.1>",
		"Call-ID: c1",
		"CSeq: 1 MESSAGE",
	}
	respHeaders = []string{
		"Via: SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bK1;rport=57360;received=127.0.0.1",
		"From: <sip:alice@127.0.0.1>;tag=1",
		"To: <sip:bob@127.0.0.1>;tag=2",
		"Call-ID: c1",
		"CSeq: 1 MESSAGE",
	}
	compactHeaders = []string{"v: SIP/2.0/WS h.invalid", "f: <sip:a@b>;tag=1", "t: <sip:c@d>", "i: c1", "CSeq: 1 MESSAGE"}
)

const (
	reqLine  = "MESSAGE sip:bob@127.0.0.1 SIP/2.0"
	respLine = "SIP/2.0 200 OK"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		viaHost string
		want    Problem
	}{
		// Every message.
		{"request with the five headers", msg(reqLine, reqHeaders, ""), "", OK},
		{"compact forms count", msg(reqLine, compactHeaders, ""), "", OK},
		{"request without Via", msg(reqLine, without(reqHeaders, "Via"), ""), "", MissingHeader},
		{"request without From", msg(reqLine, without(reqHeaders, "From"), ""), "", MissingHeader},
		{"request without To", msg(reqLine, without(reqHeaders, "To"), ""), "", MissingHeader},
		{"request without Call-ID", msg(reqLine, without(reqHeaders, "Call-ID"), ""), "", MissingHeader},
		{"request without CSeq", msg(reqLine, without(reqHeaders, "CSeq"), ""), "", MissingHeader},
		{"empty Call-ID is missing", msg(reqLine, with(without(reqHeaders, "Call-ID"), "Call-ID: "), ""), "", MissingHeader},
		{"empty first Call-ID line, value on the second", msg(reqLine, with(without(reqHeaders, "Call-ID"), "Call-ID:", "i: c2"), ""), "", OK},
		{"empty Via is missing", msg(reqLine, with(without(reqHeaders, "Via"), "Via:"), ""), "", MissingHeader},
		{"missing header wins over a bad scheme", msg("MESSAGE tel:+123 SIP/2.0", without(reqHeaders, "CSeq"), ""), "", MissingHeader},
		{"response without To", msg(respLine, without(respHeaders, "To"), ""), "", MissingHeader},
		{"response without Via", msg(respLine, without(respHeaders, "Via"), ""), "", MissingHeader},
		// Requests.
		{"upper-case SIP scheme", msg("MESSAGE SIP:bob@127.0.0.1 SIP/2.0", reqHeaders, ""), "", OK},
		{"mixed-case sip scheme", msg("MESSAGE sIp:bob@127.0.0.1 SIP/2.0", reqHeaders, ""), "", OK},
		{"sips scheme (SIP.js: scheme !== 'sip')", msg("MESSAGE sips:bob@127.0.0.1 SIP/2.0", reqHeaders, ""), "", BadRequestURIScheme},
		{"tel scheme", msg("MESSAGE tel:+1-201-555-0123 SIP/2.0", reqHeaders, ""), "", BadRequestURIScheme},
		{"no scheme", msg("MESSAGE bob@127.0.0.1 SIP/2.0", reqHeaders, ""), "", BadRequestURIScheme},
		{"scheme sip without colon", msg("MESSAGE sip SIP/2.0", reqHeaders, ""), "", BadRequestURIScheme},
		{"scheme sipx", msg("MESSAGE sipx:bob SIP/2.0", reqHeaders, ""), "", BadRequestURIScheme},
		{"bad scheme wins over short body", msg("MESSAGE sips:bob@b SIP/2.0", with(reqHeaders, "Content-Length: 9"), "abc"), "", BadRequestURIScheme},
		{"request body shorter than Content-Length", msg(reqLine, with(reqHeaders, "Content-Length: 50"), "hello"), "", BodyTooShort},
		{"request body exact", msg(reqLine, with(reqHeaders, "Content-Length: 5"), "hello"), "", OK},
		{"request body longer (cut, not an error)", msg(reqLine, with(reqHeaders, "l: 2"), "hello"), "", OK},
		{"request Content-Length not a number", msg(reqLine, with(reqHeaders, "Content-Length: x"), "hello"), "", OK},
		{"request with two Vias", msg(reqLine, with(reqHeaders, "Via: SIP/2.0/WS b"), ""), "", OK},
		{"request ignores viaHost", msg(reqLine, reqHeaders, ""), "other.invalid", OK},
		// Responses.
		{"response, no via host configured", msg(respLine, respHeaders, ""), "", OK},
		{"response with two Via lines", msg(respLine, with(respHeaders, "Via: SIP/2.0/WS b"), ""), "", ResponseMultipleVia},
		{"response with two Vias on one line", msg(respLine, with(without(respHeaders, "Via"), "v: SIP/2.0/WS a, SIP/2.0/WS b"), ""), "", ResponseMultipleVia},
		{"multiple Via wins over mismatch", msg(respLine, with(respHeaders, "Via: SIP/2.0/WS b"), ""), "x.invalid", ResponseMultipleVia},
		{"response Via host matches", msg(respLine, respHeaders, ""), "4a42f405.invalid", OK},
		{"response Via host matches, any case", msg(respLine, respHeaders, ""), "4A42F405.INVALID", OK},
		{"response Via host differs", msg(respLine, respHeaders, ""), "5b53f516.invalid", ResponseViaMismatch},
		{"response Via host is a prefix", msg(respLine, respHeaders, ""), "4a42f405.inv", ResponseViaMismatch},
		{"response Via has a port", msg(respLine, with(without(respHeaders, "Via"), "Via: SIP/2.0/WS 4a42f405.invalid:5060;branch=z"), ""), "4a42f405.invalid", ResponseViaMismatch},
		{"response Via has an empty port", msg(respLine, with(without(respHeaders, "Via"), "Via: SIP/2.0/WS 4a42f405.invalid:;branch=z"), ""), "4a42f405.invalid", ResponseViaMismatch},
		{"response Via port is ignored without via host", msg(respLine, with(without(respHeaders, "Via"), "Via: SIP/2.0/WS h:5060"), ""), "", OK},
		{"response Via unparseable", msg(respLine, with(without(respHeaders, "Via"), "Via: garbage"), ""), "4a42f405.invalid", ResponseViaMismatch},
		{"response Via with two spaces", msg(respLine, with(without(respHeaders, "Via"), "Via: SIP/2.0/WS  4a42f405.invalid;branch=z"), ""), "4a42f405.invalid", OK},
		{"response Via IPv6 host", msg(respLine, with(without(respHeaders, "Via"), "Via: SIP/2.0/WS [::1];branch=z"), ""), "[::1]", OK},
		{"mismatch wins over short body", msg(respLine, with(respHeaders, "Content-Length: 9"), ""), "x.invalid", ResponseViaMismatch},
		{"response body shorter than Content-Length", msg(respLine, with(respHeaders, "Content-Length: 9"), "abc"), "4a42f405.invalid", BodyTooShort},
		{"response body longer", msg(respLine, with(respHeaders, "Content-Length: 1"), "abc"), "4a42f405.invalid", OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m Message
			if err := m.Parse([]byte(tc.in)); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := Check(&m, tc.viaHost); got != tc.want {
				t.Errorf("Check(%q) = %v, want %v\n%s", tc.viaHost, got, tc.want, tc.in)
			}
		})
	}
}

func TestProblemStatusAndString(t *testing.T) {
	tests := []struct {
		p      Problem
		code   int
		reason string
		str    string
	}{
		{OK, 0, "", "ok"},
		{MissingHeader, 0, "", "missing mandatory header"},
		{BadRequestURIScheme, 416, "Unsupported URI Scheme", "unsupported Request-URI scheme"},
		{BodyTooShort, 400, "Bad Request", "body shorter than Content-Length"},
		{ResponseMultipleVia, 0, "", "more than one Via in a response"},
		{ResponseViaMismatch, 0, "", "response Via sent-by does not match"},
		{Problem(200), 0, "", "Problem(200)"},
	}
	for _, tc := range tests {
		code, reason := tc.p.Status()
		if code != tc.code || reason != tc.reason {
			t.Errorf("%v.Status() = %d, %q; want %d, %q", tc.p, code, reason, tc.code, tc.reason)
		}
		if got := tc.p.String(); got != tc.str {
			t.Errorf("Problem(%d).String() = %q, want %q", uint8(tc.p), got, tc.str)
		}
	}
}
