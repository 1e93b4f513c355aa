package keepalive

import (
	"bytes"
	"testing"
)

// FuzzReceived checks Received and IsKeepalive against a plain statement of
// the rule: keepalive traffic is non-empty and made only of CR and LF; only
// an exact double CRLF is answered, with a single CRLF; p is not modified.
func FuzzReceived(f *testing.F) {
	for _, seed := range []string{"", "\r\n", "\r\n\r\n", "\n", "\r", "\r\n\r\n\r\n", " \r\n",
		"\r\n\r\n ", "OPTIONS sip:a@b SIP/2.0\r\n\r\n", "SIP/2.0 200 OK\r\n\r\n", "\x00", "\n\r\n\r"} {
		f.Add([]byte(seed))
	}
	var sent [][]byte
	k := New(Config{Send: func(p []byte) error { sent = append(sent, p); return nil }})
	k.Start()
	defer k.Stop()
	f.Fuzz(func(t *testing.T, p []byte) {
		sent = sent[:0]
		orig := bytes.Clone(p)
		want := len(p) > 0 && len(bytes.Trim(p, "\r\n")) == 0
		if got := IsKeepalive(p); got != want {
			t.Fatalf("IsKeepalive(%q) = %v, want %v", p, got, want)
		}
		if got := k.Received(p); got != want {
			t.Fatalf("Received(%q) = %v, want %v", p, got, want)
		}
		if !bytes.Equal(p, orig) {
			t.Fatalf("Received modified its input: %q, was %q", p, orig)
		}
		wantSent := 0
		if string(p) == "\r\n\r\n" {
			wantSent = 1
		}
		if len(sent) != wantSent || (wantSent == 1 && string(sent[0]) != "\r\n") {
			t.Fatalf("Received(%q) sent %q, want %d pong(s)", p, sent, wantSent)
		}
	})
}
