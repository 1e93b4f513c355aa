package ws

import "net/http"

// requestHeader returns the extra upgrade headers, already checked by
// dialer.Options.Check, in the form gorilla takes. h is not modified: when
// all its names are canonical it is returned as it is, and otherwise a copy
// with canonical names, since gorilla recognises names (Host among them) in
// that form only and would send a "host" given in lower case as a second
// Host line.
func requestHeader(h http.Header) http.Header {
	canonical := true
	for k := range h {
		if http.CanonicalHeaderKey(k) != k {
			canonical = false
		}
	}
	if canonical {
		return h
	}
	out := make(http.Header, len(h))
	for k, v := range h {
		ck := http.CanonicalHeaderKey(k)
		out[ck] = append(out[ck], v...) // a new slice: h's stay unshared
	}
	return out
}
