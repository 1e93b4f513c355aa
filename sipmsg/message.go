package sipmsg

import "iter"

// MaxHeaders is the largest number of header lines Parse accepts; a
// message with more is malformed. A folded header counts as one line. Real
// messages carry 10 to 30; the cap keeps Message a fixed size.
const MaxHeaders = 128

// span is a byte range of the parsed input; offsets instead of slices keep
// Message free of pointers but one, so the garbage collector does not scan
// its arrays.
type span struct{ off, end uint32 }

// header is one header line (with its continuation lines).
type header struct {
	name  span  // raw, as received
	value span  // trimmed; may contain the line breaks of folding
	id    hdrID // idOther for a name the package does not know
	c0    byte  // the name's first byte | 0x20, to skip most names fast (see lookup)
}

// kind says what the start line was.
const (
	kindNone uint8 = iota // zero Message, or the last Parse failed
	kindRequest
	kindResponse
)

// A Message is a read-only view of one SIP message (RFC 3261 §7): the start
// line, the header lines and the body, each a sub-slice of the parsed input.
// Parse fills it without allocating; a Message is a few KiB of fixed
// arrays, meant to be reused (or pooled) across messages.
//
// The slices a Message returns alias the input given to Parse: they are
// valid as long as that input is, and must not be modified. Their capacity
// is cut to their length, so an append to one copies instead of
// overwriting the input.
//
// A Message is not safe for concurrent use while Parse runs; after Parse
// returns, any number of goroutines may call its other methods at once.
type Message struct {
	b      []byte
	kind   uint8
	have   uint8 // bit id set: a line of that mandatory header (Via to CSeq) has a value
	status uint16
	start  [3]span // request: method, Request-URI, version; response: version, code, reason
	body   span    // after the blank line, cut to Content-Length
	rest   uint32  // bytes after the blank line, before the cut
	clen   int     // Content-Length, or -1 when absent or not a number
	n      int     // header lines in hdr
	vias   int     // Via values (ViaCount)
	top    span    // the first Via value, when vias > 0
	lines  lines   // where the lines of each known header are
	hdr    [MaxHeaders]header
}

// lines holds, for each known header, 1 + the index of its first and of
// its last line in hdr, 0 when it has none; the lines between hold other
// headers too.
type lines struct{ first, last [numIDs]uint8 }

// slice returns the bytes of s, with capacity cut to length.
func (m *Message) slice(s span) []byte { return m.b[s.off:s.end:s.end] }

// Bytes returns the input of the last Parse (even when it failed), or nil.
func (m *Message) Bytes() []byte { return m.b }

// IsRequest reports whether the last Parse succeeded on a request.
func (m *Message) IsRequest() bool { return m.kind == kindRequest }

// IsResponse reports whether the last Parse succeeded on a response.
func (m *Message) IsResponse() bool { return m.kind == kindResponse }

// Method returns the method of a request ("INVITE"), or nil.
func (m *Message) Method() []byte {
	if m.kind != kindRequest {
		return nil
	}
	return m.slice(m.start[0])
}

// RequestURI returns the Request-URI of a request, or nil.
func (m *Message) RequestURI() []byte {
	if m.kind != kindRequest {
		return nil
	}
	return m.slice(m.start[1])
}

// StatusCode returns the status code of a response (100 to 699), or 0.
func (m *Message) StatusCode() int {
	if m.kind != kindResponse {
		return 0
	}
	return int(m.status)
}

// Reason returns the reason phrase of a response, as received and possibly
// empty, or nil for a request.
func (m *Message) Reason() []byte {
	if m.kind != kindResponse {
		return nil
	}
	return m.slice(m.start[2])
}

// lookup is a header name resolved once for repeated matching.
type lookup struct {
	id   hdrID
	c0   byte // the name's first byte | 0x20, or 0 for an empty name
	name string
}

// lookupOf resolves a name. Its c0 filters header lines before equalFold
// compares names: two names equal under ASCII case folding have equal
// first bytes once 0x20 is OR-ed in (the filter may let through more, never
// fewer), and no header line has an empty name, whose c0 is 0 (a name's
// first byte is a token character, never 0 or 0x20).
func lookupOf(name string) lookup {
	l := lookup{id: idOf(name), name: name}
	if len(name) > 0 {
		l.c0 = name[0] | 0x20
	}
	return l
}

// lineRange returns the range of header lines that may hold l: all of
// them for a name the package does not know.
func (m *Message) lineRange(l lookup) (from, to int) {
	if l.id == idOther {
		return 0, m.n
	}
	if f := m.lines.first[l.id]; f != 0 {
		return int(f) - 1, int(m.lines.last[l.id])
	}
	return 0, 0
}

// matches reports whether header line i has the looked-up name. Known
// headers match by id, so long and compact forms are one header.
func (m *Message) matches(i int, l lookup) bool {
	h := &m.hdr[i]
	if l.id != idOther {
		return h.id == l.id
	}
	return h.id == idOther && h.c0 == l.c0 && equalFold(m.slice(h.name), l.name)
}

// index returns the index of the first header line named l, or -1.
func (m *Message) index(l lookup) int {
	if l.id != idOther {
		return int(m.lines.first[l.id]) - 1
	}
	for i := 0; i < m.n; i++ {
		if m.matches(i, l) {
			return i
		}
	}
	return -1
}

// Header returns the value of the first header line with that name, or
// nil when there is none. The name is case-insensitive, and the long and
// compact forms of a header are equivalent ("v" and "Via"). The value is
// trimmed of surrounding white space; an empty value is an empty, non-nil
// slice.
//
// A folded value (RFC 3261 §7.3.1) is returned as received, line breaks
// and leading white space of its continuation lines included: a reader
// treats each such run as one SP. Header does not split comma-separated
// values; Values does.
func (m *Message) Header(name string) []byte {
	i := m.index(lookupOf(name))
	if i < 0 {
		return nil
	}
	return m.slice(m.hdr[i].value)
}

// HasHeader reports whether at least one header line has that name (see
// Header), whatever its value.
func (m *Message) HasHeader(name string) bool { return m.index(lookupOf(name)) >= 0 }

// HeaderCount returns the number of header lines with that name (see
// Header); comma-separated values on one line count once.
func (m *Message) HeaderCount(name string) int {
	l := lookupOf(name)
	n := 0
	for i, to := m.lineRange(l); i < to; i++ {
		if m.matches(i, l) {
			n++
		}
	}
	return n
}

// Values yields every value of the headers with that name (see Header):
// each header line's value split at commas (RFC 3261 §7.3.1), in order,
// trimmed. Commas inside a quoted string or inside <...> do not split;
// empty elements are skipped, so "Supported: " yields nothing. Values is
// meant for list headers (Via, Contact, Route, Record-Route, Allow,
// Supported, ...); headers whose single value holds commas (Date,
// Authorization) are read with Header. Ranging over Values allocates
// nothing.
func (m *Message) Values(name string) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) { m.values(lookupOf(name), yield) }
}

// values is the body of Values, kept apart so that Values stays small
// enough to inline and its closure can live on the caller's stack.
func (m *Message) values(l lookup, yield func([]byte) bool) {
	for i, to := m.lineRange(l); i < to; i++ {
		if !m.matches(i, l) {
			continue
		}
		for v := m.slice(m.hdr[i].value); len(v) > 0; {
			var elem []byte
			elem, v = nextElement(v)
			if elem = trimSpace(elem); len(elem) > 0 && !yield(elem) {
				return
			}
		}
	}
}

// ViaCount returns the number of Via values: every comma-separated value
// of every Via line (long or compact form). Parse counts them.
func (m *Message) ViaCount() int { return m.vias }

// TopVia returns the first Via value (the first comma-separated value of
// the first Via line that has one), or nil when there is none.
func (m *Message) TopVia() []byte {
	if m.vias == 0 {
		return nil
	}
	return m.slice(m.top)
}

// ContentLength returns the value of the Content-Length header (long or
// compact form, first line). ok is false when the header is absent or its
// value is not a decimal number that fits an int.
func (m *Message) ContentLength() (n int, ok bool) {
	if m.clen < 0 {
		return 0, false
	}
	return m.clen, true
}

// Body returns the bytes after the blank line that ends the headers. When
// Content-Length is valid and smaller than what follows the blank line,
// the body is cut to Content-Length (SPEC.md "Receiving": a longer body is
// cut); otherwise it is everything that follows. A message without a body
// has an empty, non-nil body.
func (m *Message) Body() []byte {
	if m.kind == kindNone {
		return nil
	}
	return m.slice(m.body)
}

// VisitHeaders calls fn for every header line, in order, with the name as
// received (any case, long or compact form) and the value as Header
// returns it. fn must not keep the slices longer than the input is valid.
func (m *Message) VisitHeaders(fn func(name, value []byte)) {
	for i := 0; i < m.n; i++ {
		fn(m.slice(m.hdr[i].name), m.slice(m.hdr[i].value))
	}
}
