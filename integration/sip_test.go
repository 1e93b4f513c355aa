package integration

import (
	"bytes"
	"fmt"
	"strings"
)

// The requests the UAs send are built by internal/sipua (shared with the
// demo command). The answers to requests Kamailio relays are built here, by
// reading the raw bytes, so that they do not depend on the parser under test.

// answer builds a response to a received request as RFC 3261 §8.2.6.2
// wants it: every Via in order and unchanged (Kamailio's own Via has two
// spaces after SIP/2.0/WS: they stay), From, To with toTag added, Call-ID
// and CSeq; no body. It reads raw itself, so it does not depend on the
// parser under test.
func answer(raw []byte, code int, reason, toTag string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "SIP/2.0 %d %s\r\n", code, reason)
	for _, h := range headerFields(raw) {
		switch canonical(h.name) {
		case "Via", "From", "Call-ID", "CSeq":
			fmt.Fprintf(&b, "%s: %s\r\n", h.name, h.value)
		case "To":
			v := h.value
			if !strings.Contains(strings.ToLower(v), ";tag=") {
				v += ";tag=" + toTag
			}
			fmt.Fprintf(&b, "%s: %s\r\n", h.name, v)
		}
	}
	b.WriteString("Content-Length: 0\r\n\r\n")
	return b.Bytes()
}

// field is one header field of a raw message.
type field struct{ name, value string }

// headerFields returns the header fields of raw in order, names as sent
// and values without surrounding whitespace. Folded lines (obsolete, and
// never sent by Kamailio) are joined to the field they continue.
func headerFields(raw []byte) []field {
	head := raw
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		head = raw[:i]
	}
	lines := strings.Split(string(head), "\n")
	var out []field
	for _, line := range lines[1:] { // lines[0] is the start line
		line = strings.TrimRight(line, "\r")
		if line == "" {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1].value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		out = append(out, field{strings.TrimSpace(name), strings.TrimSpace(value)})
	}
	return out
}

// headerValues returns every value of one header, in order.
func headerValues(raw []byte, name string) []string {
	var vs []string
	for _, h := range headerFields(raw) {
		if canonical(h.name) == canonical(name) {
			vs = append(vs, h.value)
		}
	}
	return vs
}

// compact maps RFC 3261 §7.3.3 compact header names to full ones.
var compact = map[string]string{"v": "Via", "f": "From", "t": "To", "i": "Call-ID", "m": "Contact",
	"l": "Content-Length", "c": "Content-Type"}

// canonical returns a header name in the spelling used here.
func canonical(name string) string {
	if full, ok := compact[strings.ToLower(name)]; ok {
		return full
	}
	switch strings.ToLower(name) {
	case "via":
		return "Via"
	case "from":
		return "From"
	case "to":
		return "To"
	case "call-id":
		return "Call-ID"
	case "cseq":
		return "CSeq"
	case "contact":
		return "Contact"
	}
	return name
}
