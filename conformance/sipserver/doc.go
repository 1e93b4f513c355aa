// Package sipserver is a scriptable loopback SIP-over-WebSocket server
// (RFC 7118) for tests: the integration tests, the conformance suite and
// the demo command run their clients against it.
//
// # Model
//
// [Start] listens on 127.0.0.1 on a free port, for ws or, with
// [Options.TLS], for wss with a self-signed certificate made at start
// ([Server.RootCAs] and [Server.ClientTLSConfig] let a client trust it).
// Each accepted TCP connection is one upgrade attempt. What the server does
// with it is the current [HandshakeMode]: accept (selecting the "sip"
// subprotocol when offered), refuse with an HTTP status, stall, accept
// without a subprotocol, or close the TCP connection at once. Every answer
// can carry extra header lines ([Server.SetResponseHeader]: an extension
// never offered, a redirect's Location), and a 101 can carry frames in the
// same write ([Server.SetEarlyFrames]).
//
// An accepted connection is a [*Conn]. One goroutine per connection reads
// frames, unmasks them and records each as a [Frame], reassembles
// fragmented messages, answers WebSocket pings, echoes a close frame and
// hangs up, and answers whole messages: "\r\n\r\n" (a CRLF keepalive ping,
// RFC 5626 §4.4.1) with "\r\n", and every SIP request except ACK with a
// stateless 200 OK. Both answers can be switched off to script a silent
// server.
//
// The WebSocket side (the upgrade, frame headers, masking) is the
// package's own, on the standard library alone, with its own [Opcode] and
// [Frame] types: a test scripting frames needs no WebSocket library, and a
// backend on gorilla/websocket or coder/websocket gets no other one in its
// module graph through this package. A test can send anything at frame
// level: fragments, interleaved control frames, reserved opcodes, RSV bits,
// a masked server frame, a header announcing more than a client accepts,
// frames cut half-way ([Conn.SendFrame], [Conn.WriteFrame],
// [Conn.SendHeader], [Conn.SendRaw]).
//
// # Recording and waiting
//
// Everything the server sees is recorded: upgrade requests ([Server.Requests]),
// data messages ([Server.Received], [Conn.Received]), frames ([Conn.Frames],
// with their mask keys so a suite can check that clients mask with fresh
// keys), pongs, the client's close frame, and the TCP connections still
// open ([Server.OpenTCP]; a stalled handshake notices the client hanging up,
// so a suite can check that a client closes the sockets it gives up on).
// Tests never sleep: they wait for a condition with [Server.Wait] and its
// shorthands, which wake on every recorded event and end with the context.
//
// # Personas
//
// [Options.Persona] makes the server behave as a real server does where a
// client must adapt to it, each rule taken from that server's source (see
// [Persona] for the files and functions):
//
//   - [Kamailio] (5.6, websocket module defaults): 400 without "sip";
//     after PersonaOptions.KeepAlive idle (180 s) a WS Ping carrying its
//     Server header, and the connection dropped without a close frame if
//     it stays unanswered; "\r\n" and "\r\n\r\n" answered with "\r\n"; a
//     frame over 16383 bytes with its header, or anything that is not SIP
//     (whitespace included), ends the connection without a close frame.
//   - [Asterisk] (res_http_websocket, chan_pjsip): "\r\n\r\n" every
//     KeepAlive (90 s), a client's CRLF never answered; a frame over 32 KiB
//     (8 KiB LowMemory) closed with 1009; a write blocked over 100 ms closed
//     with 1011; sips: Request-URIs over wss ([Conn.SendRequest]).
//   - [FreeSWITCH] (sofia-sip, its WebSocket transport in C): the offered subprotocol echoed
//     verbatim; CRLF never answered; errors cut the socket without a close
//     frame (1006).
//   - [OpenSIPS] (proto_ws): 400 without Origin; CRLF never answered; any
//     fragment closed with 1008; a message still incomplete after 4 socket
//     reads ends the connection.
//
// All of them answer WS Pings and SIP requests (OPTIONS included) as the
// neutral server does, and keep its recording and knobs. [PersonaOptions]
// scales their thresholds down for tests; [Conn.EndReason] tells which
// rule ended a connection.
//
// # Concurrency and lifetime
//
// Every method of Server and Conn is safe for concurrent use. Behaviour
// knobs (SetHandshake, SetAnswerPings, ...) may change at any time and
// apply to the next handshake or frame. [Server.Close] ends every goroutine
// the server started, stalled handshakes included, before it returns.
package sipserver
