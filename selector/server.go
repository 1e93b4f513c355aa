package selector

import "errors"

// Server is one WebSocket server of a transport. A Server is a plain value,
// safe to copy and to share between goroutines.
//
// Build Servers with ParseServer, Parse or Servers.UnmarshalJSON, or as
// literals normalised with Servers.Normalize before use.
type Server struct {
	// URI is the normalised ws:// or wss:// URI: lower-case scheme and
	// host, explicit port (80 for ws, 443 for wss if the URI gave none),
	// path and query byte for byte. The selector identifies a server by it.
	URI string

	// Weight orders servers: the highest weight not in error is tried
	// first. Zero (the default) is the lowest; negative is invalid.
	Weight int

	// SIPURI is the server's SIP URI as SIP.js derives it, for a Route
	// header: "<sip:HOST[:PORT];transport=ws;lr>", with the port only when
	// the URI as written gave one, no path, transport=ws for ws and wss
	// alike, and an IPv6 host in brackets. It is not part of the JSON form.
	SIPURI string `json:"-"`
}

// Host returns the host name or IP address of the server, without port or
// IPv6 brackets: the name to resolve, and the tls.Config ServerName for wss.
func (s Server) Host() string { return hostOf(s.URI) }

// String returns the URI.
func (s Server) String() string { return s.URI }

// ParseServer validates and normalises one URI (see the package comment)
// and returns its Server. A bad URI or a negative weight gives a *URIError
// with Index -1.
func ParseServer(rawURI string, weight int) (Server, error) {
	return parseServer(-1, rawURI, weight)
}

func parseServer(index int, rawURI string, weight int) (Server, error) {
	u, err := parseURI(rawURI)
	if err != nil {
		return Server{}, &URIError{Index: index, URI: rawURI, Err: err}
	}
	if weight < 0 {
		return Server{}, &URIError{Index: index, URI: rawURI, Err: ErrWeight}
	}
	return Server{URI: u.normalized(), Weight: weight, SIPURI: u.sipURI()}, nil
}

// Parse parses a list of URIs of weight 0, a convenience for Go callers.
// The error joins one *URIError per bad entry, or is ErrNoServers when no
// URI is given.
func Parse(uris ...string) (Servers, error) {
	if len(uris) == 0 {
		return nil, ErrNoServers
	}
	out := make(Servers, len(uris))
	var errs []error
	for i, raw := range uris {
		s, err := parseServer(i, raw, 0)
		if err != nil {
			errs = append(errs, err)
		}
		out[i] = s
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
