package selector

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// uri is a validated ws/wss URI cut into the parts this package needs.
type uri struct {
	scheme string // "ws" or "wss"
	host   string // lower-cased; an IPv6 literal keeps its brackets
	port   string // decimal without leading zeros; "" when the URI gave none
	rest   string // path and query, byte for byte
}

// normalized is the URI with an explicit port.
func (u uri) normalized() string {
	port := u.port
	if port == "" {
		port = defaultPort(u.scheme)
	}
	return u.scheme + "://" + u.host + ":" + port + u.rest
}

// sipURI is the route SIP.js derives from a ws server: transport=ws for
// wss too (RFC 7118 §5 uses "ws" for both), and the port only when given.
func (u uri) sipURI() string {
	s := "<sip:" + u.host
	if u.port != "" {
		s += ":" + u.port
	}
	return s + ";transport=ws;lr>"
}

func defaultPort(scheme string) string {
	if scheme == "wss" {
		return "443"
	}
	return "80"
}

// parseURI validates raw. It cuts the string by hand rather than taking
// net/url's fields, because net/url unescapes the host and path and would
// re-escape them differently; the path and query must reach the handshake
// byte for byte. net/url then checks the result, so every URI accepted
// here is one the WebSocket libraries (which all use net/url) read alike.
func parseURI(raw string) (uri, error) {
	var u uri
	if raw == "" {
		return u, fmt.Errorf("%w: empty", ErrSyntax)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f {
			return u, fmt.Errorf("%w: byte %q at offset %d (whitespace, control and non-ASCII bytes are not allowed)", ErrSyntax, c, i)
		}
	}
	colon := strings.IndexByte(raw, ':')
	if colon < 0 {
		return u, ErrScheme
	}
	switch s := raw[:colon]; {
	case strings.EqualFold(s, "ws"):
		u.scheme = "ws"
	case strings.EqualFold(s, "wss"):
		u.scheme = "wss"
	default:
		return u, ErrScheme
	}
	rest := raw[colon+1:]
	if strings.IndexByte(rest, '#') >= 0 {
		return u, ErrFragment
	}
	if !strings.HasPrefix(rest, "//") {
		return u, fmt.Errorf("%w: missing (want %s://host)", ErrHost, u.scheme)
	}
	rest = rest[2:]
	authority := rest
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		authority, u.rest = rest[:i], rest[i:]
	}
	if strings.IndexByte(authority, '@') >= 0 {
		return u, ErrUserinfo
	}
	host, port, hasPort, err := splitHostPort(authority)
	if err != nil {
		return u, err
	}
	u.host = host
	if hasPort {
		if u.port, err = checkPort(port); err != nil {
			return u, err
		}
	}
	if err := checkPathQuery(u.rest); err != nil {
		return u, err
	}
	if err := crossCheck(u); err != nil {
		return u, err
	}
	return u, nil
}

// splitHostPort splits an authority without userinfo and checks the host.
func splitHostPort(a string) (host, port string, hasPort bool, err error) {
	if a == "" {
		return "", "", false, fmt.Errorf("%w: missing", ErrHost)
	}
	if a[0] == '[' {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "", "", false, fmt.Errorf("%w: missing ] after IPv6 literal", ErrHost)
		}
		lit := a[1:end]
		if after := a[end+1:]; after != "" {
			if after[0] != ':' {
				return "", "", false, fmt.Errorf("%w: %q after IPv6 literal", ErrHost, after)
			}
			port, hasPort = after[1:], true
		}
		if strings.IndexByte(lit, '%') >= 0 {
			// A SIP URI cannot carry a zone (RFC 3261 grammar), and SIPURI
			// must be one.
			return "", "", false, fmt.Errorf("%w: IPv6 zones are not supported", ErrHost)
		}
		ip, perr := netip.ParseAddr(lit)
		if perr != nil || !ip.Is6() {
			return "", "", false, fmt.Errorf("%w: %q is not an IPv6 address", ErrHost, lit)
		}
		return "[" + strings.ToLower(lit) + "]", port, hasPort, nil
	}
	host = a
	if i := strings.LastIndexByte(a, ':'); i >= 0 {
		host, port, hasPort = a[:i], a[i+1:], true
	}
	if err := checkRegName(host); err != nil {
		return "", "", false, err
	}
	return strings.ToLower(host), port, hasPort, nil
}

// checkRegName accepts what a resolver can look up: letters, digits, '-',
// '_' and '.', in non-empty dot-separated labels (a final dot is allowed:
// a fully qualified name). IPv4 addresses pass as names of digits.
func checkRegName(h string) error {
	if h == "" {
		return fmt.Errorf("%w: missing", ErrHost)
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.':
			if i == 0 || h[i-1] == '.' {
				return fmt.Errorf("%w: empty label in %q", ErrHost, h)
			}
		case c == ':':
			return fmt.Errorf("%w: an IPv6 address must be in brackets", ErrHost)
		default:
			return fmt.Errorf("%w: character %q in %q", ErrHost, c, h)
		}
	}
	return nil
}

// checkPort returns p without leading zeros.
func checkPort(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%w: empty port after ':'", ErrPort)
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return "", ErrPort
		}
	}
	p = strings.TrimLeft(p, "0")
	if p == "" || len(p) > 5 {
		return "", ErrPort
	}
	if n, _ := strconv.Atoi(p); n > 65535 {
		return "", ErrPort
	}
	return p, nil
}

// checkPathQuery accepts the RFC 3986 path and query characters: unreserved,
// sub-delims, ':', '@', '/', '?' and well-formed %XX escapes.
func checkPathQuery(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0:
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return fmt.Errorf("%w: bad %%-escape at %q", ErrSyntax, s[i:])
			}
			i += 2
		default:
			return fmt.Errorf("%w: character %q in path or query (escape it as %%%02X)", ErrSyntax, c, c)
		}
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// crossCheck makes sure net/url reads the normalised URI as this package
// does. It never fails for a URI the checks above accepted; it is a guard
// against a difference between the two parsers, which the fuzz test hunts.
func crossCheck(u uri) error {
	n := u.normalized()
	p, err := url.Parse(n)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	path, query, _ := strings.Cut(u.rest, "?")
	port := u.port
	if port == "" {
		port = defaultPort(u.scheme)
	}
	if p.Scheme != u.scheme || p.User != nil || p.Opaque != "" || p.Fragment != "" ||
		p.Host != u.host+":"+port || p.EscapedPath() != path || p.RawQuery != query {
		return fmt.Errorf("%w: net/url reads it as %q", ErrSyntax, p.String())
	}
	return nil
}

// hostOf returns the host of a normalised URI without brackets or port.
func hostOf(s string) string {
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if strings.HasPrefix(rest, "[") {
		if end := strings.IndexByte(rest, ']'); end >= 0 {
			return rest[1:end]
		}
		return rest[1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		return rest[:i]
	}
	return rest
}
