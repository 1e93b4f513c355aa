package sipmsg

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// addCorpusSeeds adds every message under testdata, plus a few odd inputs,
// through add.
func addCorpusSeeds(f *testing.F, add func(b []byte)) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.sip"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
	for _, s := range []string{
		"", "\r\n\r\n", "SIP/2.0 200 OK\r\n\r\n", "OPTIONS sip:a SIP/2.0\n\n",
		"OPTIONS sip:a SIP/2.0\r\nv: a,b\r\n c\r\n\r\nbody",
		"INVITE sips:a SIP/2.0\r\nv:SIP/2.0/WS [::1]:1\r\nf:a\r\nt:\"<\" <sip:;tag=>\r\ni:x\r\nCSeq:1\r\nl:99\r\n\r\n",
	} {
		add([]byte(s))
	}
}

// FuzzParse checks that Parse never panics, never modifies its input, and
// that what it reports is consistent: slices inside the input, trimmed
// values, token names, Values agreeing with ViaCount and TopVia, the body
// cut to a valid Content-Length.
func FuzzParse(f *testing.F) {
	addCorpusSeeds(f, func(b []byte) { f.Add(b) })
	var m Message
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		err := m.Parse(b)
		if !bytes.Equal(b, orig) {
			t.Fatalf("Parse modified its input")
		}
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			if m.IsRequest() || m.IsResponse() || m.n != 0 || m.Body() != nil {
				t.Fatalf("failed Parse left state behind")
			}
			if Check(&m, "x") != MissingHeader {
				t.Fatalf("Check of a failed parse is not MissingHeader")
			}
			return
		}
		if m.IsRequest() == m.IsResponse() {
			t.Fatalf("IsRequest %v, IsResponse %v", m.IsRequest(), m.IsResponse())
		}
		if m.IsRequest() && (len(m.Method()) == 0 || len(m.RequestURI()) == 0) {
			t.Fatalf("request with empty method %q or URI %q", m.Method(), m.RequestURI())
		}
		if m.IsResponse() && (m.StatusCode() < 100 || m.StatusCode() > 699) {
			t.Fatalf("status %d", m.StatusCode())
		}
		inside := func(what string, s []byte) {
			if len(s) > 0 && !bytes.Contains(b, s) {
				t.Fatalf("%s %q is not in the input", what, s)
			}
		}
		inside("method", m.Method())
		inside("reason", m.Reason())
		for i := 0; i < m.n; i++ {
			h := m.hdr[i]
			if h.name.off >= h.name.end || h.name.end > uint32(len(b)) || h.value.off > h.value.end || h.value.end > uint32(len(b)) {
				t.Fatalf("header %d spans out of range: %+v (len %d)", i, h, len(b))
			}
			name, value := m.slice(h.name), m.slice(h.value)
			for _, c := range name {
				if !isToken(c) {
					t.Fatalf("header name %q is not a token", name)
				}
			}
			if len(value) > 0 && (isSpace(value[0]) || isSpace(value[len(value)-1])) {
				t.Fatalf("value %q not trimmed", value)
			}
			if h.id != idOf(name) {
				t.Fatalf("header %q has id %d, want %d", name, h.id, idOf(name))
			}
			if first := m.Header(string(name)); first == nil {
				t.Fatalf("Header(%q) = nil for a present header", name)
			}
		}
		if m.n > MaxHeaders {
			t.Fatalf("%d headers", m.n)
		}
		var vias [][]byte
		for v := range m.Values("Via") {
			if len(v) == 0 || isSpace(v[0]) || isSpace(v[len(v)-1]) {
				t.Fatalf("Via value %q empty or untrimmed", v)
			}
			vias = append(vias, v)
		}
		if len(vias) != m.ViaCount() {
			t.Fatalf("Values(Via) yields %d, ViaCount %d", len(vias), m.ViaCount())
		}
		if len(vias) > 0 && !bytes.Equal(vias[0], m.TopVia()) || len(vias) == 0 && m.TopVia() != nil {
			t.Fatalf("TopVia %q, first value %q", m.TopVia(), vias)
		}
		ViaHostPort(m.TopVia())
		body := m.Body()
		if body == nil || !bytes.HasSuffix(b[:len(b)-int(m.rest)+len(body)], body) {
			t.Fatalf("body %q is not where the rest starts", body)
		}
		if n, ok := m.ContentLength(); ok && n <= int(m.rest) && len(body) != n {
			t.Fatalf("body %d bytes, Content-Length %d, %d available", len(body), n, m.rest)
		} else if (!ok || n > int(m.rest)) && len(body) != int(m.rest) {
			t.Fatalf("body %d bytes, want all %d", len(body), m.rest)
		}
		// A second parse of the same input gives the same view.
		before := m
		if err := m.Parse(b); err != nil || m.n != before.n || m.hdr != before.hdr || m.body != before.body {
			t.Fatalf("reparse differs: %v", err)
		}
	})
}

// asciiLower folds ASCII letters only, as SIP compares names and schemes.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// compactOf maps the long names of the mandatory headers to their compact
// forms (CSeq has none).
var compactOf = map[string]string{"via": "v", "from": "f", "to": "t", "call-id": "i"}

// refCheck is Check written again from SPEC.md's rules, as plainly as
// possible, through the public API (and the body's offset).
func refCheck(m *Message, viaHost string) Problem {
	for _, name := range []string{"via", "from", "to", "call-id", "cseq"} {
		present := false
		m.VisitHeaders(func(n, v []byte) {
			ln := asciiLower(string(n))
			if len(v) > 0 && (ln == name || ln == compactOf[name]) {
				present = true
			}
		})
		if !present {
			return MissingHeader
		}
	}
	n, ok := m.ContentLength()
	short := ok && n > len(m.Bytes())-int(m.body.off)
	if m.IsRequest() {
		scheme, _, found := strings.Cut(string(m.RequestURI()), ":")
		if !found || asciiLower(scheme) != "sip" {
			return BadRequestURIScheme
		}
		if short {
			return BodyTooShort
		}
		return OK
	}
	vias := 0
	for range m.Values("Via") {
		vias++
	}
	if vias > 1 {
		return ResponseMultipleVia
	}
	if viaHost != "" {
		host, port := ViaHostPort(m.TopVia())
		if port != nil || asciiLower(string(host)) != asciiLower(viaHost) {
			return ResponseViaMismatch
		}
	}
	if short {
		return BodyTooShort
	}
	return OK
}

// FuzzCheck compares Check with refCheck, and checks Status's contract.
func FuzzCheck(f *testing.F) {
	addCorpusSeeds(f, func(b []byte) {
		f.Add(b, "")
		f.Add(b, "4a42f405.invalid")
	})
	var m Message
	f.Fuzz(func(t *testing.T, b []byte, viaHost string) {
		if m.Parse(b) != nil {
			return
		}
		got, want := Check(&m, viaHost), refCheck(&m, viaHost)
		if got != want {
			t.Fatalf("Check(%q) = %v, reference says %v", viaHost, got, want)
		}
		code, reason := got.Status()
		if (code != 0) != (got == BadRequestURIScheme || got == BodyTooShort) || (code == 0) != (reason == "") {
			t.Fatalf("%v.Status() = %d, %q", got, code, reason)
		}
		if got == BadRequestURIScheme && !m.IsRequest() {
			t.Fatalf("BadRequestURIScheme for a response")
		}
	})
}

// foldRun is a line break of folding, or a stray CR, with the white space
// around it.
var foldRun = regexp.MustCompile(`[ \t]*[\r\n][ \t\r\n]*`)

// unfold replaces each fold in a header value with one SP (RFC 3261 §7.3.1).
func unfold(v []byte) string { return foldRun.ReplaceAllString(string(v), " ") }

// firstNonEmpty returns the first non-empty value of the header called
// name (long or compact form, any case), read through VisitHeaders, or "".
func firstNonEmpty(m *Message, name string) string {
	name = asciiLower(name)
	v := ""
	m.VisitHeaders(func(n, value []byte) {
		ln := asciiLower(string(n))
		if v == "" && len(value) > 0 && (ln == name || ln == compactOf[name]) {
			v = string(value)
		}
	})
	return v
}

// nonEmptyVias counts the Via lines of m with a non-empty value.
func nonEmptyVias(m *Message) int {
	n := 0
	m.VisitHeaders(func(name, value []byte) {
		if ln := asciiLower(string(name)); (ln == "via" || ln == "v") && len(value) > 0 {
			n++
		}
	})
	return n
}

// FuzzAppendResponse checks that the answer to any request that has the
// mandatory headers parses, passes the header presence check, writes no
// header with an empty value, and copies what it must: the non-empty Via
// lines, and the first non-empty To, From, Call-ID and CSeq, the values
// Check accepted.
func FuzzAppendResponse(f *testing.F) {
	addCorpusSeeds(f, func(b []byte) {
		f.Add(b, 416, "Unsupported URI Scheme", "a1b2")
		f.Add(b, 400, "Bad\r\nRequest", "")
	})
	var req, resp Message
	f.Fuzz(func(t *testing.T, b []byte, code int, reason, tag string) {
		if req.Parse(b) != nil || !req.IsRequest() || Check(&req, "") == MissingHeader {
			return
		}
		code = 100 + (code%600+600)%600
		out := AppendResponse(nil, &req, code, reason, tag)
		if err := resp.Parse(out); err != nil {
			t.Fatalf("the answer does not parse: %v\n%q", err, out)
		}
		if !resp.IsResponse() || resp.StatusCode() != code {
			t.Fatalf("answer status %d, want %d", resp.StatusCode(), code)
		}
		if p := Check(&resp, ""); p == MissingHeader {
			t.Fatalf("answer lacks a mandatory header:\n%q", out)
		}
		resp.VisitHeaders(func(name, value []byte) {
			if len(value) == 0 {
				t.Fatalf("answer has an empty %s:\n%q\nto\n%q", name, out, b)
			}
		})
		if got, want := resp.HeaderCount("Via"), nonEmptyVias(&req); got != want || resp.ViaCount() != req.ViaCount() {
			t.Fatalf("answer has %d Via lines (%d values), request %d non-empty (%d)",
				got, resp.ViaCount(), want, req.ViaCount())
		}
		for _, name := range []string{"From", "Call-ID", "CSeq"} {
			if got, want := string(resp.Header(name)), unfold([]byte(firstNonEmpty(&req, name))); got != want {
				t.Fatalf("answer %s = %q, want %q", name, got, want)
			}
		}
		to := firstNonEmpty(&req, "To")
		wantTo := unfold([]byte(to))
		if tag != "" && !hasParam([]byte(to), "tag") {
			wantTo = strings.TrimRight(wantTo+";tag="+strings.NewReplacer("\r", " ", "\n", " ").Replace(tag), " \t")
		}
		if got := string(resp.Header("To")); got != wantTo {
			t.Fatalf("answer To = %q, want %q", got, wantTo)
		}
		if n, ok := resp.ContentLength(); !ok || n != 0 || len(resp.Body()) != 0 {
			t.Fatalf("answer Content-Length %d %v, body %q", n, ok, resp.Body())
		}
	})
}
