// Package conformance is the behaviour suite every dialer.Dialer must pass:
// the two backends of this module run it, and a third-party backend runs
// it with one call, in the manner of testing/slogtest and
// golang.org/x/net/nettest.
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, func(t *testing.T) dialer.Dialer { return &mybackend.Dialer{} })
//	}
//
// and then go test -race. Test is the same suite without a *testing.T.
//
// # Cases
//
// Each case checks one rule of the dialer.Dialer and dialer.Conn contract,
// cited in its failure report (RFC 6455, RFC 7118, SPEC.md, package
// dialer), against a fresh loopback server from package sipserver and a
// fresh Dialer from newDialer. Cases are named Group/Rule, in four groups:
//
//   - Dial: the handshake: exactly the "sip" subprotocol and no extension,
//     the Origin, headers, the URL, the typed errors of a refused or
//     mis-answered upgrade, no redirect followed, the context and
//     HandshakeTimeout, Options.Check, wss verification.
//   - Conn: one connection: whole messages both ways, opcodes, one frame
//     per message up to MaxSendSize, fragments, pings, masking, every
//     close code valid on the wire and the protocol errors that fail a
//     connection (1002, 1007), 1005, 1006, 1009, the read limit, Close
//     and its one-second bound, errors that stay, and the concurrency
//     contract.
//   - Pinger: the optional dialer.Pinger ability, tested when the Conn
//     has it, as testing/fstest tests an fs.FS's optional interfaces; a
//     Conn without it skips the group, saying so.
//   - Transport: the backend under transport.Base with real sockets and
//     short timeouts: failover, reconnection, recovery, connection timeout,
//     keepalive pong timeout, Disconnect and Send racing it.
//
// # Grades
//
// Every rule is graded as RFC 2119 grades requirements. A MUST rule is the
// contract: the transport depends on it, and a backend that fails one is
// broken. A SHOULD rule is recommended for a good reason (a server's or
// the process's resources, a clearer report) that a backend may weigh
// against its library. The grade is the innermost subtest of each case,
// "TestConformance/Conn/ReadLimitBeforePayload/SHOULD", and every failure
// report ends with the rule, its grade, and the place of the case in this
// package's source. SkipShould runs the MUST cases alone, and go test can
// do the same:
//
//	go test -skip 'TestConformance///SHOULD'           # MUST cases only
//	go test -run 'TestConformance/Conn/'               # one group
//	go test -run 'TestConformance/Conn/^ReadLimit'     # the read-limit cases
//
// (-run and -skip match each part of the name separately.) Cases lists the
// names and GradeOf their grades; names are stable.
//
// # Time and resources
//
// Every case has a deadline of 15 seconds and bounds each call into the
// backend, so a hang fails that case with the call named, not the whole
// run. What should happen at once on loopback is given 2 seconds, and a
// wait ends early when the connection shows that it cannot come (it ended,
// or a message came where a close was due). What a correct backend has
// already done when its call returned (a socket closed before Dial
// returned, a read woken by the peer's hang-up) is given half a second.
// Time bounds that the contract states as numbers are checked as numbers:
// Close within one second, a pong timeout noticed within the keepalive
// interval and the timeout. No case asserts a lower bound on a duration.
// The whole suite takes about five seconds.
//
// The cases that count a backend's open sockets (a dial abandoned by its
// context, Disconnect during a dial) can miss a leak: a socket the backend
// dropped without closing is closed by the garbage collector's finalizer
// on the net package's file descriptor if a collection runs within the
// case's wait. A pass there means no leak was seen, not that none exists.
//
// Every connection, transport and server a case makes is closed by its
// cleanup, and some cases check that no goroutine outlives Close or
// Disconnect; for that reason the suite must not run in parallel with
// other tests of the same binary.
//
// Conn/WriteDoesNotModifyInput puts the message in a read-only page on
// Linux, macOS and the BSDs and calls WriteMessage with
// runtime/debug.SetPanicOnFault, so that even a write into p undone before
// WriteMessage returns is caught; a backend that writes into p from
// another goroutine than the caller's crashes the test binary instead.
// Elsewhere the case compares p after the call, with a reader of p racing
// the call for the race detector.
package conformance
