// Package transport is the client side of SIP over WebSocket (RFC 7118):
// the Transport a SIP stack talks to, and Base, the machine every backend
// shares. A transport comes from a backend's New: ws.New (package
// github.com/sipws/sipws/ws, on gorilla/websocket, the default) or
// wsgobwas.New (github.com/sipws/sipws/wsgobwas, on gobwas/ws, no
// allocation per message), both taking this package's Config; NewBase
// builds one over any other dialer.Dialer. Disconnect every transport New
// returned, even one whose Connect failed.
//
// # Model
//
// A transport is one logical flow to a set of weighted servers
// (Config.Servers, SIP.js's wsServers). Connect picks the highest-weight
// server not in error, dials it through a dialer.Dialer within
// ConnectionTimeout, and returns once OPEN. When an attempt fails or an OPEN
// connection drops, the same server is retried at once, then every
// ReconnectionTimeout, MaxReconnectionAttempts times; then it is marked in
// error and the next server is tried. When none is left, every mark is
// reset and recovery waits (2–30 s, randomised, or the user's
// backoff.BackOff) before the next pass. Disconnect stops all of it.
//
// While OPEN, the transport reads whole messages: CRLF keepalive traffic is
// consumed (RFC 5626), SIP messages are parsed with package sipmsg and
// sanity-checked (bad requests get an automatic 400 or 416), and the rest is
// delivered to Events.Message in order, exactly once. Keepalives go out
// every KeepAliveInterval — CRLF, WebSocket pings or SIP OPTIONS
// (KeepAliveMode) — and a missing pong can end the flow
// (KeepAlivePongTimeout). Send writes one message as one frame and returns
// nil only once it was written.
//
// Beyond SIP.js, for fleets of transports: retry waits are jittered
// (ReconnectionJitter), error marks expire (ServerHoldDown), and a
// transport on a backup server moves back to a better one,
// make-before-break (FailbackInterval).
//
// # Goroutines and concurrency
//
// Every method of Base is safe for concurrent use. A transport runs one
// goroutine at a time, from Connect to Disconnect: it dials, waits, reads
// and calls every event callback, so callbacks never run concurrently and
// see events in order. At each OPEN the goroutine that dialed hands over
// to a fresh one and ends, so an idle connection's parked reader keeps the
// small stack reading needs rather than the one dialing grew (about 2 KiB
// instead of 8 KiB per transport). Keepalive timers and failback probes
// run briefly on timer goroutines. Writers are serialised per connection.
// Disconnect returns once all of them have ended, unless it is called from
// an event callback: it then stops the transport and returns at once.
//
// # Errors
//
// Send returns ErrNotConnected when not OPEN; Connect returns a
// *ConnectError holding one *ServerError per server when a whole pass
// failed; NewBase returns *ConfigError values naming each invalid field.
// Backends report socket closes as *dialer.CloseError. All are meant for
// errors.Is and errors.As.
package transport
