package sipmsg

// This file knows header names: the headers the package looks up by
// identity, their long and compact forms (RFC 3261 §7.3.3 and §20, and the
// later RFCs that added compact forms), and case-insensitive comparison.

// hdrID identifies a header the package knows by name; 0 is any other.
// Long and compact forms of the same header share one id, so that a lookup
// by either form finds both (RFC 3261 §7.3.3).
type hdrID uint8

const (
	idOther hdrID = iota
	idVia
	idFrom
	idTo
	idCallID
	idCSeq
	idContact
	idContentLength
	idContentType
	idContentEncoding
	idSupported
	idSubject
	idEvent
	idAllowEvents
	idReferTo
	idReferredBy
	idSessionExpires
	idAcceptContact
	idRejectContact
	idRequestDisposition
	idIdentity
	idIdentityInfo
	numIDs
)

// longNames holds the canonical long form of each known header, as
// AppendResponse writes it.
var longNames = [numIDs]string{
	idVia:                "Via",
	idFrom:               "From",
	idTo:                 "To",
	idCallID:             "Call-ID",
	idCSeq:               "CSeq",
	idContact:            "Contact",
	idContentLength:      "Content-Length",
	idContentType:        "Content-Type",
	idContentEncoding:    "Content-Encoding",
	idSupported:          "Supported",
	idSubject:            "Subject",
	idEvent:              "Event",
	idAllowEvents:        "Allow-Events",
	idReferTo:            "Refer-To",
	idReferredBy:         "Referred-By",
	idSessionExpires:     "Session-Expires",
	idAcceptContact:      "Accept-Contact",
	idRejectContact:      "Reject-Contact",
	idRequestDisposition: "Request-Disposition",
	idIdentity:           "Identity",
	idIdentityInfo:       "Identity-Info",
}

// compact maps a lower-case compact form to its header: RFC 3261 §7.3.3
// (v f t i m l c e k s), RFC 3265/6665 (o u), RFC 3515 (r), RFC 3892 (b),
// RFC 4028 (x), RFC 3841 (a j d) and RFC 4474 (y n).
var compact = [256]hdrID{
	'v': idVia,
	'f': idFrom,
	't': idTo,
	'i': idCallID,
	'm': idContact,
	'l': idContentLength,
	'c': idContentType,
	'e': idContentEncoding,
	'k': idSupported,
	's': idSubject,
	'o': idEvent,
	'u': idAllowEvents,
	'r': idReferTo,
	'b': idReferredBy,
	'x': idSessionExpires,
	'a': idAcceptContact,
	'j': idRejectContact,
	'd': idRequestDisposition,
	'y': idIdentity,
	'n': idIdentityInfo,
}

// idOf returns the id of a header name in either form, any case, or
// idOther when the package does not know it.
func idOf[T string | []byte](name T) hdrID {
	if len(name) == 1 {
		return compact[lower(name[0])]
	}
	if len(name) >= len(byLength) {
		return idOther
	}
	for _, id := range byLength[len(name)] {
		if id == idOther {
			break
		}
		if equalFold(name, longNames[id]) {
			return id
		}
	}
	return idOther
}

// byLength lists the known headers by the length of their long name, so
// that idOf compares a name with at most three of them.
var byLength = func() (t [20][3]hdrID) {
	for id := idVia; id < numIDs; id++ {
		row := &t[len(longNames[id])]
		i := 0
		for row[i] != idOther {
			i++ // panics at init if a length holds more than 3 names
		}
		row[i] = id
	}
	return t
}()

// lower folds an ASCII upper-case letter; header names are ASCII tokens.
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold reports whether a and b are equal under ASCII case folding.
// Unlike bytes.EqualFold it does no Unicode folding: SIP names, schemes and
// hosts are compared as ASCII (RFC 3261 §7.3.1, §19.1.4), and a header
// named "K" (U+212A KELVIN SIGN) must not match "k".
func equalFold[A, B string | []byte](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

// isToken reports whether c may appear in a token (RFC 3261 §25.1), the
// syntax of methods and header names.
func isToken(c byte) bool {
	return tokenChars[c]
}

var tokenChars = func() (t [256]bool) {
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

// isSpace reports whether c is white space inside a header value: SP and
// HTAB, and the CR and LF of a folded line (RFC 3261 §7.3.1, LWS).
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// trimSpace returns v without leading and trailing white space; it keeps v
// non-nil when v is non-nil, so an empty value stays distinguishable from
// an absent one.
func trimSpace(v []byte) []byte {
	i, j := 0, len(v)
	for i < j && isSpace(v[i]) {
		i++
	}
	for j > i && isSpace(v[j-1]) {
		j--
	}
	return v[i:j:j]
}
