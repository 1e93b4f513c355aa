package sipmsg

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// readCorpus returns the bytes of testdata/name.
func readCorpus(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// corpusFiles lists the SIP messages under testdata.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.sip"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

// absent marks a header that must not be found.
const absent = "\x00absent"

// corpusCases describes what each message under testdata holds. The
// messages are real ones: Kamailio 5.6.3's (see /work/shared/kamailio),
// SIP.js-style requests, and RFC 3261/4475-style compact and folded forms.
var corpusCases = []struct {
	file             string
	method, uri      string // requests
	status           int    // responses
	reason           string
	headers          [][2]string // name, Header(name) or absent
	counts           map[string]int
	values           map[string][]string
	viaCount         int
	topVia           string
	viaHost, viaPort string // ViaHostPort(TopVia()), "<nil>" for a nil port
	clen             int    // -1: ContentLength not ok
	body             string
	viaHostCfg       string // Check's viaHost
	check            Problem
}{
	{
		file: "register.sip", method: "REGISTER", uri: "sip:127.0.0.1",
		headers: [][2]string{
			{"Via", "SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bKa93c095d8dff"},
			{"from", "<sip:alice@127.0.0.1>;tag=00b97c13"},
			{"T", "<sip:alice@127.0.0.1>"},
			{"i", "88860359b61ea462"},
			{"CSEQ", "1 REGISTER"},
			{"m", "<sip:alice@4a42f405.invalid;transport=ws>;expires=600"},
			{"Expires", "600"},
			{"Route", absent},
		},
		counts:   map[string]int{"Via": 1, "Contact": 1, "Route": 0},
		viaCount: 1, topVia: "SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bKa93c095d8dff",
		viaHost: "4a42f405.invalid", viaPort: "<nil>",
		clen: 0, body: "", check: OK,
	},
	{
		file: "register-200.sip", status: 200, reason: "OK",
		headers: [][2]string{
			{"To", "<sip:alice@127.0.0.1>;tag=a45363010201c12697c26728a1ea42a4.ac460000"},
			{"Contact", `<sip:alice@4a42f405.invalid;transport=ws>;expires=600;received="sip:127.0.0.1:57360;transport=ws"`},
			{"Server", "kamailio (5.6.3 (x86_64/linux))"},
		},
		values: map[string][]string{
			"m": {`<sip:alice@4a42f405.invalid;transport=ws>;expires=600;received="sip:127.0.0.1:57360;transport=ws"`},
		},
		viaCount: 1, topVia: "SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bKa93c095d8dff;rport=57360;received=127.0.0.1",
		viaHost: "4a42f405.invalid", viaPort: "<nil>",
		clen: 0, viaHostCfg: "4A42F405.invalid", check: OK,
	},
	{
		file: "invite-sdp.sip", method: "INVITE", uri: "sip:bob@127.0.0.1",
		headers: [][2]string{
			{"From", `"Alice" <sip:alice@127.0.0.1>;tag=5d7e2b10`},
			{"c", "application/sdp"},
			{"Content-Length", "297"},
		},
		values: map[string][]string{
			"Allow":     {"ACK", "CANCEL", "INVITE", "MESSAGE", "BYE", "OPTIONS", "INFO", "NOTIFY", "REFER"},
			"k":         {"outbound"},
			"Supported": {"outbound"},
		},
		viaCount: 1, topVia: "SIP/2.0/WS 69b44d5a.invalid;branch=z9hG4bK7b7eb38f58f6",
		viaHost: "69b44d5a.invalid", viaPort: "<nil>",
		clen: 297, body: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
			"m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
			"a=ice-ufrag:8hhY\r\na=ice-pwd:asd88fgpdd777uzjYhagZg\r\na=mid:0\r\na=sendrecv\r\n" +
			"a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n",
		check: OK,
	},
	{
		file: "invite-200-vias.sip", status: 200, reason: "OK",
		headers: [][2]string{
			{"Via", "SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK0aa8.4886afedcb1aaf27de03f0970d819cc9.0, " +
				"SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds8;received=192.0.2.3"},
			{"Record-Route", "<sip:127.0.0.1:18080;transport=ws;lr>"},
		},
		counts: map[string]int{"Via": 3, "v": 3, "Record-Route": 1},
		values: map[string][]string{"Via": {
			"SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK0aa8.4886afedcb1aaf27de03f0970d819cc9.0",
			"SIP/2.0/UDP 192.0.2.4:5060;branch=z9hG4bKnashds8;received=192.0.2.3",
			"SIP/2.0/WS 69b44d5a.invalid;rport=52066;received=127.0.0.1;branch=z9hG4bK7b7eb38f58f6",
			`SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bKx;comment="a, b"`,
		}},
		viaCount: 4, topVia: "SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK0aa8.4886afedcb1aaf27de03f0970d819cc9.0",
		viaHost: "127.0.0.1", viaPort: "18080",
		clen: 145, body: "v=0\r\no=- 1799 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
			"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n",
		check: ResponseMultipleVia,
	},
	{
		file: "compact.sip", method: "SUBSCRIBE", uri: "sip:bob@biloxi.example.com",
		headers: [][2]string{
			{"Via", "SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7"},
			{"From", "Alice <sip:alice@atlanta.example.com>;tag=1928301774"},
			{"To", "Bob <sip:bob@biloxi.example.com>"},
			{"Call-ID", "a84b4c76e66710@pc33.atlanta.example.com"},
			{"Supported", "outbound, path"},
			{"Event", "presence"},
			{"Session-Expires", "1800;refresher=uac"},
			{"Subject", "compact forms"},
			{"Content-Type", "text/plain"},
			{"content-length", "15"},
		},
		counts: map[string]int{"Contact": 1, "m": 1, "Allow-Events": 1},
		values: map[string][]string{
			"Contact":      {`"Alice, A." <sip:alice@df7jal23ls0d.invalid;transport=ws>;expires=3600`, "<sip:alice@192.0.2.4>"},
			"Allow-Events": {"presence", "dialog"},
		},
		viaCount: 1, topVia: "SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKnashds7",
		viaHost: "df7jal23ls0d.invalid", viaPort: "<nil>",
		clen: 15, body: "hello compact\r\n", check: OK,
	},
	{
		file: "folded.sip", method: "OPTIONS", uri: "sip:127.0.0.1",
		headers: [][2]string{
			{"Via", "SIP/2.0/WS 4a42f405.invalid\r\n ;branch=z9hG4bK5c1b7b3de1e9"},
			{"To", "<sip:127.0.0.1>"},
			{"Subject", "I know you're there,\r\n pick up the phone\r\n and talk to me!"},
			{"Supported", "outbound,\r\n  path"},
			{"Accept", "application/sdp"},
		},
		values:   map[string][]string{"Supported": {"outbound", "path"}},
		counts:   map[string]int{"Subject": 1, "Supported": 1},
		viaCount: 1, topVia: "SIP/2.0/WS 4a42f405.invalid\r\n ;branch=z9hG4bK5c1b7b3de1e9",
		viaHost: "4a42f405.invalid", viaPort: "<nil>",
		clen: 0, check: OK,
	},
	{
		file: "options-200-kamailio.sip", status: 200, reason: "OK",
		headers: [][2]string{
			{"Accept", "*/*"},
			{"Accept-Encoding", ""},
			{"Supported", ""},
			{"k", ""},
			{"Accept-Language", "en"},
		},
		counts:   map[string]int{"Supported": 1, "Accept-Encoding": 1},
		values:   map[string][]string{"Supported": nil, "Accept-Encoding": nil, "Accept-Language": {"en"}},
		viaCount: 1, topVia: "SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bK5c1b7b3de1e9;rport=57360;received=127.0.0.1",
		viaHost: "4a42f405.invalid", viaPort: "<nil>",
		clen: 0, viaHostCfg: "4a42f405.invalid", check: OK,
	},
	{
		file: "message-two-via.sip", method: "MESSAGE", uri: "sip:bob@86136fb5.invalid;transport=ws",
		headers: [][2]string{
			{"Via", "SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK4c86.ca0b5a0f5a274621d09ca7c673d61887.0"},
			{"Max-Forwards", "69"},
			{"Content-Type", "text/plain"},
		},
		counts:   map[string]int{"Via": 2},
		viaCount: 2, topVia: "SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK4c86.ca0b5a0f5a274621d09ca7c673d61887.0",
		viaHost: "127.0.0.1", viaPort: "18080",
		clen: 17, body: "hello bob over ws", check: OK,
	},
	{
		file: "bare-lf.sip", method: "OPTIONS", uri: "sip:127.0.0.1",
		headers: [][2]string{
			{"Via", "SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bKbarelf01"},
			{"Call-ID", "5b0c2f6e19d4a3c8"},
			{"Content-Length", "0"},
		},
		viaCount: 1, topVia: "SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bKbarelf01",
		viaHost: "4a42f405.invalid", viaPort: "<nil>",
		clen: 0, check: OK,
	},
	{
		file: "trying-100.sip", status: 100, reason: "trying -- your call is important to us",
		headers:  [][2]string{{"To", "<sip:bob@127.0.0.1>"}, {"CSeq", "1 INVITE"}},
		viaCount: 1, topVia: "SIP/2.0/WS 69b44d5a.invalid;branch=z9hG4bK7b7eb38f58f6;rport=52066;received=127.0.0.1",
		viaHost: "69b44d5a.invalid", viaPort: "<nil>",
		clen: 0, viaHostCfg: "other.invalid", check: ResponseViaMismatch,
	},
	{
		file: "message-404.sip", status: 404, reason: "Not Found",
		headers:  [][2]string{{"To", "<sip:carol@127.0.0.1>;tag=a45363010201c12697c26728a1ea42a4.d7c90000"}},
		viaCount: 1, topVia: "SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bK9089b1865d8d;rport=57360;received=127.0.0.1",
		viaHost: "4a42f405.invalid", viaPort: "<nil>",
		clen: 0, check: OK,
	},
}

func TestParseCorpus(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range corpusCases {
		covered[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			b := readCorpus(t, tc.file)
			var m Message
			if err := m.Parse(b); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if &m.Bytes()[0] != &b[0] || len(m.Bytes()) != len(b) {
				t.Errorf("Bytes() is not the input")
			}
			if tc.method != "" {
				if !m.IsRequest() || m.IsResponse() {
					t.Fatalf("IsRequest, IsResponse = %v, %v; want a request", m.IsRequest(), m.IsResponse())
				}
				if got := string(m.Method()); got != tc.method {
					t.Errorf("Method() = %q, want %q", got, tc.method)
				}
				if got := string(m.RequestURI()); got != tc.uri {
					t.Errorf("RequestURI() = %q, want %q", got, tc.uri)
				}
				if m.StatusCode() != 0 || m.Reason() != nil {
					t.Errorf("request has StatusCode %d, Reason %q", m.StatusCode(), m.Reason())
				}
			} else {
				if m.IsRequest() || !m.IsResponse() {
					t.Fatalf("IsRequest, IsResponse = %v, %v; want a response", m.IsRequest(), m.IsResponse())
				}
				if got := m.StatusCode(); got != tc.status {
					t.Errorf("StatusCode() = %d, want %d", got, tc.status)
				}
				if got := string(m.Reason()); got != tc.reason {
					t.Errorf("Reason() = %q, want %q", got, tc.reason)
				}
				if m.Method() != nil || m.RequestURI() != nil {
					t.Errorf("response has Method %q, RequestURI %q", m.Method(), m.RequestURI())
				}
			}
			for _, h := range tc.headers {
				got := m.Header(h[0])
				if h[1] == absent {
					if got != nil || m.HasHeader(h[0]) {
						t.Errorf("Header(%q) = %q, HasHeader %v; want absent", h[0], got, m.HasHeader(h[0]))
					}
					continue
				}
				if got == nil || string(got) != h[1] || !m.HasHeader(h[0]) {
					t.Errorf("Header(%q) = %q (nil %v), want %q", h[0], got, got == nil, h[1])
				}
			}
			for name, want := range tc.counts {
				if got := m.HeaderCount(name); got != want {
					t.Errorf("HeaderCount(%q) = %d, want %d", name, got, want)
				}
			}
			for name, want := range tc.values {
				var got []string
				for v := range m.Values(name) {
					got = append(got, string(v))
				}
				if !slices.Equal(got, want) {
					t.Errorf("Values(%q) = %q, want %q", name, got, want)
				}
			}
			if got := m.ViaCount(); got != tc.viaCount {
				t.Errorf("ViaCount() = %d, want %d", got, tc.viaCount)
			}
			if got := string(m.TopVia()); got != tc.topVia {
				t.Errorf("TopVia() = %q, want %q", got, tc.topVia)
			}
			host, port := ViaHostPort(m.TopVia())
			gotPort := string(port)
			if port == nil {
				gotPort = "<nil>"
			}
			if string(host) != tc.viaHost || gotPort != tc.viaPort {
				t.Errorf("ViaHostPort(TopVia()) = %q, %s; want %q, %s", host, gotPort, tc.viaHost, tc.viaPort)
			}
			n, ok := m.ContentLength()
			if tc.clen < 0 && ok || tc.clen >= 0 && (!ok || n != tc.clen) {
				t.Errorf("ContentLength() = %d, %v; want %d", n, ok, tc.clen)
			}
			if got := string(m.Body()); got != tc.body {
				t.Errorf("Body() = %q, want %q", got, tc.body)
			}
			if got := Check(&m, tc.viaHostCfg); got != tc.check {
				t.Errorf("Check(%q) = %v, want %v", tc.viaHostCfg, got, tc.check)
			}
		})
	}
	for _, f := range corpusFiles(t) {
		if !covered[f] {
			t.Errorf("testdata/%s has no case in corpusCases", f)
		}
	}
}

// TestVisitHeadersCorpus checks that VisitHeaders reports every header
// line of each corpus message, in order, with its raw name.
func TestVisitHeadersCorpus(t *testing.T) {
	var m Message
	if err := m.Parse(readCorpus(t, "compact.sip")); err != nil {
		t.Fatal(err)
	}
	var names, values []string
	m.VisitHeaders(func(name, value []byte) {
		names = append(names, string(name))
		values = append(values, string(value))
	})
	wantNames := []string{"v", "Max-Forwards", "m", "f", "t", "i", "CSeq", "k", "o", "u", "x", "s", "c", "l"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("names = %q, want %q", names, wantNames)
	}
	if len(values) != len(wantNames) || values[1] != "70" || values[6] != "314159 SUBSCRIBE" {
		t.Errorf("values = %q", values)
	}
}
