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
// Each case checks one rule, cited in its failure report (RFC 6455, RFC
// 7118, SPEC.md, the dialer.Conn contract), against a fresh loopback
// server from package sipserver and a fresh Dialer from newDialer. Cases
// are named Group/Rule, in three groups:
//
//   - Dial: the handshake: the "sip" subprotocol, headers, the URL, the
//     typed errors of a refused or mis-answered upgrade, the context and
//     HandshakeTimeout, wss verification.
//   - Conn: one connection: whole messages both ways, opcodes, one frame
//     per message, fragments, pings, masking, the close codes (1005, 1006,
//     1009...), the read limit, Close, and the concurrency contract.
//   - Transport: the backend under transport.Base with real sockets and
//     short timeouts: failover, reconnection, recovery, connection timeout,
//     keepalive pong timeout, Disconnect and Send racing it.
//
// Names are stable: select or skip cases with go test's -run and -skip,
// whose patterns match each part of the name separately:
//
//	go test -run 'TestConformance/Conn/'               # one group
//	go test -run 'TestConformance/Conn/^ReadLimit'     # the read-limit cases
//	go test -skip 'TestConformance/Transport/'         # all but one group
//
// Cases lists the names.
//
// # Time and resources
//
// Every case has a deadline of 15 seconds and bounds each call into the
// backend (2 seconds for anything that should happen at once on
// loopback), so a hang fails that case with the call named, not the whole
// run. The whole suite takes a few seconds. Every connection, transport
// and server a case makes is closed by its cleanup, and some cases check
// that no goroutine outlives Close or Disconnect; for that reason the
// suite must not run in parallel with other tests of the same binary.
package conformance
