// Package coderws is a small third-party SIP-over-WebSocket backend: a
// dialer.Dialer of github.com/sipws/sipws on github.com/coder/websocket.
// It lives in a module of its own, outside sipws, and proves that a
// backend written by anyone can run the sipws conformance suite with one
// call (see coderws_test.go).
//
// coder/websocket does the handshake, framing, masking, pings and the
// closing handshake. This package adds what the dialer contract asks
// beyond it: the typed errors of package dialer, a connection that fails
// without the "sip" subprotocol, and a read limit enforced on the frame
// header, before any payload is read (coder/websocket counts payload
// bytes as it reads them, so a header announcing a huge frame would make
// it wait for bytes it will refuse anyway).
package coderws
