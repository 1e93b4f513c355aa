package sipmsg

import (
	"bytes"
	"math"
)

// Parse parses b as one SIP message (RFC 3261 §7) into m, replacing what m
// held. Every slice m returns afterwards is a sub-slice of b; Parse neither
// copies nor modifies b, and allocates nothing, whether it succeeds or not.
// On failure it returns one of the package's *ParseError values, which
// wrap ErrMalformed, and m then reports neither a request nor a response.
//
// Parse is lenient where RFC 3261 §7.5 asks receivers to be and strict
// where a message would be ambiguous:
//   - CRLF and bare LF line endings are both accepted, even mixed, and any
//     CR and LF bytes before the start line are skipped (§7.5).
//   - The start line is "Method SP Request-URI SP SIP/2.0" or
//     "SIP/2.0 SP Status-Code SP Reason-Phrase"; runs of SP or HTAB between
//     its parts are accepted, the version is SIP/2.0 in any case, the
//     status code is 100 to 699, and the reason phrase may be empty or
//     missing. The method must be a token.
//   - Each header line is "name HCOLON value": the name a token, white
//     space before the colon allowed, the value possibly empty (Kamailio
//     sends "Supported: "). A line starting with SP or HTAB continues the
//     previous header (folding, §7.3.1); the value then keeps its line
//     breaks (see Message.Header).
//   - The headers end with a blank line, which is required; the body is
//     whatever follows (see Message.Body). More than MaxHeaders header
//     lines is an error.
func (m *Message) Parse(b []byte) error {
	m.b = b
	m.kind = kindNone
	m.status = 0
	m.start = [3]span{}
	m.body = span{}
	m.rest = 0
	m.clen = -1
	m.n = 0
	m.first = [numIDs]uint8{}
	if err := m.parse(); err != nil {
		m.kind = kindNone
		m.n = 0
		m.first = [numIDs]uint8{}
		m.clen = -1
		return err
	}
	return nil
}

// parse does the work of Parse on m.b, with m reset.
func (m *Message) parse() error {
	b := m.b
	if uint64(len(b)) > math.MaxUint32 {
		return errTooLarge
	}
	p := 0
	for p < len(b) && (b[p] == '\r' || b[p] == '\n') {
		p++
	}
	if p == len(b) {
		return errEmpty
	}
	end, next := lineEnd(b, p)
	if end < 0 {
		return errLineEnd
	}
	if err := m.parseStartLine(p, end); err != nil {
		return err
	}
	for p = next; ; {
		if p >= len(b) {
			return errNoBlankLine
		}
		if b[p] == '\n' {
			p++
			break
		}
		if b[p] == '\r' && p+1 < len(b) && b[p+1] == '\n' {
			p += 2
			break
		}
		if b[p] == ' ' || b[p] == '\t' {
			return errFold // continuation lines are consumed with their header
		}
		var err error
		if p, err = m.parseHeader(p); err != nil {
			return err
		}
	}
	m.rest = uint32(len(b) - p)
	m.body = span{uint32(p), uint32(len(b))}
	if m.clen >= 0 && m.clen < len(b)-p {
		m.body.end = uint32(p + m.clen)
	}
	return nil
}

// lineEnd finds the line that starts at p: end is where its content ends
// (before CRLF or LF), next where the next line starts. end is -1 when no
// LF follows p.
func lineEnd(b []byte, p int) (end, next int) {
	i := bytes.IndexByte(b[p:], '\n')
	if i < 0 {
		return -1, -1
	}
	end, next = p+i, p+i+1
	if end > p && b[end-1] == '\r' {
		end--
	}
	return end, next
}

// field returns the bounds of the next run of bytes other than SP and
// HTAB in b[i:end], after skipping SP and HTAB; j == k when there is none.
func field(b []byte, i, end int) (j, k int) {
	for i < end && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j = i
	for i < end && b[i] != ' ' && b[i] != '\t' {
		i++
	}
	return j, i
}

// parseStartLine parses the Request-Line or Status-Line in b[p:end].
func (m *Message) parseStartLine(p, end int) error {
	b := m.b
	if b[p] == ' ' || b[p] == '\t' {
		return errStartLine
	}
	j0, k0 := field(b, p, end)
	j1, k1 := field(b, k0, end)
	first := b[j0:k0]
	if len(first) > 4 && equalFold(first[:4], "SIP/") {
		// Status-Line. Methods are tokens and a token has no "/", so a
		// first word starting with "SIP/" can only be a version.
		if !equalFold(first, "SIP/2.0") {
			return errVersion
		}
		code := b[j1:k1]
		if len(code) != 3 || code[0] < '1' || code[0] > '6' ||
			code[1] < '0' || code[1] > '9' || code[2] < '0' || code[2] > '9' {
			return errStatusCode
		}
		r, e := k1, end
		for r < e && (b[r] == ' ' || b[r] == '\t') {
			r++
		}
		for e > r && (b[e-1] == ' ' || b[e-1] == '\t') {
			e--
		}
		m.kind = kindResponse
		m.status = uint16(code[0]-'0')*100 + uint16(code[1]-'0')*10 + uint16(code[2]-'0')
		m.start = [3]span{{uint32(j0), uint32(k0)}, {uint32(j1), uint32(k1)}, {uint32(r), uint32(e)}}
		return nil
	}
	for _, c := range first {
		if !isToken(c) {
			return errMethod
		}
	}
	if j1 == k1 {
		return errRequestURI
	}
	j2, k2 := field(b, k1, end)
	if j2 == k2 || !equalFold(b[j2:k2], "SIP/2.0") {
		return errVersion
	}
	if j3, k3 := field(b, k2, end); j3 != k3 {
		return errStartLine
	}
	m.kind = kindRequest
	m.start = [3]span{{uint32(j0), uint32(k0)}, {uint32(j1), uint32(k1)}, {uint32(j2), uint32(k2)}}
	return nil
}

// parseHeader parses the header line at p, with its continuation lines,
// records it, and returns where the next line starts.
func (m *Message) parseHeader(p int) (next int, err error) {
	b := m.b
	end, next := lineEnd(b, p)
	if end < 0 {
		return 0, errLineEnd
	}
	i := p
	for i < end && isToken(b[i]) {
		i++
	}
	if i == p {
		return 0, errHeaderName
	}
	nameEnd := i
	for i < end && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i == end || b[i] != ':' {
		return 0, errHeaderColon
	}
	for next < len(b) && (b[next] == ' ' || b[next] == '\t') {
		e, n := lineEnd(b, next)
		if e < 0 {
			return 0, errLineEnd
		}
		end, next = e, n
	}
	vs, ve := i+1, end
	for vs < ve && isSpace(b[vs]) {
		vs++
	}
	for ve > vs && isSpace(b[ve-1]) {
		ve--
	}
	if m.n == MaxHeaders {
		return 0, errTooManyHeaders
	}
	id := idOf(b[p:nameEnd])
	m.hdr[m.n] = header{name: span{uint32(p), uint32(nameEnd)}, value: span{uint32(vs), uint32(ve)}, id: id}
	m.n++
	if id != idOther && m.first[id] == 0 {
		m.first[id] = uint8(m.n)
		if id == idContentLength {
			m.clen = parseLength(b[vs:ve])
		}
	}
	return next, nil
}

// parseLength returns the decimal number v, or -1 when v is not one or
// does not fit an int.
func parseLength(v []byte) int {
	if len(v) == 0 {
		return -1
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return -1
		}
		d := int(c - '0')
		if n > (math.MaxInt-d)/10 {
			return -1
		}
		n = n*10 + d
	}
	return n
}
