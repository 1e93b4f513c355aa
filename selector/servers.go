package selector

import "errors"

// Servers is an ordered list of servers: SIP.js's "wsServers". Its JSON
// forms are described at UnmarshalJSON. Duplicate URIs are kept, as SIP.js
// keeps them; a duplicate is simply twice as likely to be picked among
// equals, and MarkError marks every copy.
type Servers []Server

// Normalize validates and normalises a list built in Go, such as
// Servers{{URI: "wss://sip.example.com/ws", Weight: 10}}, and returns a new
// slice; s is not modified. It is idempotent: a list that Normalize,
// Parse or UnmarshalJSON returned comes back unchanged.
//
// SIPURI is derived from URI. Because normalising makes a default port
// explicit, a SIPURI without the port is kept when the URI's port is the
// default one, so "ws://h" keeps "<sip:h;transport=ws;lr>" through repeated
// Normalize calls; any other SIPURI is replaced by the derived one.
//
// The error is ErrNoServers for an empty list, or joins one *URIError per
// bad entry.
func (s Servers) Normalize() (Servers, error) {
	if len(s) == 0 {
		return nil, ErrNoServers
	}
	out := make(Servers, len(s))
	var errs []error
	for i, in := range s {
		u, err := parseURI(in.URI)
		switch {
		case err != nil:
			errs = append(errs, &URIError{Index: i, URI: in.URI, Err: err})
			continue
		case in.Weight < 0:
			errs = append(errs, &URIError{Index: i, URI: in.URI, Err: ErrWeight})
			continue
		}
		sip := u.sipURI()
		if in.SIPURI != "" && u.port == defaultPort(u.scheme) {
			implicit := u
			implicit.port = ""
			if in.SIPURI == implicit.sipURI() {
				sip = in.SIPURI
			}
		}
		out[i] = Server{URI: u.normalized(), Weight: in.Weight, SIPURI: sip}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
