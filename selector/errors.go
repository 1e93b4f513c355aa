package selector

import (
	"errors"
	"strconv"
)

// ErrNoServers is returned for an empty server list: a transport needs at
// least one server.
var ErrNoServers = errors.New("selector: no servers (wsServers is empty)")

// ErrForm is returned when a JSON wsServers value is neither a string nor a
// list.
var ErrForm = errors.New("selector: wsServers must be a URI string or a list of URI strings or {\"wsUri\", \"weight\"} objects")

// Causes wrapped by a *URIError; test with errors.Is. Their text is meant to
// follow the entry named by URIError, so it carries no package prefix.
var (
	ErrScheme   = errors.New("scheme must be ws or wss")
	ErrUserinfo = errors.New("userinfo (user@) is not allowed")
	ErrFragment = errors.New("fragment (#) is not allowed")
	ErrHost     = errors.New("invalid host")
	ErrPort     = errors.New("port must be a number from 1 to 65535")
	ErrWeight   = errors.New("weight must be a non-negative integer")
	ErrSyntax   = errors.New("malformed URI")
	ErrEntry    = errors.New("entry must be a URI string or an object with a \"wsUri\" string")
)

// URIError reports one invalid server entry.
type URIError struct {
	// Index is the entry's position in the wsServers list, or -1 when the
	// URI was parsed alone (ParseServer). The single-string JSON form is a
	// list of one: index 0.
	Index int
	// URI is the entry as given; for a JSON entry that is not a URI string
	// (a number, an object without wsUri), its JSON text, cut to 64 bytes.
	URI string
	// Err is the cause: one of the Err values of this package, possibly
	// wrapped with detail.
	Err error
}

// Error reads, for example,
// `selector: wsServers[2] "http://x": scheme must be ws or wss`.
func (e *URIError) Error() string {
	s := "selector: "
	if e.Index >= 0 {
		s += "wsServers[" + strconv.Itoa(e.Index) + "] "
	}
	return s + strconv.Quote(e.URI) + ": " + e.Err.Error()
}

// Unwrap returns the cause, so errors.Is(err, ErrPort) and the like work.
func (e *URIError) Unwrap() error { return e.Err }
