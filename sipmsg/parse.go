package sipmsg

import (
	"bytes"
	"encoding/binary"
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
	m.have = 0
	m.status = 0
	m.start = [3]span{}
	m.body = span{}
	m.rest = 0
	m.clen = -1
	m.n = 0
	m.vias = 0
	m.lines = lines{}
	if err := m.parse(); err != nil {
		m.kind = kindNone
		m.have = 0
		m.n = 0
		m.vias = 0
		m.lines = lines{}
		m.clen = -1
		return err
	}
	return nil
}

// parse does the work of Parse on m.b, with m reset, in one pass over the
// start line and the headers: each line's end is found with one
// vectorised search for LF (bytes.IndexByte), each header name is
// classified as it is recorded (idOfToken), and what the lookups and
// Check need is computed on the way: where each known header's lines are,
// which mandatory headers have a value, the Via count and the top Via,
// Content-Length. Nothing is scanned twice, except a start line that the
// fast path of parseStartLine does not take.
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
	i := bytes.IndexByte(b[p:], '\n')
	if i < 0 {
		return errLineEnd
	}
	end, next := p+i, p+i+1
	if b[end-1] == '\r' { // end > p: b[p] is neither CR nor LF
		end--
	}
	if err := m.parseStartLine(p, end); err != nil {
		return err
	}
	for p = next; ; {
		if p >= len(b) {
			return errNoBlankLine
		}
		switch b[p] {
		case '\n':
			return m.setBody(p + 1)
		case '\r':
			if p+1 < len(b) && b[p+1] == '\n' {
				return m.setBody(p + 2)
			}
		case ' ', '\t':
			return errFold // continuation lines are consumed with their header
		}
		// One header line: name, optional SP or HTAB, colon, value.
		q := p
		for q < len(b) && tokenChars[b[q]] {
			q++
		}
		nameEnd := q
		for q < len(b) && (b[q] == ' ' || b[q] == '\t') {
			q++
		}
		if nameEnd == p || q >= len(b) || b[q] != ':' {
			return headerLineError(b, p, nameEnd)
		}
		vs := q + 1
		i := bytes.IndexByte(b[vs:], '\n')
		if i < 0 {
			return errLineEnd
		}
		ve, next := vs+i, vs+i+1
		for next < len(b) && (b[next] == ' ' || b[next] == '\t') {
			// A continuation line (folding, RFC 3261 §7.3.1).
			i = bytes.IndexByte(b[next:], '\n')
			if i < 0 {
				return errLineEnd
			}
			ve, next = next+i, next+i+1
		}
		for vs < ve && isSpace(b[vs]) {
			vs++
		}
		for ve > vs && isSpace(b[ve-1]) {
			ve-- // the CR of CRLF too
		}
		if uint(m.n) >= MaxHeaders { // m.n is never more: this proves the store below in range
			return errTooManyHeaders
		}
		id := idOfToken(b, p, nameEnd)
		m.hdr[m.n] = header{
			name:  span{uint32(p), uint32(nameEnd)},
			value: span{uint32(vs), uint32(ve)},
			id:    id,
			c0:    b[p] | 0x20,
		}
		m.n++
		if id != idOther {
			if m.lines.first[id] == 0 {
				m.lines.first[id] = uint8(m.n)
				if id == idContentLength {
					m.clen = parseLength(b[vs:ve])
				}
			}
			m.lines.last[id] = uint8(m.n)
			if id <= idCSeq && ve > vs {
				m.have |= 1 << id
				if id == idVia {
					m.countVias(vs, ve)
				}
			}
		}
		p = next
	}
}

// headerLineError returns the error of the header line at p, whose name
// ends at nameEnd, that has no colon where one should be: as if each
// check ran in turn, the missing line end first.
func headerLineError(b []byte, p, nameEnd int) error {
	switch {
	case bytes.IndexByte(b[p:], '\n') < 0:
		return errLineEnd
	case nameEnd == p:
		return errHeaderName
	}
	return errHeaderColon
}

// setBody records that the body starts at p.
func (m *Message) setBody(p int) error {
	b := m.b
	m.rest = uint32(len(b) - p)
	m.body = span{uint32(p), uint32(len(b))}
	if m.clen >= 0 && m.clen < len(b)-p {
		m.body.end = uint32(p + m.clen)
	}
	return nil
}

// countVias adds the values of the Via line value b[vs:ve], trimmed and
// not empty, to the Via count, and records the first one.
func (m *Message) countVias(vs, ve int) {
	v := m.b[vs:ve]
	if bytes.IndexByte(v, ',') < 0 { // the common case: one value
		if m.vias == 0 {
			m.top = span{uint32(vs), uint32(ve)}
		}
		m.vias++
		return
	}
	for off := vs; len(v) > 0; {
		elem, rest := nextElement(v)
		i, j := 0, len(elem)
		for i < j && isSpace(elem[i]) {
			i++
		}
		for j > i && isSpace(elem[j-1]) {
			j--
		}
		if i < j {
			if m.vias == 0 {
				m.top = span{uint32(off + i), uint32(off + j)}
			}
			m.vias++
		}
		off += len(v) - len(rest)
		v = rest
	}
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

// The start line's version, "SIP/2.0", in lower case as a little-endian
// word, alone and followed by SP; foldSIP folds the letters of "SIP" only,
// so that a word compare is an exact ASCII case-insensitive compare.
var (
	wordSIP20   = binary.LittleEndian.Uint64([]byte("sip/2.0\x00"))
	wordSIP20SP = binary.LittleEndian.Uint64([]byte("sip/2.0 "))
)

const (
	foldSIP = 0x202020
	mask7   = 0x00ffffffffffffff
)

// parseStartLine parses the Request-Line or Status-Line in b[p:end]. The
// common shapes, with single spaces, take a fast path; anything else takes
// the general one, which the fast path agrees with wherever both apply.
// b[end] is the line's CR or LF, so b has 8 bytes from any byte of the
// version, which ends the line of a request.
func (m *Message) parseStartLine(p, end int) error {
	b := m.b
	line := b[p:end]
	if len(line) >= 11 && binary.LittleEndian.Uint64(line)|foldSIP == wordSIP20SP {
		// "SIP/2.0 " Status-Code [SP Reason-Phrase]
		if c := line[8:11]; '1' <= c[0] && c[0] <= '6' && '0' <= c[1] && c[1] <= '9' && '0' <= c[2] && c[2] <= '9' &&
			(len(line) == 11 || line[11] == ' ' || line[11] == '\t') {
			r, e := p+11, end
			for r < e && (b[r] == ' ' || b[r] == '\t') {
				r++
			}
			for e > r && (b[e-1] == ' ' || b[e-1] == '\t') {
				e--
			}
			m.kind = kindResponse
			m.status = uint16(c[0]-'0')*100 + uint16(c[1]-'0')*10 + uint16(c[2]-'0')
			m.start = [3]span{{uint32(p), uint32(p + 7)}, {uint32(p + 8), uint32(p + 11)}, {uint32(r), uint32(e)}}
			return nil
		}
	} else {
		// Method SP Request-URI SP "SIP/2.0"
		i := 0
		for i < len(line) && tokenChars[line[i]] {
			i++
		}
		if i > 0 && i+1 < len(line) && line[i] == ' ' && line[i+1] != ' ' && line[i+1] != '\t' {
			k := i + 1
			for k < len(line) && line[k] != ' ' && line[k] != '\t' {
				k++
			}
			if v := p + k + 1; k+8 == len(line) && line[k] == ' ' && binary.LittleEndian.Uint64(b[v:v+8])&mask7|foldSIP == wordSIP20 {
				m.kind = kindRequest
				m.start = [3]span{{uint32(p), uint32(p + i)}, {uint32(p + i + 1), uint32(p + k)}, {uint32(v), uint32(end)}}
				return nil
			}
		}
	}
	return m.parseStartLineSlow(p, end)
}

// parseStartLineSlow is parseStartLine's general path.
func (m *Message) parseStartLineSlow(p, end int) error {
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
