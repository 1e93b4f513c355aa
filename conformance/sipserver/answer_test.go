package sipserver

import (
	"bytes"
	"strings"
	"testing"
)

const options = "OPTIONS sip:server.example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1\r\n" +
	"v: SIP/2.0/WSS p2.invalid;branch=z9hG4bK2, SIP/2.0/WSS p3.invalid;branch=z9hG4bK3\r\n" +
	"Max-Forwards: 70\r\n" +
	"From: <sip:alice@example.com>;tag=a1\r\n" +
	"To: <sip:server.example.com>\r\n" +
	"Call-ID: c1@host\r\n" +
	"CSeq: 1 OPTIONS\r\n" +
	"Content-Length: 0\r\n\r\n"

// optionsAnswer is the answer to options with To tag T.
const optionsAnswer = "SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1\r\n" +
	"Via: SIP/2.0/WSS p2.invalid;branch=z9hG4bK2, SIP/2.0/WSS p3.invalid;branch=z9hG4bK3\r\n" +
	"From: <sip:alice@example.com>;tag=a1\r\n" +
	"To: <sip:server.example.com>;tag=T\r\n" +
	"Call-ID: c1@host\r\n" +
	"CSeq: 1 OPTIONS\r\n" +
	"Content-Length: 0\r\n\r\n"

const register = "REGISTER sip:example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/WSS ua.invalid;branch=z9hG4bKr\r\n" +
	"From: <sip:bob@example.com>;tag=b1\r\n" +
	"To: <sip:bob@example.com>\r\n" +
	"Call-ID: r1\r\n" +
	"CSeq: 2 REGISTER\r\n" +
	"Contact: <sip:bob@ua.invalid;transport=ws>\r\n" +
	"Expires: 600\r\n" +
	"Content-Length: 0\r\n\r\n"

func TestAppendAnswer(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want string // "" means no answer
	}{
		{"OPTIONS copies every Via in order and tags To", options, optionsAnswer},
		{"REGISTER is answered", register, "SIP/2.0 200 OK\r\n" +
			"Via: SIP/2.0/WSS ua.invalid;branch=z9hG4bKr\r\n" +
			"From: <sip:bob@example.com>;tag=b1\r\n" +
			"To: <sip:bob@example.com>;tag=T\r\n" +
			"Call-ID: r1\r\n" +
			"CSeq: 2 REGISTER\r\n" +
			"Content-Length: 0\r\n\r\n"},
		{"compact forms and a body", "MESSAGE sip:a@b SIP/2.0\r\nv: SIP/2.0/WS h;branch=z9hG4bKm\r\nf: <sip:x@y>;tag=1\r\n" +
			"t: sip:a@b\r\ni: m1\r\nCSeq: 7 MESSAGE\r\nl: 2\r\n\r\nhi",
			"SIP/2.0 200 OK\r\nVia: SIP/2.0/WS h;branch=z9hG4bKm\r\nFrom: <sip:x@y>;tag=1\r\nTo: sip:a@b;tag=T\r\n" +
				"Call-ID: m1\r\nCSeq: 7 MESSAGE\r\nContent-Length: 0\r\n\r\n"},
		{"a To tag is kept", strings.Replace(options, "To: <sip:server.example.com>", "to: <sip:s@e> ; TAG=x", 1),
			strings.Replace(optionsAnswer, "To: <sip:server.example.com>;tag=T", "To: <sip:s@e> ; TAG=x", 1)},
		{"an addr-spec's params are the header's", strings.Replace(options, "<sip:server.example.com>", "sip:s@e;tag=y", 1),
			strings.Replace(optionsAnswer, "<sip:server.example.com>;tag=T", "sip:s@e;tag=y", 1)},
		{"a tag inside the URI is not the header's", strings.Replace(options, "<sip:server.example.com>", "<sip:s@e;tag=u>", 1),
			strings.Replace(optionsAnswer, "<sip:server.example.com>", "<sip:s@e;tag=u>", 1)},
		{"folded header", strings.Replace(options, "Call-ID: c1@host", "Call-ID:\r\n c1@host", 1), optionsAnswer},
		{"bare LF", strings.ReplaceAll(options, "\r\n", "\n"), optionsAnswer},
		{"the first of repeated headers wins", strings.Replace(options, "CSeq: 1 OPTIONS\r\n", "CSeq: 1 OPTIONS\r\nCSeq: 9 X\r\n", 1), optionsAnswer},
		{"headers in the body are ignored", strings.Replace(options, "Call-ID: c1@host\r\n", "", 1) + "Call-ID: x\r\n", ""},
		{"ACK gets no answer", strings.Replace(options, "OPTIONS sip:", "ACK sip:", 1), ""},
		{"a response gets no answer", optionsAnswer, ""},
		{"missing Call-ID", strings.Replace(options, "Call-ID: c1@host\r\n", "", 1), ""},
		{"missing Via", strings.NewReplacer("Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1\r\n", "",
			"v: SIP/2.0/WSS p2.invalid;branch=z9hG4bK2, SIP/2.0/WSS p3.invalid;branch=z9hG4bK3\r\n", "").Replace(options), ""},
		{"a header line without colon", strings.Replace(options, "Max-Forwards: 70", "Max-Forwards 70", 1), ""},
		{"a bad request line", strings.Replace(options, "OPTIONS sip:server.example.com SIP/2.0", "OPTIONS SIP/2.0", 1), ""},
		{"another version", strings.Replace(options, "SIP/2.0\r\n", "SIP/3.0\r\n", 1), ""},
		{"empty", "", ""},
		{"CRLF keepalive", "\r\n\r\n", ""},
		{"not SIP", "hello", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := appendAnswer([]byte("prefix"), []byte(tt.msg), "T")
			if tt.want == "" {
				if ok || string(got) != "prefix" {
					t.Fatalf("appendAnswer(%q) = %q, %v; want no answer", tt.msg, got, ok)
				}
				return
			}
			if !ok || string(got) != "prefix"+tt.want {
				t.Fatalf("appendAnswer(%q) =\n%q, %v\nwant\n%q", tt.msg, got, ok, "prefix"+tt.want)
			}
		})
	}
}

func FuzzAppendAnswer(f *testing.F) {
	for _, s := range []string{options, register, optionsAnswer, "", "\r\n\r\n", "A b SIP/2.0\nv:\nf:\nt:>;\ni:\ncseq:\n\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		orig := bytes.Clone(msg)
		got, ok := appendAnswer(nil, msg, "T")
		if !bytes.Equal(msg, orig) {
			t.Fatalf("appendAnswer modified its input")
		}
		if !ok {
			if len(got) != 0 {
				t.Fatalf("no answer but appended %q", got)
			}
			return
		}
		if !bytes.HasPrefix(got, []byte("SIP/2.0 200 OK\r\n")) || !bytes.HasSuffix(got, []byte("\r\nContent-Length: 0\r\n\r\n")) {
			t.Fatalf("answer %q is not a bodiless 200", got)
		}
		if _, again := appendAnswer(nil, got, "T"); again {
			t.Fatalf("the answer %q would itself be answered", got)
		}
		to := got[bytes.Index(got, []byte("\r\nTo: "))+6:]
		to = to[:bytes.Index(to, []byte("\r\n"))]
		if !hasTag(to) {
			t.Fatalf("To %q of answer %q has no tag", to, got)
		}
	})
}
