package sipmsg

import "testing"

// BenchmarkParseCheckInvite is the transport's receive path for a
// ~750-byte INVITE with SDP: parse, then the sanity checks.
func BenchmarkParseCheckInvite(b *testing.B) {
	invite := readCorpus(b, "invite-sdp.sip")
	var m Message
	b.SetBytes(int64(len(invite)))
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Parse(invite); err != nil {
			b.Fatal(err)
		}
		if p := Check(&m, ""); p != OK {
			b.Fatal(p)
		}
	}
}

// BenchmarkParseCorpus parses every message under testdata.
func BenchmarkParseCorpus(b *testing.B) {
	var msgs [][]byte
	for _, f := range corpusFiles(b) {
		msgs = append(msgs, readCorpus(b, f))
	}
	var m Message
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range msgs {
			if err := m.Parse(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkLookups reads what a SIP stack reads first from a response.
func BenchmarkLookups(b *testing.B) {
	var m Message
	if err := m.Parse(readCorpus(b, "invite-200-vias.sip")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n += len(m.Header("Call-ID")) + len(m.Header("CSeq")) + len(m.TopVia()) + len(m.Header("Record-Route"))
		for v := range m.Values("Contact") {
			n += len(v)
		}
	}
	_ = n
}

// BenchmarkAppendResponse builds a 416 into a reused buffer.
func BenchmarkAppendResponse(b *testing.B) {
	var m Message
	if err := m.Parse(readCorpus(b, "message-two-via.sip")); err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		dst = AppendResponse(dst[:0], &m, 416, "Unsupported URI Scheme", "5f3a9c")
	}
}
