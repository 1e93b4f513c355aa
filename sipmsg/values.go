package sipmsg

import "bytes"

// nextElement splits the first element off a comma-separated header value
// (RFC 3261 §7.3.1): it returns the bytes before the first comma that is
// outside a quoted string and outside <...>, and the bytes after that
// comma (nil when there is none). A backslash inside a quoted string
// escapes the next byte (quoted-pair, §25.1). An unterminated quote or
// bracket runs to the end of v.
func nextElement(v []byte) (elem, rest []byte) {
	comma := bytes.IndexByte(v, ',')
	if comma < 0 {
		return v, nil // the common case, found with one vectorised scan
	}
	if bytes.IndexByte(v[:comma], '"') < 0 && bytes.IndexByte(v[:comma], '<') < 0 {
		return v[:comma], v[comma+1:] // nothing before the comma opens a quoted string or <...>
	}
	quoted, angle := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !listSpecial[c] {
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

// listSpecial marks the bytes nextElement must look at.
var listSpecial = [256]bool{'"': true, '\\': true, '<': true, '>': true, ',': true}

// hasParam reports whether a name-addr or addr-spec header value (From,
// To, Contact, ...) carries a header parameter with that name, any case
// (RFC 3261 §20.10, §25.1). Parameters inside <...> belong to the URI and
// a ";" inside a quoted display name is text, so both are skipped. A value
// without <...> has no URI parameters: RFC 3261 §20 requires the brackets
// when the URI has any, so everything after its first ";" is a header
// parameter.
func hasParam(v []byte, name string) bool {
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
			for j < len(v) && isSpace(v[j]) {
				j++
			}
			k := j
			for k < len(v) && isToken(v[k]) {
				k++
			}
			if equalFold(v[j:k], name) {
				return true
			}
		}
	}
	return false
}
