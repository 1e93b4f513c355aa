package sipmsg

import "errors"

// ErrMalformed is wrapped by every error Parse returns: test with
// errors.Is(err, ErrMalformed).
var ErrMalformed = errors.New("sipmsg: malformed message")

// A ParseError says why Parse rejected a message. Parse returns only the
// package's own *ParseError values, never a fresh one, so that a failed
// parse allocates nothing; compare with errors.Is against ErrMalformed, or
// read Reason after errors.As.
type ParseError struct {
	Reason string // what was wrong, e.g. "bad status code"
	text   string // Error's result, built once
}

// Error returns the reason, prefixed like ErrMalformed.
func (e *ParseError) Error() string {
	if e.text == "" {
		return "sipmsg: malformed message: " + e.Reason
	}
	return e.text
}

// Unwrap returns ErrMalformed.
func (e *ParseError) Unwrap() error { return ErrMalformed }

// The reasons Parse gives, built once at package initialisation.
var (
	errEmpty          = errorValue("empty message")
	errTooLarge       = errorValue("message larger than 4 GiB")
	errLineEnd        = errorValue("line without line ending")
	errStartLine      = errorValue("bad start line")
	errMethod         = errorValue("bad method")
	errRequestURI     = errorValue("bad Request-URI")
	errVersion        = errorValue("unsupported SIP version")
	errStatusCode     = errorValue("bad status code")
	errHeaderName     = errorValue("bad header name")
	errHeaderColon    = errorValue("header line without colon")
	errFold           = errorValue("continuation line before the first header")
	errTooManyHeaders = errorValue("more header lines than MaxHeaders")
	errNoBlankLine    = errorValue("headers not ended by a blank line")
)

func errorValue(reason string) *ParseError {
	return &ParseError{Reason: reason, text: "sipmsg: malformed message: " + reason}
}
