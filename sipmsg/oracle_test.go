package sipmsg

// This file is the parser as it was before the single-pass rewrite, kept
// unchanged but for its names (each prefixed with o) and its comments, as
// the oracle of FuzzParseOracle: the new parser must agree with it on
// everything a caller can observe. It shares with the package only what
// the rewrite did not touch: the ParseError values, the start line kinds,
// MaxHeaders, hdrID, ViaHostPort and Problem. It has its own copy of the
// header ids and names. Do not fix it: it is the reference.

import (
	"bytes"
	"iter"
	"math"
	"strconv"
)

type oSpan struct{ off, end uint32 }

type oHeader struct {
	name  oSpan // raw, as received
	value oSpan // trimmed; may contain the line breaks of folding
	id    hdrID
}

type oMessage struct {
	b      []byte
	kind   uint8
	status uint16
	start  [3]oSpan // request: method, Request-URI, version; response: version, code, reason
	body   oSpan    // after the blank line, cut to Content-Length
	rest   uint32   // bytes after the blank line, before the cut
	clen   int      // Content-Length, or -1 when absent or not a number
	n      int      // header lines in hdr
	first  [oNumIDs]uint8
	hdr    [MaxHeaders]oHeader
}

func (m *oMessage) slice(s oSpan) []byte { return m.b[s.off:s.end:s.end] }

func (m *oMessage) Bytes() []byte { return m.b }

func (m *oMessage) IsRequest() bool { return m.kind == kindRequest }

func (m *oMessage) IsResponse() bool { return m.kind == kindResponse }

func (m *oMessage) Method() []byte {
	if m.kind != kindRequest {
		return nil
	}
	return m.slice(m.start[0])
}

func (m *oMessage) RequestURI() []byte {
	if m.kind != kindRequest {
		return nil
	}
	return m.slice(m.start[1])
}

func (m *oMessage) StatusCode() int {
	if m.kind != kindResponse {
		return 0
	}
	return int(m.status)
}

func (m *oMessage) Reason() []byte {
	if m.kind != kindResponse {
		return nil
	}
	return m.slice(m.start[2])
}

type oLookup struct {
	id   hdrID
	name string
}

func oLookupOf(name string) oLookup { return oLookup{oIDOf(name), name} }

func (m *oMessage) matches(i int, l oLookup) bool {
	h := &m.hdr[i]
	if l.id != oidOther {
		return h.id == l.id
	}
	return h.id == oidOther && oEqualFold(m.slice(h.name), l.name)
}

func (m *oMessage) index(l oLookup) int {
	if l.id != oidOther {
		return int(m.first[l.id]) - 1
	}
	for i := 0; i < m.n; i++ {
		if m.matches(i, l) {
			return i
		}
	}
	return -1
}

func (m *oMessage) Header(name string) []byte {
	i := m.index(oLookupOf(name))
	if i < 0 {
		return nil
	}
	return m.slice(m.hdr[i].value)
}

func (m *oMessage) HasHeader(name string) bool { return m.index(oLookupOf(name)) >= 0 }

func (m *oMessage) HeaderCount(name string) int {
	l := oLookupOf(name)
	n := 0
	for i := 0; i < m.n; i++ {
		if m.matches(i, l) {
			n++
		}
	}
	return n
}

func (m *oMessage) Values(name string) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) { m.values(oLookupOf(name), yield) }
}

func (m *oMessage) values(l oLookup, yield func([]byte) bool) {
	for i := 0; i < m.n; i++ {
		if !m.matches(i, l) {
			continue
		}
		for v := m.slice(m.hdr[i].value); len(v) > 0; {
			var elem []byte
			elem, v = oNextElement(v)
			if elem = oTrimSpace(elem); len(elem) > 0 && !yield(elem) {
				return
			}
		}
	}
}

func (m *oMessage) countValues(l oLookup) int {
	n := 0
	for i := 0; i < m.n; i++ {
		if !m.matches(i, l) {
			continue
		}
		for v := m.slice(m.hdr[i].value); len(v) > 0; {
			var elem []byte
			elem, v = oNextElement(v)
			if len(oTrimSpace(elem)) > 0 {
				n++
			}
		}
	}
	return n
}

func (m *oMessage) ViaCount() int { return m.countValues(oLookup{id: oidVia}) }

func (m *oMessage) TopVia() []byte {
	for i := 0; i < m.n; i++ {
		if m.hdr[i].id != oidVia {
			continue
		}
		for v := m.slice(m.hdr[i].value); len(v) > 0; {
			var elem []byte
			elem, v = oNextElement(v)
			if elem = oTrimSpace(elem); len(elem) > 0 {
				return elem
			}
		}
	}
	return nil
}

func (m *oMessage) ContentLength() (n int, ok bool) {
	if m.clen < 0 {
		return 0, false
	}
	return m.clen, true
}

func (m *oMessage) Body() []byte {
	if m.kind == kindNone {
		return nil
	}
	return m.slice(m.body)
}

func (m *oMessage) VisitHeaders(fn func(name, value []byte)) {
	for i := 0; i < m.n; i++ {
		fn(m.slice(m.hdr[i].name), m.slice(m.hdr[i].value))
	}
}

func (m *oMessage) Parse(b []byte) error {
	m.b = b
	m.kind = kindNone
	m.status = 0
	m.start = [3]oSpan{}
	m.body = oSpan{}
	m.rest = 0
	m.clen = -1
	m.n = 0
	m.first = [oNumIDs]uint8{}
	if err := m.parse(); err != nil {
		m.kind = kindNone
		m.n = 0
		m.first = [oNumIDs]uint8{}
		m.clen = -1
		return err
	}
	return nil
}

func (m *oMessage) parse() error {
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
	end, next := oLineEnd(b, p)
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
	m.body = oSpan{uint32(p), uint32(len(b))}
	if m.clen >= 0 && m.clen < len(b)-p {
		m.body.end = uint32(p + m.clen)
	}
	return nil
}

func oLineEnd(b []byte, p int) (end, next int) {
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

func oField(b []byte, i, end int) (j, k int) {
	for i < end && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	j = i
	for i < end && b[i] != ' ' && b[i] != '\t' {
		i++
	}
	return j, i
}

func (m *oMessage) parseStartLine(p, end int) error {
	b := m.b
	if b[p] == ' ' || b[p] == '\t' {
		return errStartLine
	}
	j0, k0 := oField(b, p, end)
	j1, k1 := oField(b, k0, end)
	first := b[j0:k0]
	if len(first) > 4 && oEqualFold(first[:4], "SIP/") {
		if !oEqualFold(first, "SIP/2.0") {
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
		m.start = [3]oSpan{{uint32(j0), uint32(k0)}, {uint32(j1), uint32(k1)}, {uint32(r), uint32(e)}}
		return nil
	}
	for _, c := range first {
		if !oIsToken(c) {
			return errMethod
		}
	}
	if j1 == k1 {
		return errRequestURI
	}
	j2, k2 := oField(b, k1, end)
	if j2 == k2 || !oEqualFold(b[j2:k2], "SIP/2.0") {
		return errVersion
	}
	if j3, k3 := oField(b, k2, end); j3 != k3 {
		return errStartLine
	}
	m.kind = kindRequest
	m.start = [3]oSpan{{uint32(j0), uint32(k0)}, {uint32(j1), uint32(k1)}, {uint32(j2), uint32(k2)}}
	return nil
}

func (m *oMessage) parseHeader(p int) (next int, err error) {
	b := m.b
	end, next := oLineEnd(b, p)
	if end < 0 {
		return 0, errLineEnd
	}
	i := p
	for i < end && oIsToken(b[i]) {
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
		e, n := oLineEnd(b, next)
		if e < 0 {
			return 0, errLineEnd
		}
		end, next = e, n
	}
	vs, ve := i+1, end
	for vs < ve && oIsSpace(b[vs]) {
		vs++
	}
	for ve > vs && oIsSpace(b[ve-1]) {
		ve--
	}
	if m.n == MaxHeaders {
		return 0, errTooManyHeaders
	}
	id := oIDOf(b[p:nameEnd])
	m.hdr[m.n] = oHeader{name: oSpan{uint32(p), uint32(nameEnd)}, value: oSpan{uint32(vs), uint32(ve)}, id: id}
	m.n++
	if id != oidOther && m.first[id] == 0 {
		m.first[id] = uint8(m.n)
		if id == oidContentLength {
			m.clen = oParseLength(b[vs:ve])
		}
	}
	return next, nil
}

func oParseLength(v []byte) int {
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

const (
	oidOther hdrID = iota
	oidVia
	oidFrom
	oidTo
	oidCallID
	oidCSeq
	oidContact
	oidContentLength
	oidContentType
	oidContentEncoding
	oidSupported
	oidSubject
	oidEvent
	oidAllowEvents
	oidReferTo
	oidReferredBy
	oidSessionExpires
	oidAcceptContact
	oidRejectContact
	oidRequestDisposition
	oidIdentity
	oidIdentityInfo
	oNumIDs
)

var oLongNames = [oNumIDs]string{
	oidVia:                "Via",
	oidFrom:               "From",
	oidTo:                 "To",
	oidCallID:             "Call-ID",
	oidCSeq:               "CSeq",
	oidContact:            "Contact",
	oidContentLength:      "Content-Length",
	oidContentType:        "Content-Type",
	oidContentEncoding:    "Content-Encoding",
	oidSupported:          "Supported",
	oidSubject:            "Subject",
	oidEvent:              "Event",
	oidAllowEvents:        "Allow-Events",
	oidReferTo:            "Refer-To",
	oidReferredBy:         "Referred-By",
	oidSessionExpires:     "Session-Expires",
	oidAcceptContact:      "Accept-Contact",
	oidRejectContact:      "Reject-Contact",
	oidRequestDisposition: "Request-Disposition",
	oidIdentity:           "Identity",
	oidIdentityInfo:       "Identity-Info",
}

var oCompact = [256]hdrID{
	'v': oidVia,
	'f': oidFrom,
	't': oidTo,
	'i': oidCallID,
	'm': oidContact,
	'l': oidContentLength,
	'c': oidContentType,
	'e': oidContentEncoding,
	'k': oidSupported,
	's': oidSubject,
	'o': oidEvent,
	'u': oidAllowEvents,
	'r': oidReferTo,
	'b': oidReferredBy,
	'x': oidSessionExpires,
	'a': oidAcceptContact,
	'j': oidRejectContact,
	'd': oidRequestDisposition,
	'y': oidIdentity,
	'n': oidIdentityInfo,
}

func oIDOf[T string | []byte](name T) hdrID {
	if len(name) == 1 {
		return oCompact[oLower(name[0])]
	}
	if len(name) >= len(oByLength) {
		return oidOther
	}
	for _, id := range oByLength[len(name)] {
		if id == oidOther {
			break
		}
		if oEqualFold(name, oLongNames[id]) {
			return id
		}
	}
	return oidOther
}

var oByLength = func() (t [20][3]hdrID) {
	for id := oidVia; id < oNumIDs; id++ {
		row := &t[len(oLongNames[id])]
		i := 0
		for row[i] != oidOther {
			i++ // panics at init if a length holds more than 3 names
		}
		row[i] = id
	}
	return t
}()

func oLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func oEqualFold[A, B string | []byte](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && oLower(a[i]) != oLower(b[i]) {
			return false
		}
	}
	return true
}

func oIsToken(c byte) bool {
	return oTokenChars[c]
}

var oTokenChars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-.!%*_+`'~" {
		t[c] = true
	}
	return t
}()

func oIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

func oTrimSpace(v []byte) []byte {
	i, j := 0, len(v)
	for i < j && oIsSpace(v[i]) {
		i++
	}
	for j > i && oIsSpace(v[j-1]) {
		j--
	}
	return v[i:j:j]
}

func oNextElement(v []byte) (elem, rest []byte) {
	if bytes.IndexByte(v, ',') < 0 {
		return v, nil // the common case, found with one vectorised scan
	}
	quoted, angle := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !oListSpecial[c] {
			continue // most bytes: one table load
		}
		switch {
		case quoted:
			if c == '\\' {
				i++
			} else if c == '"' {
				quoted = false
			}
		case c == '"' && !angle:
			quoted = true
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == ',' && !angle:
			return v[:i], v[i+1:]
		}
	}
	return v, nil
}

var oListSpecial = [256]bool{'"': true, '\\': true, '<': true, '>': true, ',': true}

func oHasParam(v []byte, name string) bool {
	quoted, angle := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quoted:
			if c == '\\' {
				i++
			} else if c == '"' {
				quoted = false
			}
		case c == '"' && !angle:
			quoted = true
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case c == ';' && !angle:
			j := i + 1
			for j < len(v) && oIsSpace(v[j]) {
				j++
			}
			k := j
			for k < len(v) && oIsToken(v[k]) {
				k++
			}
			if oEqualFold(v[j:k], name) {
				return true
			}
		}
	}
	return false
}

var oMandatory = [...]hdrID{oidVia, oidFrom, oidTo, oidCallID, oidCSeq}

func oCheck(m *oMessage, viaHost string) Problem {
	for _, id := range oMandatory {
		if !m.present(id) {
			return MissingHeader
		}
	}
	if m.IsRequest() {
		if !oHasScheme(m.RequestURI(), "sip") {
			return BadRequestURIScheme
		}
		if m.bodyTooShort() {
			return BodyTooShort
		}
		return OK
	}
	if m.ViaCount() > 1 {
		return ResponseMultipleVia
	}
	if viaHost != "" {
		host, port := ViaHostPort(m.TopVia())
		if port != nil || !oEqualFold(host, viaHost) {
			return ResponseViaMismatch
		}
	}
	if m.bodyTooShort() {
		return BodyTooShort
	}
	return OK
}

func (m *oMessage) present(id hdrID) bool {
	for i := int(m.first[id]) - 1; i >= 0 && i < m.n; i++ {
		if h := &m.hdr[i]; h.id == id && h.value.end > h.value.off {
			return true
		}
	}
	return false
}

func (m *oMessage) bodyTooShort() bool {
	return m.clen >= 0 && uint64(m.clen) > uint64(m.rest)
}

func oHasScheme(uri []byte, scheme string) bool {
	return len(uri) > len(scheme) && uri[len(scheme)] == ':' && oEqualFold(uri[:len(scheme)], scheme)
}

func oAppendResponse(dst []byte, req *oMessage, code int, reason string, toTag string) []byte {
	dst = append(dst, "SIP/2.0 "...)
	dst = strconv.AppendInt(dst, int64(code), 10)
	dst = append(dst, ' ')
	dst = oAppendText(dst, reason)
	dst = append(dst, "\r\n"...)
	for i := 0; i < req.n; i++ {
		if h := &req.hdr[i]; h.id == oidVia && h.value.end > h.value.off {
			dst = oAppendHeader(dst, oidVia, req.slice(h.value))
		}
	}
	if to := req.firstValue(oidTo); to != nil {
		dst = oAppendHeader(dst, oidTo, to)
		if toTag != "" && !oHasParam(to, "tag") {
			dst = dst[:len(dst)-2]
			dst = append(dst, ";tag="...)
			dst = oAppendText(dst, toTag)
			dst = append(dst, "\r\n"...)
		}
	}
	for _, id := range [...]hdrID{oidFrom, oidCallID, oidCSeq} {
		if v := req.firstValue(id); v != nil {
			dst = oAppendHeader(dst, id, v)
		}
	}
	return append(dst, "Content-Length: 0\r\n\r\n"...)
}

func (m *oMessage) firstValue(id hdrID) []byte {
	for i := int(m.first[id]) - 1; i >= 0 && i < m.n; i++ {
		if h := &m.hdr[i]; h.id == id && h.value.end > h.value.off {
			return m.slice(h.value)
		}
	}
	return nil
}

func oAppendHeader(dst []byte, id hdrID, value []byte) []byte {
	dst = append(dst, oLongNames[id]...)
	dst = append(dst, ": "...)
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c != '\r' && c != '\n' {
			dst = append(dst, c)
			continue
		}
		for len(dst) > 0 && (dst[len(dst)-1] == ' ' || dst[len(dst)-1] == '\t') {
			dst = dst[:len(dst)-1]
		}
		for i+1 < len(value) && oIsSpace(value[i+1]) {
			i++
		}
		dst = append(dst, ' ')
	}
	return append(dst, "\r\n"...)
}

func oAppendText[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}
