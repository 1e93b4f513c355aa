package sipmsg

import (
	"testing"
)

// TestZeroAllocs keeps the hot path allocation-free: a transport parses
// and checks every message it receives.
func TestZeroAllocs(t *testing.T) {
	invite := readCorpus(t, "invite-sdp.sip")
	vias := readCorpus(t, "invite-200-vias.sip")
	bad := []byte("OPTIONS sip:a@b SIP/3.0\r\n\r\n")
	m := new(Message)
	dst := make([]byte, 0, 4096)
	var sink int
	tests := []struct {
		name string
		f    func()
	}{
		{"Parse+Check INVITE", func() {
			if m.Parse(invite) != nil || Check(m, "") != OK {
				t.Fatal("INVITE did not pass")
			}
		}},
		{"Parse+Check response with Vias", func() {
			if m.Parse(vias) != nil || Check(m, "69b44d5a.invalid") != ResponseMultipleVia {
				t.Fatal("unexpected result")
			}
		}},
		{"Parse failure", func() {
			if err := m.Parse(bad); err == nil {
				t.Fatal("no error")
			}
		}},
		{"Parse failure with too many headers", func() {
			if err := m.Parse(tooMany); err == nil {
				t.Fatal("no error")
			}
		}},
		{"lookups", func() {
			_ = m.Parse(vias)
			sink += len(m.Header("Call-ID")) + len(m.Header("x-unknown")) + m.HeaderCount("Via") +
				m.ViaCount() + len(m.TopVia()) + len(m.Body())
			if m.HasHeader("Record-Route") {
				sink++
			}
			n, _ := m.ContentLength()
			sink += n
			h, p := ViaHostPort(m.TopVia())
			sink += len(h) + len(p)
		}},
		{"Values in a range loop", func() {
			_ = m.Parse(vias)
			for v := range m.Values("Via") {
				sink += len(v)
			}
			for v := range m.Values("v") {
				sink += len(v)
				break
			}
		}},
		{"VisitHeaders", func() {
			_ = m.Parse(invite)
			m.VisitHeaders(func(name, value []byte) { sink += len(name) + len(value) })
		}},
		{"AppendResponse", func() {
			_ = m.Parse(invite)
			dst = AppendResponse(dst[:0], m, 416, "Unsupported URI Scheme", "a1b2c3")
		}},
		{"AppendRedacted", func() {
			dst = AppendRedacted(dst[:0], authorized)
		}},
		{"Problem String and Status", func() {
			code, reason := BodyTooShort.Status()
			sink += code + len(reason) + len(ResponseViaMismatch.String())
		}},
	}
	for _, tc := range tests {
		if got := testing.AllocsPerRun(100, tc.f); got != 0 {
			t.Errorf("%s: %v allocs, want 0", tc.name, got)
		}
	}
	_ = sink
}

var authorized = []byte("REGISTER sip:a SIP/2.0\r\nAuthorization: Digest username=\"a\",\r\n response=\"b\"\r\n\r\n")

var tooMany = []byte("OPTIONS sip:a@b SIP/2.0\r\n" + headersN(MaxHeaders+1) + "\r\n")
