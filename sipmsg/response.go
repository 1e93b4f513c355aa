package sipmsg

import "strconv"

// AppendResponse appends to dst the stateless response a transport sends
// to a request that failed a sanity check (RFC 3261 §8.2.6, SIP.js's
// sanity-check reply) and returns the extended slice:
//
//	SIP/2.0 <code> <reason>
//	Via: ...            every non-empty Via line of req, in order
//	To: ...;tag=<toTag> the first To; the tag is added only when it had none
//	From: ...
//	Call-ID: ...
//	CSeq: ...
//	Content-Length: 0
//
// "The first" To, From, Call-ID and CSeq is the first line with a
// non-empty value, the one Check's presence test accepted, so no header of
// the answer is empty; likewise an empty Via line is left out (a line of
// commas only is not empty: Check accepts it, and it is copied). Header
// names are written in their long form, so a compact "v:" line is
// answered as "Via:". A folded value is written unfolded, each line break
// and the white space around it replaced by one SP. A header req lacks is
// left out. The To tag test ignores "tag" inside the URI's <...> and in a
// quoted display name, and is case-insensitive; with an empty toTag no tag
// is added. CR and LF in reason and toTag are written as SP, so neither
// can break the message.
//
// code should be 100 to 699, req a parsed request that passed Check's
// header presence test, and never an ACK (RFC 3261 §17: ACK gets no
// response). AppendResponse allocates only when dst lacks capacity; it
// only reads req, so it is safe for concurrent use with req's read-only
// methods.
func AppendResponse(dst []byte, req *Message, code int, reason string, toTag string) []byte {
	dst = append(dst, "SIP/2.0 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = appendText(dst, reason)
	dst = append(dst, "\r\n"...)
	for i, to := req.lineRange(lookup{id: idVia}); i < to; i++ {
		if h := &req.hdr[i]; h.id == idVia && h.value.end > h.value.off {
			dst = appendHeader(dst, idVia, req.slice(h.value))
		}
	}
	if to := req.firstValue(idTo); to != nil {
		dst = appendHeader(dst, idTo, to)
		if toTag != "" && !hasParam(to, "tag") {
			dst = dst[:len(dst)-2]
			dst = append(dst, ";tag="...)
			dst = appendText(dst, toTag)
			dst = append(dst, "\r\n"...)
		}
	}
	for _, id := range [...]hdrID{idFrom, idCallID, idCSeq} {
		if v := req.firstValue(id); v != nil {
			dst = appendHeader(dst, id, v)
		}
	}
	return append(dst, "Content-Length: 0\r\n\r\n"...)
}

// firstValue returns the first non-empty value of the header lines with
// that id, the one Check's presence test accepted, or nil.
func (m *Message) firstValue(id hdrID) []byte {
	for i, to := m.lineRange(lookup{id: id}); i < to; i++ {
		if h := &m.hdr[i]; h.id == id && h.value.end > h.value.off {
			return m.slice(h.value)
		}
	}
	return nil
}

// appendHeader appends one header line, "Name: value\r\n", with the value
// unfolded.
func appendHeader(dst []byte, id hdrID, value []byte) []byte {
	dst = append(dst, longNames[id]...)
	dst = append(dst, ": "...)
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c != '\r' && c != '\n' {
			dst = append(dst, c)
			continue
		}
		// A line break of folding: drop the white space before it (already
		// written) and after it, and write one SP instead (RFC 3261 §7.3.1).
		for len(dst) > 0 && (dst[len(dst)-1] == ' ' || dst[len(dst)-1] == '\t') {
			dst = dst[:len(dst)-1]
		}
		for i+1 < len(value) && isSpace(value[i+1]) {
			i++
		}
		dst = append(dst, ' ')
	}
	return append(dst, "\r\n"...)
}

// appendText appends s with CR and LF written as SP.
func appendText[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}
