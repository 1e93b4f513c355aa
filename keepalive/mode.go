package keepalive

import (
	"errors"
	"strconv"
)

// Mode is what a keepalive ping is. Interval, debounce and pong timeout mean
// the same in every mode; only the ping and what counts as its pong differ.
// Server-initiated keepalives are answered whatever the mode: a CRLF ping
// with a CRLF pong (Keeper.Received), a WebSocket Ping with a Pong carrying
// its payload (the backend).
//
// The zero value is CRLF, SIP.js's keepalive and the default.
type Mode uint8

const (
	// CRLF pings with a double CRLF and takes any message made only of CR
	// and LF bytes as the pong, except a double CRLF, which is the server's
	// own ping (RFC 5626 §3.5.1, SIP.js). JSON "crlf".
	// FreeSWITCH and OpenSIPS never answer it over WebSocket.
	CRLF Mode = iota

	// WebSocketPing pings with an RFC 6455 Ping frame carrying a fresh
	// payload; the pong is the Pong frame that echoes it. Every WebSocket
	// server answers it. It needs a backend whose connection can ping
	// (dialer.Pinger). JSON "ws-ping".
	WebSocketPing

	// Options pings with a SIP OPTIONS request to the server, built by
	// the transport with a Call-ID of its own; any final response with
	// that Call-ID is the pong, consumed and never delivered. It works
	// with every SIP server, and proves the SIP layer alive, not only the
	// socket. JSON "options".
	Options

	numModes
)

var modeNames = [numModes]string{CRLF: "crlf", WebSocketPing: "ws-ping", Options: "options"}

// ErrMode is wrapped by the error of UnmarshalText given a name that is not
// a mode.
var ErrMode = errors.New(`keepalive: mode must be "crlf", "ws-ping" or "options"`)

// String returns the mode's JSON name ("crlf", "ws-ping", "options"), or
// "Mode(N)" for a value that is not a mode.
func (m Mode) String() string {
	if m < numModes {
		return modeNames[m]
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Valid reports whether m is one of the modes.
func (m Mode) Valid() bool { return m < numModes }

// MarshalText returns the mode's JSON name; it fails for a value that is
// not a mode.
func (m Mode) MarshalText() ([]byte, error) {
	if !m.Valid() {
		return nil, ErrMode
	}
	return []byte(modeNames[m]), nil
}

// UnmarshalText sets m from its name, exactly as String writes it (no case
// folding, as with every JSON key and value of sipws). An empty name is
// CRLF, the default.
func (m *Mode) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*m = CRLF
		return nil
	}
	for i, name := range modeNames {
		if string(b) == name {
			*m = Mode(i)
			return nil
		}
	}
	return &modeError{strconv.Quote(string(b))}
}

type modeError struct{ got string }

func (e *modeError) Error() string { return ErrMode.Error() + ", not " + e.got }
func (e *modeError) Unwrap() error { return ErrMode }
