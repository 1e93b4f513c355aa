// Package integration tests the SIP-over-WebSocket client transport
// against a real SIP server: Kamailio 5.6, over ws and wss, with each
// shipped backend (ws on gorilla/websocket, wsgobwas on gobwas/ws).
//
// The package holds tests only. The Kamailio tests are off by default,
// because they need Kamailio on the machine (they take about 25 s); they
// run when the environment variable SIPWS_KAMAILIO is 1, as .ci/run sets it:
//
//	SIPWS_KAMAILIO=1 go test -race -count=1 ./integration
//
// Then a Kamailio that cannot be installed or started is a failure, not a
// skip. The tests start and stop the Kamailio instances they need with the
// scripts in the kamailio directory (start.sh installs the Debian packages
// kamailio, kamailio-websocket-modules and kamailio-tls-modules with
// apt-get when they are missing), and stop every instance they started,
// also when a test fails. Instance N listens on 127.0.0.1 only: ws port
// 18080+N-1, wss port 18443+N-1, SIP port 15060+N-1; the tests use
// instances 1 to 3 (3 pings idle WebSockets after 1 s), or K to K+2 with
// SIPWS_KAMAILIO_INSTANCE=K. Runtime
// files and the self-signed certificate, which the wss tests trust as a
// root (never InsecureSkipVerify), live under KAMAILIO_BASEDIR (default
// $TMPDIR/sipws-kamailio), outside the source tree.
//
// The tests run one after another, never in parallel: they share the ports.
// Their names are Backend/Scheme/Case, for example ws/wss/RegisterMessage,
// so -run selects a backend, a scheme or a case; anchor the parts, since
// "ws" also matches "wss" and "wsgobwas": -run 'TestKamailio/^ws$/^wss$/'
// is gorilla over wss only. SIPWS_TRACE=1 logs the transports' SIP traffic
// and state changes, with timestamps, through t.Log.
//
// The requests are built by internal/sipua (Via SIP/2.0/WS or WSS with a
// random .invalid host, Contact with transport=ws); the answers to what
// Kamailio relays are built from the raw bytes, not by the parser under test.
// Every wait is bounded, and the bounds of the failover, recovery and
// restart cases are computed from the transport configuration.
//
// What Kamailio answers, quirk by quirk, is written down in
// kamailio/README.md.
//
// TestPersonas needs nothing installed and always runs: the same two
// backends against sipserver's personas of Kamailio, Asterisk, FreeSWITCH
// and OpenSIPS (each rule taken from that server's source), as
// Persona/Backend/Case, e.g. TestPersonas/OpenSIPS/ws/NoOrigin. It shows
// each server's sharp edge failing with the wrong setting and holding with
// the one docs/SERVERS.md recommends, in about 20 s.
package integration
