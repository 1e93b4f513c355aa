// Package wstest holds the test support that the tests of the two
// WebSocket backends, ws and wsgobwas, share: the tests themselves that
// need the socket under a backend, and so cannot be conformance cases
// (RunBackend: exact timing in a synctest bubble, one write per frame; and
// FuzzReadMessage), a raw loopback server for what conformance/sipserver
// cannot script (a handshake written by hand, a server that drains or
// floods, bytes that are not frames), reading and writing frames on the
// server's side of a stream, allocation counting and benchmarks, and the
// bounded waits those tests need. The rules every backend keeps are the
// conformance suite's, not this package's.
//
// It is not part of the public contract: it lives under internal/, only
// tests import it, and it changes with them. It builds on gobwas/ws's
// low-level frame and upgrade API and on package dialer, and never on a
// backend, so that a backend's tests do not test it with itself.
//
// Every wait it offers is bounded by [Wait], and every server it starts
// listens on 127.0.0.1 only and is closed when the test ends.
package wstest
