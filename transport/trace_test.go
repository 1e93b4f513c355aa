package transport

import "testing"

func TestRedact(t *testing.T) {
	in := "REGISTER sip:example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n" +
		"Authorization: Digest username=\"alice\", response=\"6629fae49393a05397450978507c4ef1\"\r\n" +
		"proxy-authorization:Bearer abc.def.ghi\r\n" +
		"Content-Length: 27\r\n\r\n" +
		"Authorization: not a header"
	want := "REGISTER sip:example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n" +
		"Authorization: Digest <redacted>\r\n" +
		"proxy-authorization: Bearer <redacted>\r\n" +
		"Content-Length: 27\r\n\r\n" +
		"Authorization: not a header"
	if got := string(Redact([]byte(in))); got != want {
		t.Errorf("Redact =\n%q\nwant\n%q", got, want)
	}
}
