package sipmsg

import "encoding/binary"

// This file knows header names: the headers the package looks up by
// identity, their long and compact forms (RFC 3261 §7.3.3 and §20, and the
// later RFCs that added compact forms), how Parse and the lookups classify
// a name, and case-insensitive comparison.

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
	// Headers without a compact form, known so that a SIP stack's common
	// lookups need no scan.
	idRecordRoute
	idRoute
	idMaxForwards
	idExpires
	idMinExpires
	idRequire
	idProxyRequire
	idUnsupported
	idAllow
	idUserAgent
	idServer
	idAuthorization
	idProxyAuthorization
	idWWWAuthenticate
	idProxyAuthenticate
	idRSeq
	idRAck
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
	idRecordRoute:        "Record-Route",
	idRoute:              "Route",
	idMaxForwards:        "Max-Forwards",
	idExpires:            "Expires",
	idMinExpires:         "Min-Expires",
	idRequire:            "Require",
	idProxyRequire:       "Proxy-Require",
	idUnsupported:        "Unsupported",
	idAllow:              "Allow",
	idUserAgent:          "User-Agent",
	idServer:             "Server",
	idAuthorization:      "Authorization",
	idProxyAuthorization: "Proxy-Authorization",
	idWWWAuthenticate:    "WWW-Authenticate",
	idProxyAuthenticate:  "Proxy-Authenticate",
	idRSeq:               "RSeq",
	idRAck:               "RAck",
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
// idOther when the package does not know it. It costs one table load for
// a compact form and, for a long one, one comparison with each of the at
// most two known names that have its length and first letter.
func idOf[T string | []byte](name T) hdrID {
	n := len(name)
	if n == 1 {
		return compact[lowerTab[name[0]]]
	}
	if n == 0 || n >= len(byShape) {
		return idOther
	}
	for _, id := range &byShape[n][name[0]&31] {
		if id == idOther {
			break
		}
		if foldedEqual(name, lowerNames[id]) {
			return id
		}
	}
	return idOther
}

// idOfToken is idOf for the name b[p:q] of a header line as Parse has it:
// made of token characters (RFC 3261 §25.1). It compares 8 bytes at a
// time: OR-ing 0x20 into a token character folds it to lower case exactly
// (the token characters without that bit are the upper-case letters and
// "_", which folds to DEL, in no name), so a name and a known lower-case
// name match when their folded words are equal.
func idOfToken(b []byte, p, q int) hdrID {
	n := q - p
	if n == 1 {
		return compact[b[p]|0x20]
	}
	if n >= len(byShape) || len(b)-p < 24 {
		return idOf(b[p:q]) // too near the end of b to load three words
	}
	cands := &byShape[n][b[p]&31]
	if cands[0] == idOther {
		return idOther
	}
	const fold = 0x2020202020202020
	a := (*[24]byte)(b[p : p+24])
	mask := &nameMasks[n]
	w0 := (binary.LittleEndian.Uint64(a[0:]) | fold) & mask[0]
	w1 := (binary.LittleEndian.Uint64(a[8:]) | fold) & mask[1]
	w2 := (binary.LittleEndian.Uint64(a[16:]) | fold) & mask[2]
	for _, id := range cands {
		if k := &nameWords[id]; w0 == k[0] && w1 == k[1] && w2 == k[2] {
			return id
		}
	}
	return idOther
}

// nameWords holds each long name in lower case as little-endian 64-bit
// words, zero beyond its length; nameMasks[n] keeps the first n bytes of
// three words.
var (
	nameWords = func() (t [numIDs][3]uint64) {
		for id, name := range lowerNames {
			for i := 0; i < len(name); i++ {
				t[id][i>>3] |= uint64(name[i]) << (8 * (i & 7))
			}
		}
		return t
	}()
	nameMasks = func() (t [20][3]uint64) {
		for n := range t {
			for i := 0; i < n; i++ {
				t[n][i>>3] |= 0xff << (8 * (i & 7))
			}
		}
		return t
	}()
)

// byShape lists the known headers by the length of their long name and
// its first byte (the low five bits: a letter in either case), so that
// idOf compares a name with at most two of them.
var byShape = func() (t [20][32][2]hdrID) {
	for id := idVia; id < numIDs; id++ {
		row := &t[len(longNames[id])][longNames[id][0]&31]
		i := 0
		for row[i] != idOther {
			i++ // panics at init if a shape holds more than 2 names
		}
		row[i] = id
	}
	return t
}()

// lowerNames holds longNames in lower case, for foldedEqual.
var lowerNames = func() (t [numIDs]string) {
	for id, name := range longNames {
		b := []byte(name)
		for i, c := range b {
			b[i] = lower(c)
		}
		t[id] = string(b)
	}
	return t
}()

// foldedEqual reports whether a equals lowerB, which is in lower case,
// under ASCII case folding.
func foldedEqual[T string | []byte](a T, lowerB string) bool {
	if len(a) != len(lowerB) {
		return false
	}
	for i := 0; i < len(lowerB); i++ {
		if lowerTab[a[i]] != lowerB[i] {
			return false
		}
	}
	return true
}

// lower folds an ASCII upper-case letter; header names are ASCII tokens.
func lower(c byte) byte { return lowerTab[c] }

// lowerTab maps each byte to itself, but ASCII upper-case letters to
// lower case.
var lowerTab = func() (t [256]byte) {
	for c := range t {
		t[c] = byte(c)
		if 'A' <= c && c <= 'Z' {
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	return t
}()

// equalFold reports whether a and b are equal under ASCII case folding.
// Unlike bytes.EqualFold it does no Unicode folding: SIP names, schemes and
// hosts are compared as ASCII (RFC 3261 §7.3.1, §19.1.4), and a header
// named "K" (U+212A KELVIN SIGN) must not match "k".
func equalFold[A, B string | []byte](a A, b B) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] != b[i] && lowerTab[a[i]] != lowerTab[b[i]] {
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
