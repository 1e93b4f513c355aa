// Package sipgows runs emiago/sipgo, and emiago/diago on top of it, over a
// sipws transport: server lists, failover, recovery, CRLF keepalives with a
// pong timeout, binary and fragmented frames, WebSocket pings with payloads,
// all without changing sipgo.
//
// # Model
//
// sipgo lets its user replace the dialer of its WS transport
// (sip.TransportWS.DialerCreate). The bridge's dialer opens a pipe instead
// of a socket: an in-memory net.Conn whose other end is the bridge, playing
// the WebSocket server. sipgo runs its own client handshake and framing over
// it, and the bridge relays whole SIP messages between the pipe and a
// transport.Transport (ws.New, wsgobwas.New, or any other):
//
//	sipgo ── WS frames ──► pipe ──► Bridge ── Transport.Send ──► sipws ──► server
//	sipgo ◄── WS frames ── pipe ◄── Bridge ◄── Events.Message ── sipws ◄── server
//
// Set up, the bridge is three calls, and one more per request:
//
//	bridge, err := sipgows.New(sipgows.Config{Transport: tr})
//	ua, err := sipgo.NewUA(bridge.UserAgentOption())   // diago.NewDiago(ua, diago.WithTransport(…)): README.md
//	bridge.Prepare(req)                                // transport WS, a destination without DNS
//
// The transport is the caller's: connect it, and disconnect it after
// Close. sipgo never sees the transport reconnect or fail over: its pipes
// stay open throughout. The transport's events reach the caller, so a UA
// registers again on Connected (see the Example).
//
// # Pipes
//
// sipgo opens a pipe for every address it sends to: Destination for the
// requests given to Prepare, and others for in-dialog requests that follow
// a Record-Route or a Contact. Whatever a pipe was dialed for, what sipgo
// writes on it goes to the transport. Inbound traffic goes to one primary
// pipe, the oldest open one, so that sipgo reads it in order; a server
// transaction's response goes back on the pipe its request came in on,
// the primary. A pipe's RemoteAddr is the address sipgo dialed, as a
// *net.TCPAddr when it is IP:port, as sipgo's own connections have.
//
// # From sipgo to the server
//
// Each message sipgo writes (one masked text frame, its header and payload
// in two writes) is decoded, unmasked into the pipe's own buffer and sent
// with Transport.Send on sipgo's writing goroutine. Send's error is
// returned from sipgo's write, as a socket error would be: while the
// transport is not OPEN (during a failover), sipgo's Client.Do fails at
// once with an error wrapping transport.ErrNotConnected and
// sip.ErrTransactionTransport, instead of waiting 32 s for its Timer F, and
// diago's Register loop tries again. A CRLF keepalive from sipgo is
// answered on the pipe and not sent: the transport runs its own.
//
// # From the server to sipgo
//
// The bridge's Message callback copies each message into a pooled frame and
// queues it without waiting (Config.QueueLen, DefaultQueueLen): the
// transport's event goroutine never waits for sipgo. sipgo's reading
// goroutine takes the frames from the queue. A message that finds the queue
// full is dropped and reported to the user's MessageDropped with
// ErrQueueFull; messages that arrive before sipgo opened a pipe wait in the
// queue. Every message goes to sipgo as one unfragmented text frame, even
// when it is not UTF-8 (sipgo v1.7.3 discards binary frames, and it
// reassembles no fragments). The bridge never sends sipgo a WebSocket ping
// (sipgo v1.7.3 loses its framing on one with a payload).
//
// # Sizes
//
// sipgo reads a message into a buffer of sip.TransportBufferReadSize bytes
// (32 KiB) and cuts what does not fit. The bridge refuses a larger message
// whole and reports it to MessageDropped with a *TooLargeError. To receive
// larger messages, raise sip.TransportBufferReadSize (a uint16: at most
// 65535, as sipgo's parser allows) before New and before sipgo.NewUA. In the
// other direction sipgo writes any size; the transport refuses a message
// above its send limit (dialer.Options.MaxSendSize, 64 KiB by default)
// before a byte goes out, and that error fails sipgo's write.
//
// # Via
//
// sipgo writes the sent-by of its Via from the connection's LocalAddr.
// Every pipe's LocalAddr is Host() with port 0, and sipgo writes no port
// when it is 0: "Via: SIP/2.0/WS 3f2a9c1e.invalid;branch=...". Host is the
// transport's ViaHost when it has one (transport.Config.ViaHost, so the
// transport's check of the Via of responses, which refuses any port, lets
// them through), else a random name in .invalid (RFC 6761 §6.4), which is
// the form of RFC 7118's examples and of SIP.js. A server cannot reach
// that host, and need not: Kamailio's NAT handling (force_rport,
// fix_nated_register, add_contact_alias) adds rport and received and routes
// by the WebSocket connection. Use Host in Contact headers. The Via says WS
// even when the transport's server is wss: the transport does the TLS, and
// sipgo's WSS transport would dial for itself, so Prepare always says WS.
//
// # DNS
//
// Prepare's Destination is an IP address, so sipgo resolves nothing. An
// in-dialog request follows the dialog's route: sipgo resolves a host name
// in a Record-Route or Contact with DNS before it dials, and then dials the
// bridge whatever the answer. A name that does not resolve (a peer's
// .invalid Contact without a Record-Route) fails in sipgo, before the
// bridge.
//
// # Goroutines
//
// The bridge starts none. Its callbacks run on the transport's goroutine;
// pipes work on sipgo's goroutines. Close closes every pipe, so sipgo's
// reading goroutines end; closing the user agent, the bridge and the
// transport leaves none behind.
//
// # Logging
//
// The bridge and the transport log through hclog; sipgo and diago through
// log/slog. HCLogFromSlog adapts a *slog.Logger, with hclog's Trace below
// slog's Debug.
package sipgows
