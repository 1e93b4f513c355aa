package sipmsg

import (
	"testing"
)

func TestAppendResponse(t *testing.T) {
	tests := []struct {
		name   string
		req    string
		code   int
		reason string
		tag    string
		want   string
	}{
		{
			name: "416 to Kamailio's relayed MESSAGE: both Vias, two spaces kept, tag added",
			req: "MESSAGE sips:bob@86136fb5.invalid;transport=ws SIP/2.0\r\n" +
				"Via: SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK4c86.0\r\n" +
				"Via: SIP/2.0/WS 4a42f405.invalid;rport=57360;received=127.0.0.1;branch=z9hG4bK9089\r\n" +
				"Max-Forwards: 69\r\nFrom: <sip:alice@127.0.0.1>;tag=3e7554fe\r\nTo: <sip:bob@127.0.0.1>\r\n" +
				"Call-ID: 3e2c0acf181f08f8\r\nCSeq: 3 MESSAGE\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\n" +
				"hello bob over ws",
			code: 416, reason: "Unsupported URI Scheme", tag: "8a1f",
			want: "SIP/2.0 416 Unsupported URI Scheme\r\n" +
				"Via: SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK4c86.0\r\n" +
				"Via: SIP/2.0/WS 4a42f405.invalid;rport=57360;received=127.0.0.1;branch=z9hG4bK9089\r\n" +
				"To: <sip:bob@127.0.0.1>;tag=8a1f\r\n" +
				"From: <sip:alice@127.0.0.1>;tag=3e7554fe\r\n" +
				"Call-ID: 3e2c0acf181f08f8\r\n" +
				"CSeq: 3 MESSAGE\r\n" +
				"Content-Length: 0\r\n\r\n",
		},
		{
			name: "400 with compact forms, comma Vias on one line, existing tag kept",
			req: "INVITE sip:bob@b SIP/2.0\r\nv: SIP/2.0/WS a.invalid;branch=z1, SIP/2.0/WS b.invalid;branch=z2\r\n" +
				"f: \"A\" <sip:a@b>;tag=1\r\nt: <sip:bob@b>;TAG=xyz\r\ni: cid\r\nCSeq: 7 INVITE\r\nl: 10\r\n\r\nshort",
			code: 400, reason: "Bad Request", tag: "new",
			want: "SIP/2.0 400 Bad Request\r\n" +
				"Via: SIP/2.0/WS a.invalid;branch=z1, SIP/2.0/WS b.invalid;branch=z2\r\n" +
				"To: <sip:bob@b>;TAG=xyz\r\n" +
				"From: \"A\" <sip:a@b>;tag=1\r\n" +
				"Call-ID: cid\r\nCSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "tag inside the To URI is not the To tag",
			req: "OPTIONS sips:b SIP/2.0\r\nVia: SIP/2.0/WS a\r\nFrom: <sip:a@b>;tag=1\r\n" +
				"To: \"x;tag=q\" <sip:bob@b;tag=uri>;foo=bar\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
			code: 416, reason: "Unsupported URI Scheme", tag: "t9",
			want: "SIP/2.0 416 Unsupported URI Scheme\r\nVia: SIP/2.0/WS a\r\n" +
				"To: \"x;tag=q\" <sip:bob@b;tag=uri>;foo=bar;tag=t9\r\n" +
				"From: <sip:a@b>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "folded values unfolded, bare LF input answered with CRLF",
			req: "OPTIONS sips:b SIP/2.0\nVia: SIP/2.0/WS a\n ;branch=z\nFrom: <sip:a@b>;tag=1\n" +
				"To:\n\t<sip:b@b>\nCall-ID: c\nCSeq: 1\n  OPTIONS\n\n",
			code: 416, reason: "Unsupported URI Scheme", tag: "t",
			want: "SIP/2.0 416 Unsupported URI Scheme\r\nVia: SIP/2.0/WS a ;branch=z\r\n" +
				"To: <sip:b@b>;tag=t\r\nFrom: <sip:a@b>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "first To, From, Call-ID, CSeq only; empty tag adds none; CR LF in reason become SP",
			req: "OPTIONS sips:b SIP/2.0\r\nVia: SIP/2.0/WS a\r\nTo: <sip:1@b>\r\nTo: <sip:2@b>\r\n" +
				"From: <sip:a@b>;tag=1\r\nFrom: <sip:x@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
			code: 416, reason: "Bad\r\nX-Injected: 1", tag: "",
			want: "SIP/2.0 416 Bad  X-Injected: 1\r\nVia: SIP/2.0/WS a\r\nTo: <sip:1@b>\r\n" +
				"From: <sip:a@b>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "addr-spec To without brackets: params are header params",
			req: "OPTIONS sips:b SIP/2.0\r\nVia: SIP/2.0/WS a\r\nTo: sip:bob@b;tag=9\r\nFrom: sip:a@b;tag=1\r\n" +
				"Call-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
			code: 416, reason: "Unsupported URI Scheme", tag: "new",
			want: "SIP/2.0 416 Unsupported URI Scheme\r\nVia: SIP/2.0/WS a\r\nTo: sip:bob@b;tag=9\r\n" +
				"From: sip:a@b;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "empty first lines: the values Check accepted are copied (Call-ID)",
			req:  "0 0 SIP/2.0\nv:0\ni:\nf:0\nt:0\ni:0\nCSeq:0\n\n",
			code: 471, reason: "x", tag: "",
			want: "SIP/2.0 471 x\r\nVia: 0\r\nTo: 0\r\nFrom: 0\r\nCall-ID: 0\r\nCSeq: 0\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "empty first lines: the values Check accepted are copied (CSeq)",
			req:  "0 0 SIP/2.0\nv:0\nCSeq:\nf:0\nt:0\ni:0\nCSeq:0\n\n",
			code: 416, reason: "Unsupported URI Scheme", tag: "",
			want: "SIP/2.0 416 Unsupported URI Scheme\r\nVia: 0\r\nTo: 0\r\nFrom: 0\r\nCall-ID: 0\r\nCSeq: 0\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "empty first To and From: the first non-empty ones, the tag added to that To",
			req: "OPTIONS sips:b SIP/2.0\r\nVia: SIP/2.0/WS a\r\nTo:\r\nFrom: \r\nt: <sip:b@b>\r\nf: <sip:a@b>;tag=1\r\n" +
				"To: <sip:2@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
			code: 416, reason: "Unsupported URI Scheme", tag: "t1",
			want: "SIP/2.0 416 Unsupported URI Scheme\r\nVia: SIP/2.0/WS a\r\nTo: <sip:b@b>;tag=t1\r\n" +
				"From: <sip:a@b>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		},
		{
			name: "empty Via lines are left out, the others kept in order, a line of commas too",
			req: "OPTIONS sips:b SIP/2.0\r\nVia:\r\nVia: SIP/2.0/WS a\r\nv: , \r\nVia: SIP/2.0/WS b, \r\nVia:\r\n \r\n" +
				"From: <sip:a@b>;tag=1\r\nTo: <sip:b@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
			code: 416, reason: "Unsupported URI Scheme", tag: "",
			want: "SIP/2.0 416 Unsupported URI Scheme\r\nVia: SIP/2.0/WS a\r\nVia: ,\r\nVia: SIP/2.0/WS b,\r\nTo: <sip:b@b>\r\n" +
				"From: <sip:a@b>;tag=1\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var req Message
			if err := req.Parse([]byte(tc.req)); err != nil {
				t.Fatal(err)
			}
			prefix := "existing:"
			got := AppendResponse([]byte(prefix), &req, tc.code, tc.reason, tc.tag)
			if string(got) != prefix+tc.want {
				t.Errorf("AppendResponse =\n%q\nwant\n%q", got, prefix+tc.want)
			}
			var resp Message
			if err := resp.Parse(got[len(prefix):]); err != nil {
				t.Fatalf("the response does not parse: %v", err)
			}
			if resp.StatusCode() != tc.code || resp.ViaCount() != req.ViaCount() {
				t.Errorf("reparsed: status %d, %d Vias; want %d, %d", resp.StatusCode(), resp.ViaCount(), tc.code, req.ViaCount())
			}
		})
	}
}

func TestHasParam(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"<sip:a@b>;tag=1", true},
		{"<sip:a@b>;TAG=1", true},
		{"<sip:a@b> ; tag = 1", true},
		{"<sip:a@b>;foo=1;tag=2", true},
		{"<sip:a@b>;tag", true},
		{"<sip:a@b;tag=1>", false},
		{"<sip:a@b>;tagx=1", false},
		{"<sip:a@b>;xtag=1", false},
		{`"a;tag=1" <sip:a@b>`, false},
		{`"a\";tag=1" <sip:a@b>`, false},
		{`"a\"" <sip:a@b>;tag=1`, true},
		{"sip:a@b;tag=1", true},
		{"sip:a@b", false},
		{"", false},
		{";", false},
		{"<sip:a@b", false},
	}
	for _, tc := range tests {
		if got := hasParam([]byte(tc.v), "tag"); got != tc.want {
			t.Errorf("hasParam(%q, tag) = %v, want %v", tc.v, got, tc.want)
		}
	}
}
