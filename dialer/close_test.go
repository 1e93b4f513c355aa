package dialer

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidCloseCode(t *testing.T) {
	valid := map[int]bool{}
	for _, c := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014} {
		valid[c] = true
	}
	for c := 3000; c <= 4999; c++ {
		valid[c] = true
	}
	for code := -1; code <= 70000; code++ {
		if got := ValidCloseCode(code); got != valid[code] {
			t.Errorf("ValidCloseCode(%d) = %v, want %v", code, got, valid[code])
		}
	}
}

func TestAppendCloseBody(t *testing.T) {
	long := strings.Repeat("r", 200)
	accents := strings.Repeat("é", 100)   // 2 bytes each: 123 bytes would split one
	euro := "x" + strings.Repeat("€", 50) // 1 + 3n bytes: the cut lands inside one at 123
	tests := []struct {
		name       string
		code       int
		reason     string
		wantCode   int // 0: no body at all
		wantReason string
	}{
		{name: "normal", code: 1000, wantCode: 1000},
		{name: "code and reason", code: 4001, reason: "bye", wantCode: 4001, wantReason: "bye"},
		{name: "IANA 1014", code: 1014, reason: "bad gateway", wantCode: 1014, wantReason: "bad gateway"},
		{name: "reason of exactly 123 bytes", code: 1000, reason: long[:123], wantCode: 1000, wantReason: long[:123]},
		{name: "long reason cut to 123 bytes", code: 1000, reason: long, wantCode: 1000, wantReason: long[:123]},
		{name: "long reason cut between 2-byte characters", code: 1000, reason: accents, wantCode: 1000, wantReason: accents[:122]},
		{name: "long reason cut between 3-byte characters", code: 1000, reason: euro, wantCode: 1000, wantReason: euro[:121]},
		{name: "reason not UTF-8 is left out", code: 4000, reason: "bad \xff", wantCode: 4000},
		{name: "1004 sends no body", code: 1004, reason: "x"},
		{name: "1005 sends no body", code: 1005, reason: "x"},
		{name: "1006 sends no body", code: 1006},
		{name: "1015 sends no body", code: 1015},
		{name: "999 sends no body", code: 999},
		{name: "2999 sends no body", code: 2999},
		{name: "5000 sends no body", code: 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := AppendCloseBody([]byte("prefix"), tt.code, tt.reason)
			if string(b[:6]) != "prefix" {
				t.Fatalf("AppendCloseBody overwrote what b held: %q", b)
			}
			body := b[6:]
			if tt.wantCode == 0 {
				if len(body) != 0 {
					t.Errorf("body %q, want none", body)
				}
				return
			}
			if len(body) > 125 || !utf8.Valid(body[2:]) {
				t.Errorf("body of %d bytes, valid UTF-8 %v; want at most 125 and UTF-8", len(body), utf8.Valid(body[2:]))
			}
			code, reason, fail := ParseCloseBody(body)
			if fail != 0 || code != tt.wantCode || reason != tt.wantReason {
				t.Errorf("body reads back as %d %q (fail %d), want %d %q", code, reason, fail, tt.wantCode, tt.wantReason)
			}
		})
	}
	var room [125]byte
	if n := testing.AllocsPerRun(100, func() { AppendCloseBody(room[:0], 1001, "keepalive pong timeout") }); n != 0 {
		t.Errorf("AppendCloseBody into a buffer with room: %v allocations, want 0", n)
	}
}

func TestParseCloseBody(t *testing.T) {
	tests := []struct {
		name       string
		p          []byte
		wantCode   int
		wantReason string
		wantFail   int
	}{
		{"empty is 1005", nil, CloseNoStatus, "", 0},
		{"code alone", []byte{0x03, 0xe8}, 1000, "", 0},
		{"code and reason", []byte{0x0f, 0xa0, 'b', 'y', 'e'}, 4000, "bye", 0},
		{"1014, registered after RFC 6455", []byte{0x03, 0xf6}, 1014, "", 0},
		{"4999", []byte{0x13, 0x87}, 4999, "", 0},
		{"one byte", []byte{0x03}, 0, "", CloseProtocolError},
		{"1005 on the wire", []byte{0x03, 0xed}, 1005, "", CloseProtocolError},
		{"1006 on the wire", []byte{0x03, 0xee}, 1006, "", CloseProtocolError},
		{"1015 on the wire", []byte{0x03, 0xf7}, 1015, "", CloseProtocolError},
		{"999", []byte{0x03, 0xe7}, 999, "", CloseProtocolError},
		{"5000", []byte{0x13, 0x88}, 5000, "", CloseProtocolError},
		{"reason not UTF-8", []byte{0x03, 0xe8, 0xff, 0xfe}, 1000, "", CloseInvalidPayload},
	}
	for _, tt := range tests {
		code, reason, fail := ParseCloseBody(tt.p)
		if code != tt.wantCode || reason != tt.wantReason || fail != tt.wantFail {
			t.Errorf("%s: ParseCloseBody(% x) = %d %q %d, want %d %q %d", tt.name, tt.p, code, reason, fail, tt.wantCode, tt.wantReason, tt.wantFail)
		}
	}
}
