package keepalive

import "testing"

// TestIsKeepalive: keepalive traffic is a non-empty message made only of
// CR and LF bytes (SPEC.md Receiving, RFC 5626 §3.5.1).
func TestIsKeepalive(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false},
		{"\r\n", true},
		{"\r\n\r\n", true},
		{"\n", true},
		{"\r", true},
		{"\n\n", true},
		{"\r\n\r\n\r\n", true},
		{" \r\n", false},
		{"\r\n ", false},
		{"\r\n\x00\r\n", false},
		{"\t", false},
		{"OPTIONS sip:alice@example.com SIP/2.0\r\n\r\n", false},
		{"SIP/2.0 200 OK\r\n\r\n", false},
	}
	for _, tt := range tests {
		if got := IsKeepalive([]byte(tt.in)); got != tt.want {
			t.Errorf("IsKeepalive(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if IsKeepalive(nil) {
		t.Error("IsKeepalive(nil) = true, want false")
	}
}
