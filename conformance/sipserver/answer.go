package sipserver

import (
	"bytes"
	"slices"
)

// This file is the server's only SIP knowledge: the stateless 200 OK to a
// request, built the way RFC 3261 §8.2.6 says (every Via in order, From,
// To with a tag, Call-ID, CSeq). It is kept apart so that it can move onto
// sipmsg.Message and sipmsg.AppendResponse without touching the rest.

// appendAnswer appends to dst the 200 OK answering msg and reports true,
// or reports false when msg gets no answer: a response, an ACK, or
// something that is not a SIP request with Via, From, To, Call-ID and CSeq.
// toTag is added to To when it has no tag.
func appendAnswer(dst, msg []byte, toTag string) ([]byte, bool) {
	head := msg
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		head = msg[:i]
	}
	lines := splitLines(head)
	// The blank line ends the headers (bare LFs did not match above).
	if i := slices.IndexFunc(lines, func(l []byte) bool { return len(l) == 0 }); i >= 0 {
		lines = lines[:i]
	}
	if len(lines) == 0 {
		return dst, false
	}
	method, ok := requestMethod(lines[0])
	if !ok || string(method) == "ACK" {
		return dst, false
	}
	var vias [][]byte
	var from, to, callID, cseq []byte
	for _, h := range unfold(lines[1:]) {
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return dst, false // not a header line: not a message we understand
		}
		value = bytes.TrimSpace(value)
		switch canonical(bytes.TrimSpace(name)) {
		case "Via":
			vias = append(vias, value)
		case "From":
			from = first(from, value)
		case "To":
			to = first(to, value)
		case "Call-ID":
			callID = first(callID, value)
		case "CSeq":
			cseq = first(cseq, value)
		}
	}
	if len(vias) == 0 || from == nil || to == nil || callID == nil || cseq == nil {
		return dst, false
	}
	dst = append(dst, "SIP/2.0 200 OK\r\n"...)
	for _, v := range vias {
		dst = appendHeader(dst, "Via", v)
	}
	dst = appendHeader(dst, "From", from)
	dst = appendHeader(dst, "To", to)
	if !hasTag(to) {
		dst = append(dst[:len(dst)-2], ";tag="...)
		dst = append(dst, toTag...)
		dst = append(dst, "\r\n"...)
	}
	dst = appendHeader(dst, "Call-ID", callID)
	dst = appendHeader(dst, "CSeq", cseq)
	dst = append(dst, "Content-Length: 0\r\n\r\n"...)
	return dst, true
}

// splitLines splits on CRLF, tolerating bare LF (RFC 3261 §7.5 asks
// receivers to be lenient).
func splitLines(b []byte) [][]byte {
	lines := bytes.Split(b, []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	return lines
}

// unfold joins continuation lines (starting with a space or tab) to the
// header they continue (RFC 3261 §7.3.1).
func unfold(lines [][]byte) [][]byte {
	var out [][]byte
	for _, l := range lines {
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') && len(out) > 0 {
			last := out[len(out)-1]
			joined := append(append(append([]byte(nil), last...), ' '), bytes.TrimSpace(l)...)
			out[len(out)-1] = joined
			continue
		}
		out = append(out, l)
	}
	return out
}

// requestMethod returns the method of a Request-Line
// "METHOD SP Request-URI SP SIP/2.0".
func requestMethod(line []byte) ([]byte, bool) {
	parts := bytes.Split(line, []byte(" "))
	if len(parts) != 3 || len(parts[0]) == 0 || len(parts[1]) == 0 ||
		!bytes.EqualFold(parts[2], []byte("SIP/2.0")) {
		return nil, false
	}
	for _, c := range parts[0] {
		if c <= ' ' || c >= 0x7f || c == ':' {
			return nil, false
		}
	}
	return parts[0], true
}

// canonical maps a header name, long or compact (RFC 3261 §7.3.3), to the
// long form of the headers the answer copies, and anything else to "".
func canonical(name []byte) string {
	for _, h := range [...]struct{ long, short string }{
		{"Via", "v"}, {"From", "f"}, {"To", "t"}, {"Call-ID", "i"}, {"CSeq", ""},
	} {
		if bytes.EqualFold(name, []byte(h.long)) || (h.short != "" && bytes.EqualFold(name, []byte(h.short))) {
			return h.long
		}
	}
	return ""
}

func first(have, v []byte) []byte {
	if have != nil {
		return have
	}
	return v
}

func appendHeader(dst []byte, name string, value []byte) []byte {
	dst = append(dst, name...)
	dst = append(dst, ": "...)
	dst = append(dst, value...)
	return append(dst, "\r\n"...)
}

// hasTag reports whether a To value has a tag parameter. Header parameters
// follow the closing '>' of a name-addr, or the URI itself of an addr-spec
// (RFC 3261 §20: an addr-spec's parameters are the header's).
func hasTag(to []byte) bool {
	params := to
	if i := bytes.LastIndexByte(to, '>'); i >= 0 {
		params = to[i+1:]
	}
	for {
		i := bytes.IndexByte(params, ';')
		if i < 0 {
			return false
		}
		params = params[i+1:]
		name, _, _ := bytes.Cut(params, []byte("="))
		if bytes.EqualFold(bytes.TrimSpace(name), []byte("tag")) {
			return true
		}
	}
}
