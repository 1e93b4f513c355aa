package selector

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// UnmarshalJSON reads every form SIP.js accepts for "wsServers":
//
//	"wss://sip.example.com"
//	["wss://a.example.com", "wss://b.example.com"]
//	[{"wsUri": "wss://a.example.com", "weight": 10}, {"wsUri": "wss://b.example.com"}]
//	[{"wsUri": "wss://a.example.com", "weight": 10}, "wss://b.example.com"]
//
// A missing or null weight is 0. A weight must be a non-negative integer:
// a JSON number (10, 10.0 and 1e1 are the same number in JavaScript and
// here) or one written as a string ("10", as SIP.js read it); 10.5, "ten"
// and true are errors. "ws_uri", the name of the oldest SIP.js
// releases, is read as an alias of "wsUri". Other object keys are ignored,
// as SIP.js ignores them.
//
// JSON null leaves s unchanged, the encoding/json convention. An empty list
// is ErrNoServers; a value of another type is ErrForm; otherwise the error
// joins one *URIError per bad entry, naming its index, and s is unchanged.
func (s *Servers) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return fmt.Errorf("%w, got nothing", ErrForm)
	}
	switch b[0] {
	case 'n':
		if string(b) == "null" {
			return nil
		}
	case '"':
		var raw string
		if err := json.Unmarshal(b, &raw); err != nil {
			return fmt.Errorf("selector: wsServers: %w", err)
		}
		srv, err := parseServer(0, raw, 0)
		if err != nil {
			return err
		}
		*s = Servers{srv}
		return nil
	case '[':
		var entries []json.RawMessage
		if err := json.Unmarshal(b, &entries); err != nil {
			return fmt.Errorf("selector: wsServers: %w", err)
		}
		if len(entries) == 0 {
			return ErrNoServers
		}
		out := make(Servers, len(entries))
		var errs []error
		for i, e := range entries {
			srv, err := parseEntry(i, e)
			if err != nil {
				errs = append(errs, err)
			}
			out[i] = srv
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		*s = out
		return nil
	}
	if !json.Valid(b) {
		var v any
		return fmt.Errorf("selector: wsServers: %w", json.Unmarshal(b, &v))
	}
	return fmt.Errorf("%w, got %s", ErrForm, snippet(b))
}

// parseEntry reads one element of a wsServers list.
func parseEntry(i int, e json.RawMessage) (Server, error) {
	bad := func(err error) (Server, error) {
		return Server{}, &URIError{Index: i, URI: snippet(e), Err: err}
	}
	switch e[0] {
	case '"':
		var raw string
		if err := json.Unmarshal(e, &raw); err != nil {
			return bad(fmt.Errorf("%w: %v", ErrEntry, err))
		}
		return parseServer(i, raw, 0)
	case '{':
	default:
		return bad(ErrEntry)
	}
	// A map, not a struct: SIP.js's keys are case-sensitive, and
	// encoding/json matches struct fields case-insensitively.
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(e, &obj); err != nil {
		return bad(fmt.Errorf("%w: %v", ErrEntry, err))
	}
	rawURI, ok := obj["wsUri"]
	if old, hasOld := obj["ws_uri"]; hasOld {
		if ok && !bytes.Equal(old, rawURI) {
			return bad(fmt.Errorf("%w: \"wsUri\" and \"ws_uri\" differ", ErrEntry))
		}
		rawURI, ok = old, true
	}
	if !ok || string(rawURI) == "null" {
		return bad(fmt.Errorf("%w: \"wsUri\" is missing", ErrEntry))
	}
	var uri string
	if err := json.Unmarshal(rawURI, &uri); err != nil {
		return bad(fmt.Errorf("%w: \"wsUri\" is not a string", ErrEntry))
	}
	weight, err := parseWeight(obj["weight"])
	if err != nil {
		return Server{}, &URIError{Index: i, URI: uri, Err: err}
	}
	return parseServer(i, uri, weight)
}

// parseWeight reads a JSON weight; absent or null is 0. A number given as
// a string ("10") is read as that number, as SIP.js read it.
func parseWeight(w json.RawMessage) (int, error) {
	if w == nil || string(w) == "null" {
		return 0, nil
	}
	n := w
	if len(w) > 2 && w[0] == '"' && w[len(w)-1] == '"' {
		var str string
		if err := json.Unmarshal(w, &str); err != nil {
			return 0, fmt.Errorf("%w: got %s", ErrWeight, snippet(w))
		}
		n = json.RawMessage(str)
	}
	if len(n) == 0 {
		return 0, fmt.Errorf("%w: got %s", ErrWeight, snippet(w))
	}
	if c := n[0]; c != '-' && (c < '0' || c > '9') {
		return 0, fmt.Errorf("%w: got %s", ErrWeight, snippet(w))
	}
	if i, err := strconv.ParseInt(string(n), 10, 0); err == nil {
		if i < 0 {
			return 0, fmt.Errorf("%w: got %d", ErrWeight, i)
		}
		return int(i), nil
	}
	// 10.0 and 1e1 are integers to JavaScript. Beyond 2^53 a float64 is
	// no longer exact, so larger values are refused rather than rounded.
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > 1<<53 {
		return 0, fmt.Errorf("%w: got %s", ErrWeight, snippet(w))
	}
	return int(f), nil
}

// snippet is a JSON value for an error message, cut to 64 bytes.
func snippet(b []byte) string {
	const max = 64
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

// jsonServer is the object form MarshalJSON writes.
type jsonServer struct {
	WsURI  string `json:"wsUri"`
	Weight int    `json:"weight"`
}

// MarshalJSON writes the object form, [{"wsUri": ..., "weight": ...}],
// which every SIP.js release that has wsUri reads; nil is null. SIPURI is
// derived, so it is not written; the URI is written as it was written as
// far as SIPURI tells (a default port the user left out is left out), so
// that reading the JSON back gives the same Servers, SIPURI included.
func (s Servers) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	out := make([]jsonServer, len(s))
	for i, srv := range s {
		out[i] = jsonServer{WsURI: writtenURI(srv), Weight: srv.Weight}
	}
	return json.Marshal(out)
}

// writtenURI returns a server's URI as it was written, as far as SIP.js's
// SIP URI tells: URI always carries the port, and SIPURI only when the URI
// as written gave one, so a default port left out of the SIP URI is left
// out here too. Read again, the URI gives the same Server, SIPURI
// included. A Server that was never normalised (no SIPURI) is written as
// it is.
func writtenURI(s Server) string {
	hostPort, ok := strings.CutPrefix(s.SIPURI, "<sip:")
	if !ok {
		return s.URI
	}
	hostPort, _, _ = strings.Cut(hostPort, ";")
	if i := strings.LastIndexByte(hostPort, ':'); i > strings.LastIndexByte(hostPort, ']') {
		return s.URI // the SIP URI has a port: the URI was written with it
	}
	scheme, rest, ok := strings.Cut(s.URI, "://")
	if !ok {
		return s.URI
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	auth := rest[:end]
	if i := strings.LastIndexByte(auth, ':'); i > strings.LastIndexByte(auth, ']') {
		auth = auth[:i]
	}
	return scheme + "://" + auth + rest[end:]
}
