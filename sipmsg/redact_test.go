package sipmsg

import (
	"bytes"
	"strings"
	"testing"
)

func TestAppendRedacted(t *testing.T) {
	const start = "REGISTER sip:127.0.0.1 SIP/2.0\r\n"
	const via = "Via: SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bK1\r\n"
	tests := []struct {
		name, in, want string
	}{
		{
			"Digest value redacted, scheme and everything else kept",
			start + via + `Authorization: Digest username="alice", realm="b", response="6629fae49393a05397450978507c4ef1"` + "\r\nCSeq: 2 REGISTER\r\n\r\n",
			start + via + "Authorization: Digest <redacted>\r\nCSeq: 2 REGISTER\r\n\r\n",
		},
		{
			"folded continuation line redacted (CRLF)",
			start + "Authorization: Digest username=\"a\",\r\n response=\"SECRET\"\r\n" + via + "\r\n",
			start + "Authorization: Digest <redacted>\r\n" + via + "\r\n",
		},
		{
			"folded continuation line redacted (bare LF)",
			"REGISTER sip:127.0.0.1 SIP/2.0\nAuthorization: Digest username=\"a\",\n response=\"SECRET\"\nCSeq: 2 REGISTER\n\n",
			"REGISTER sip:127.0.0.1 SIP/2.0\nAuthorization: Digest <redacted>\nCSeq: 2 REGISTER\n\n",
		},
		{
			"several continuation lines, HTAB and SP, mixed endings",
			start + "Authorization: Digest username=\"a\",\n\trealm=\"b\",\r\n    nonce=\"SECRET1\",\n response=\"SECRET2\"\r\n\r\n",
			start + "Authorization: Digest <redacted>\r\n\r\n",
		},
		{
			"value starting on a continuation line",
			start + "Authorization:\r\n Digest username=\"a\",\r\n response=\"SECRET\"\r\n\r\n",
			start + "Authorization: Digest <redacted>\r\n\r\n",
		},
		{
			"Proxy-Authorization, any case, white space before the colon kept",
			start + "proxy-AUTHORIZATION \t:Digest username=\"a\", response=\"SECRET\"\r\n\r\n",
			start + "proxy-AUTHORIZATION \t: Digest <redacted>\r\n\r\n",
		},
		{
			"Bearer token",
			start + "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.SECRET.sig\r\n\r\n",
			start + "Authorization: Bearer <redacted>\r\n\r\n",
		},
		{
			"a single word may be a bare credential: redacted whole",
			start + "Authorization: SECRET\r\nProxy-Authorization:  SECRET \r\n\r\n",
			start + "Authorization: <redacted>\r\nProxy-Authorization: <redacted>\r\n\r\n",
		},
		{
			"a first word that is not a token is not a scheme",
			start + "Authorization: SEC=RET more\r\n\r\n",
			start + "Authorization: <redacted>\r\n\r\n",
		},
		{
			"empty value",
			start + "Authorization:\r\n\r\n",
			start + "Authorization: <redacted>\r\n\r\n",
		},
		{
			"every credential header, other headers and folds untouched",
			start + "Subject: a\r\n b\r\nAuthorization: Digest SECRET1\r\nX: 1\r\nProxy-Authorization: Digest SECRET2\r\n\tSECRET3\r\nY:\r\n 2\r\n\r\n",
			start + "Subject: a\r\n b\r\nAuthorization: Digest <redacted>\r\nX: 1\r\nProxy-Authorization: Digest <redacted>\r\nY:\r\n 2\r\n\r\n",
		},
		{
			"body after the blank line untouched",
			start + "Authorization: Digest SECRET\r\nContent-Length: 33\r\n\r\nAuthorization: Digest not-header\r\n",
			start + "Authorization: Digest <redacted>\r\nContent-Length: 33\r\n\r\nAuthorization: Digest not-header\r\n",
		},
		{
			"body after a bare LF blank line untouched",
			"REGISTER sip:a SIP/2.0\nAuthorization: Digest SECRET\n\nAuthorization: x\n y\n",
			"REGISTER sip:a SIP/2.0\nAuthorization: Digest <redacted>\n\nAuthorization: x\n y\n",
		},
		{
			"similar names are not credentials",
			start + "Authorization-Info: x\r\nAuthorizationX: y\r\nX-Authorization: z\r\nWWW-Authenticate: Digest realm=\"r\"\r\n\r\n",
			start + "Authorization-Info: x\r\nAuthorizationX: y\r\nX-Authorization: z\r\nWWW-Authenticate: Digest realm=\"r\"\r\n\r\n",
		},
		{
			"leading CRLFs kept and skipped, as Parse skips them",
			"\r\n\n" + start + "Authorization: Digest SECRET\r\n\r\n",
			"\r\n\n" + start + "Authorization: Digest <redacted>\r\n\r\n",
		},
		{
			"no blank line: every line is a header",
			start + "Authorization: Digest a,\r\n SECRET",
			start + "Authorization: Digest <redacted>",
		},
		{
			"a fragment without a start line",
			"Authorization: Digest username=\"a\",\n response=\"SECRET\"",
			"Authorization: Digest <redacted>",
		},
		{
			"CR CR LF does not end the headers",
			start + "X: 1\r\n\r\r\nAuthorization: Digest SECRET\r\n\r\n",
			start + "X: 1\r\n\r\r\nAuthorization: Digest <redacted>\r\n\r\n",
		},
		{
			"a stray CR is inside the line",
			start + "Authorization: Digest a\rSECRET\r\r\n\r\n",
			start + "Authorization: Digest <redacted>\r\n\r\n",
		},
		{
			"a name without colon is not a header",
			start + "Authorization Digest x\r\n\r\n",
			start + "Authorization Digest x\r\n\r\n",
		},
		{"empty input", "", ""},
		{"only line breaks", "\r\n\r\n", "\r\n\r\n"},
		{"not SIP", "hello kamailio, this is not SIP", "hello kamailio, this is not SIP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.in)
			got := AppendRedacted([]byte("dst:"), in)
			if string(got) != "dst:"+tc.want {
				t.Errorf("AppendRedacted(%q) =\n%q\nwant\n%q", tc.in, got[min(4, len(got)):], tc.want)
			}
			if string(in) != tc.in {
				t.Errorf("input modified: %q", in)
			}
			if strings.Contains(string(got), "SECRET") {
				t.Errorf("SECRET leaked: %q", got)
			}
		})
	}
}

// TestAppendRedactedCorpus checks that the messages under testdata, none
// with credentials, come back unchanged.
func TestAppendRedactedCorpus(t *testing.T) {
	for _, f := range corpusFiles(t) {
		b := readCorpus(t, f)
		if got := AppendRedacted(nil, b); !bytes.Equal(got, b) {
			t.Errorf("%s changed:\n%q", f, got)
		}
	}
}

// credentialNames are the headers AppendRedacted redacts, lower case.
var credentialNames = []string{"authorization", "proxy-authorization"}

// checkRedacted checks the properties AppendRedacted has on any input.
func checkRedacted(t *testing.T, msg []byte) []byte {
	t.Helper()
	orig := bytes.Clone(msg)
	out := AppendRedacted([]byte("dst"), msg)
	if !bytes.Equal(msg, orig) {
		t.Fatalf("AppendRedacted modified its input")
	}
	if string(out[:3]) != "dst" {
		t.Fatalf("dst overwritten: %q", out)
	}
	out = out[3:]
	if !strings.Contains(asciiLower(string(msg)), "authorization") && !bytes.Equal(out, msg) {
		t.Fatalf("message without credentials changed:\n%q\n%q", msg, out)
	}
	if again := AppendRedacted(nil, out); !bytes.Equal(again, out) {
		t.Fatalf("not idempotent:\n%q\n%q", out, again)
	}
	if grow := len(out) - len(msg); grow > 11*bytes.Count(msg, []byte("\n"))+11 {
		t.Fatalf("grew by %d bytes", grow)
	}
	// A message that parses still parses, to the same headers but the
	// credentials, and the same start line and body.
	var m, r Message
	if m.Parse(msg) != nil || equalFold(m.Method(), "authorization") || equalFold(m.Method(), "proxy-authorization") {
		return out // (a start line that looks like a credential header is redacted too)
	}
	if err := r.Parse(out); err != nil {
		t.Fatalf("the redacted message does not parse: %v\n%q", err, out)
	}
	if !bytes.Equal(m.Method(), r.Method()) || !bytes.Equal(m.RequestURI(), r.RequestURI()) ||
		m.StatusCode() != r.StatusCode() || !bytes.Equal(m.Reason(), r.Reason()) || !bytes.Equal(m.Body(), r.Body()) {
		t.Fatalf("start line or body changed:\n%q\n%q", msg, out)
	}
	type hv struct{ name, value string }
	var before, after []hv
	m.VisitHeaders(func(n, v []byte) { before = append(before, hv{string(n), string(v)}) })
	r.VisitHeaders(func(n, v []byte) { after = append(after, hv{string(n), string(v)}) })
	if len(before) != len(after) {
		t.Fatalf("%d headers, then %d", len(before), len(after))
	}
	for i, h := range before {
		if after[i].name != h.name {
			t.Fatalf("header %d: name %q, then %q", i, h.name, after[i].name)
		}
		lname := asciiLower(h.name)
		if lname != credentialNames[0] && lname != credentialNames[1] {
			if after[i].value != h.value {
				t.Fatalf("%s: %q, then %q", h.name, h.value, after[i].value)
			}
			continue
		}
		scheme, ok := strings.CutSuffix(after[i].value, "<redacted>")
		if !ok || scheme != "" && (!strings.HasSuffix(scheme, " ") || !strings.HasPrefix(h.value, scheme[:len(scheme)-1])) {
			t.Fatalf("%s: %q redacted as %q", h.name, h.value, after[i].value)
		}
	}
	return out
}

// FuzzAppendRedacted checks AppendRedacted's properties on msg, and on a
// message built around an Authorization header whose folded lines carry
// secret: the secret never reaches the output. form chooses the header's
// shape: its name and case, line endings, white space, where the secret
// sits; msg supplies the other header lines and the body.
func FuzzAppendRedacted(f *testing.F) {
	addCorpusSeeds(f, func(b []byte) { f.Add(b, []byte("6629fae49393a053"), uint16(0)) })
	f.Add([]byte("REGISTER sip:a SIP/2.0\r\nAuthorization: Digest username=\"a\",\r\n response=\"SECRET\"\r\n\r\n"), []byte("1234"), uint16(0x1ff))
	f.Add([]byte("Authorization:x\n\tSECRET"), []byte("98765"), uint16(0x0a5))
	f.Fuzz(func(t *testing.T, msg, secret []byte, form uint16) {
		checkRedacted(t, msg)
		if len(secret) < 4 || len(secret) > 64 {
			return
		}
		// The secret in digits, so that it cannot start or end inside the
		// letters and punctuation around it; a test skipped when the rest
		// of the message holds it anyway.
		s := make([]byte, len(secret))
		for i, c := range secret {
			s[i] = '0' + c%10
		}
		bit := func(n uint) bool { return form&(1<<n) != 0 }
		eol, eol2 := "\r\n", "\n"
		if bit(0) {
			eol, eol2 = eol2, eol
		}
		if !bit(10) {
			eol2 = eol
		}
		name := "Authorization"
		if bit(1) {
			name = "Proxy-Authorization"
		}
		switch form >> 2 & 3 {
		case 1:
			name = strings.ToLower(name)
		case 2:
			name = strings.ToUpper(name)
		case 3:
			name = strings.ToUpper(name[:1]) + strings.ToLower(name[1:4]) + strings.ToUpper(name[4:])
		}
		if bit(4) {
			name += " \t"
		}
		fold := " "
		if bit(5) {
			fold = "\t"
		}
		head := name + ": Digest username=\"alice\","
		if bit(7) {
			head = name + ":" + eol + fold + "Digest username=\"alice\","
		}
		auth := head + eol2 + fold + "realm=\"r\", nonce=\"n\"," + eol
		if bit(6) {
			auth += fold + string(s) + eol2
		} else {
			auth += fold + "response=\"" + string(s) + "\"" + eol2
		}
		if bit(8) {
			auth += fold + fold + "algorithm=MD5" + eol
		}
		// The other header lines: msg's lines, none empty, so that no blank
		// line comes before the credentials.
		var others []string
		for _, l := range strings.Split(string(msg), "\n") {
			if strings.TrimSuffix(l, "\r") != "" && len(others) < 8 {
				others = append(others, l+eol)
			}
		}
		cut := len(others) / 2
		if bit(9) {
			cut = len(others)
		}
		before := "REGISTER sip:a SIP/2.0" + eol + strings.Join(others[:cut], "")
		after := strings.Join(others[cut:], "") + eol + string(msg)
		in := []byte(before + auth + after)
		out := checkRedacted(t, in)
		if strings.Contains(before, string(s)) || strings.Contains(after, string(s)) {
			return
		}
		if bytes.Contains(out, s) {
			t.Fatalf("secret %q leaked:\n%q\n%q", s, in, out)
		}
		if !strings.Contains(asciiLower(before), "authorization") && !bytes.HasPrefix(out, []byte(before+name+": Digest <redacted>")) {
			t.Fatalf("credentials not redacted as expected:\n%q\n%q", in, out)
		}
	})
}
