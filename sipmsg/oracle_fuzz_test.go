package sipmsg

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// oracleNames are the header names FuzzParseOracle looks up in every
// message, besides the names the message itself holds: every long and
// compact form the oracle knows, in several cases, common headers it does
// not know, and names that must match nothing.
var oracleNames = func() []string {
	names := []string{
		"Record-Route", "record-route", "Route", "Max-Forwards", "Expires", "Min-Expires", "Require",
		"Proxy-Require", "Unsupported", "Allow", "User-Agent", "Server", "Authorization",
		"Proxy-Authorization", "WWW-Authenticate", "Proxy-Authenticate", "RSeq", "RAck", "Date",
		"X-Custom", "Via-Extra", "Vía", "\u212a", "", "Via\r", "Call\rID", "Call-ID\n", "CSeq ", " CSeq",
		"ContentLength", "Content_Length", "Content-Lengthx", "Request-Dispositio", "Request-Dispositions",
		"!", "~", "\x00", "\xff", "v\x00",
	}
	for id := oidVia; id < oNumIDs; id++ {
		long := oLongNames[id]
		if id%2 == 0 {
			long = strings.ToUpper(long)
		}
		names = append(names, long)
	}
	for c := range 256 {
		if oCompact[c] != oidOther {
			names = append(names, string(rune(c)))
		}
	}
	return names
}()

// hdrList is what VisitHeaders reports, as strings.
func hdrList(visit func(func(name, value []byte))) []string {
	var l []string
	visit(func(name, value []byte) { l = append(l, string(name)+"\x00"+string(value)) })
	return l
}

// collect returns what a Values iterator yields.
func collect(seq func(func([]byte) bool)) []string {
	var l []string
	for v := range seq {
		l = append(l, string(v))
	}
	return l
}

// sameBytes reports whether a and b hold the same bytes and are both nil
// or both not.
func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) && (a == nil) == (b == nil) }

// cutCap reports whether s's capacity is cut to its length, as Message
// promises for every slice it returns.
func cutCap(s []byte) bool { return cap(s) == len(s) }

// primeMessage is parsed before each input, so that state a parse fails to
// reset shows as a difference.
var primeMessage = []byte("SIP/2.0 200 OK\r\nVia: SIP/2.0/WS a;branch=z, SIP/2.0/WS b\r\nv: SIP/2.0/WS c\r\n" +
	"From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nRecord-Route: <sip:r>\r\n" +
	"Contact: <sip:a@b>\r\nExpires: 60\r\nContent-Length: 4\r\n\r\nbody")

// diffOracle parses b with Parse and with the oracle and returns every
// observable difference, joined, or "".
func diffOracle(b []byte, viaHost string) string {
	var m Message
	var o oMessage
	_, _ = m.Parse(primeMessage), o.Parse(primeMessage)
	var diffs []string
	diff := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }

	errM, errO := m.Parse(b), o.Parse(b)
	if errM != errO {
		diff("Parse error %v, oracle %v", errM, errO)
	}
	if len(m.Bytes()) != len(b) || len(b) > 0 && &m.Bytes()[0] != &b[0] {
		diff("Bytes is not the input")
	}
	if m.IsRequest() != o.IsRequest() || m.IsResponse() != o.IsResponse() {
		diff("IsRequest, IsResponse %v %v, oracle %v %v", m.IsRequest(), m.IsResponse(), o.IsRequest(), o.IsResponse())
	}
	for _, s := range []struct {
		what string
		m, o []byte
	}{
		{"Method", m.Method(), o.Method()},
		{"RequestURI", m.RequestURI(), o.RequestURI()},
		{"Reason", m.Reason(), o.Reason()},
		{"TopVia", m.TopVia(), o.TopVia()},
		{"Body", m.Body(), o.Body()},
	} {
		if !sameBytes(s.m, s.o) || !cutCap(s.m) {
			diff("%s %q (cap %d), oracle %q", s.what, s.m, cap(s.m), s.o)
		}
	}
	if m.StatusCode() != o.StatusCode() {
		diff("StatusCode %d, oracle %d", m.StatusCode(), o.StatusCode())
	}
	if m.ViaCount() != o.ViaCount() {
		diff("ViaCount %d, oracle %d", m.ViaCount(), o.ViaCount())
	}
	n1, ok1 := m.ContentLength()
	n2, ok2 := o.ContentLength()
	if n1 != n2 || ok1 != ok2 {
		diff("ContentLength %d %v, oracle %d %v", n1, ok1, n2, ok2)
	}
	hm, ho := hdrList(m.VisitHeaders), hdrList(o.VisitHeaders)
	if !slices.Equal(hm, ho) {
		diff("VisitHeaders %q, oracle %q", hm, ho)
	}
	m.VisitHeaders(func(name, value []byte) {
		if !cutCap(name) || !cutCap(value) {
			diff("VisitHeaders slices not cut: %q %q", name, value)
		}
	})
	names := slices.Clone(oracleNames)
	o.VisitHeaders(func(name, _ []byte) {
		names = append(names, string(name), strings.ToUpper(string(name)))
	})
	for _, name := range names {
		vm, vo := m.Header(name), o.Header(name)
		if !sameBytes(vm, vo) || !cutCap(vm) {
			diff("Header(%q) %q, oracle %q", name, vm, vo)
		}
		if m.HasHeader(name) != o.HasHeader(name) {
			diff("HasHeader(%q) %v, oracle %v", name, m.HasHeader(name), o.HasHeader(name))
		}
		if m.HeaderCount(name) != o.HeaderCount(name) {
			diff("HeaderCount(%q) %d, oracle %d", name, m.HeaderCount(name), o.HeaderCount(name))
		}
		if lm, lo := collect(m.Values(name)), collect(o.Values(name)); !slices.Equal(lm, lo) {
			diff("Values(%q) %q, oracle %q", name, lm, lo)
		}
		for v := range m.Values(name) {
			if !cutCap(v) {
				diff("Values(%q) slice not cut: %q", name, v)
			}
			break
		}
	}
	host, _ := ViaHostPort(o.TopVia())
	for _, vh := range []string{"", viaHost, string(host), strings.ToUpper(string(host))} {
		if pm, po := Check(&m, vh), oCheck(&o, vh); pm != po {
			diff("Check(%q) %v, oracle %v", vh, pm, po)
		}
	}
	if o.IsRequest() {
		am := AppendResponse(nil, &m, 416, "Unsupported URI Scheme", "t1")
		ao := oAppendResponse(nil, &o, 416, "Unsupported URI Scheme", "t1")
		if !bytes.Equal(am, ao) {
			diff("AppendResponse %q, oracle %q", am, ao)
		}
	}
	return strings.Join(diffs, "\n")
}

// FuzzParseOracle parses the same input with Parse and with the parser
// Parse replaced (oracle_test.go) and fails on any difference a caller can
// observe: the error, the start line, every header, every lookup, the Via
// count and top Via, the body, Check's result and the stateless answer.
func FuzzParseOracle(f *testing.F) {
	addCorpusSeeds(f, func(b []byte) { f.Add(b, "4a42f405.invalid") })
	for _, s := range []string{
		"hello kamailio, this is not SIP", "OPTIONS sip:a@b SIP/2.0", "OPTIONS sip:a@b SIP/2.0\r\n",
		"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r", "OPTIONS sip:a@b SIP/2.0\r\n\r\r\n\r\n",
		"OPTIONS sip:a@b SIP/2.0\r\n folded: x\r\n\r\n", "OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n y",
		"OPTIONS sip:a@b SIP/2.0\r\nVia(x): y\r\n\r\n", "OPTIONS sip:a@b SIP/2.0\r\n: x\r\n\r\n",
		"OPTIONS sip:a@b SIP/2.0\r\nMax Forwards: 70\r\n\r\n", "OPTIONS sip:a@b SIP/2.0\r\nVia x",
		"SIP/2.0 200 OK\r\nVia: , SIP/2.0/WS a , ,\r\nv:\r\nVIA: SIP/2.0/WS c\r\n\r\n",
		"SIP/2.0 200 OK\r\nVia:\r\n \r\n SIP/2.0/WS b\r\nCall-ID \t:\tc\r\nl: 007\r\nContent-Length: 1\r\n\r\nxyz",
		"OPTIONS sip:a@b SIP/2.0\r\n" + headersN(MaxHeaders) + "\r\n",
		"OPTIONS sip:a@b SIP/2.0\r\n" + headersN(MaxHeaders) + "Via: x\r\n y",
		"OPTIONS sip:a@b SIP/2.0\r\n" + headersN(MaxHeaders) + "Via: x\r\n\r\n",
		"INVITE sip:a SIP/2.0\nv:SIP/2.0/WS a\ni:\nf:0\nt:0\ni:0\nCSeq:\nCSeq:1\nRecord-Route: <sip:r>\nrecord-ROUTE: <sip:s>\n\n",
	} {
		f.Add([]byte(s), "a")
	}
	f.Fuzz(func(t *testing.T, b []byte, viaHost string) {
		if d := diffOracle(b, viaHost); d != "" {
			t.Fatalf("input %q:\n%s", b, d)
		}
	})
}

// TestParseOracleCorpus runs the differential check on every message under
// testdata and on the inputs of the other tests' tables.
func TestParseOracleCorpus(t *testing.T) {
	for _, f := range corpusFiles(t) {
		if d := diffOracle(readCorpus(t, f), "4a42f405.invalid"); d != "" {
			t.Errorf("%s:\n%s", f, d)
		}
	}
}
