// Package coderws is a small third-party SIP-over-WebSocket backend: a
// dialer.Dialer of github.com/sipws/sipws on github.com/coder/websocket.
// It lives in a module of its own, outside sipws, and proves that a
// backend written by anyone can run the sipws conformance suite with one
// call (see coderws_test.go).
//
// coder/websocket does the handshake, framing, masking, pings and the
// closing handshake. This package adds what the MUST rules of the dialer
// contract ask beyond it: the typed errors of package dialer, a connection
// that fails without the "sip" subprotocol, the Origin and the send limit
// of dialer.Options, close frames within the wire rules and within one
// second, errors that stay, and a guard on the socket for the two rules
// coder/websocket v1.8.15 breaks (a masked server frame, a stream cut
// between fragments). It keeps none of the SHOULD rules, and its test
// skips them (conformance.SkipShould): coder/websocket counts payload
// bytes as it reads them, so it refuses an oversized message only once the
// limit is passed, and it fails a protocol error with 1002 to the server
// but reports it as an error of its own.
package coderws
