// Package keepalive schedules the keepalives of a SIP flow over a
// connection-oriented transport (RFC 5626 §3.5.1 and §4.4.1), as SIP.js's
// WebSocket transport sends them, with the flow-failure check SIP.js lacks
// and two more kinds of ping ([Mode]): WebSocket pings and SIP OPTIONS,
// for the servers that never answer a CRLF over WebSocket (FreeSWITCH,
// OpenSIPS).
//
// # Model
//
// A client sends a ping, a double CRLF ([CRLFPing]); the server answers with a
// pong, a single CRLF ([CRLFPong]). Over WebSocket (RFC 7118) each is a whole
// message of its own. A [Keeper] owns the schedule of one connection:
//
//   - [Keeper.Start] draws the period once, uniform in [0.8, 1.0) of
//     [Config.Interval], so a fleet of user agents does not ping in step, and
//     a ping falls due at every multiple of the period, like a time.Ticker.
//   - [Config.Debounce] is SIP.js's pong-wait window: a due ping is skipped
//     while the previous one is unanswered and younger than the window.
//     With a 4 s period, a 10 s window and a silent server, pings go out at
//     4 s, 16 s, 28 s, 40 s.
//   - [Config.PongTimeout] (beyond SIP.js; RFC 5626 §4.4.1 recommends 10 s):
//     when no pong arrives that long after the oldest unanswered ping, the
//     flow has failed: [Config.OnFailure] is called once and pings stop. The
//     owner closes the connection and calls [Keeper.Stop].
//   - [Keeper.Received] sees every incoming message first. A message made
//     only of CR and LF bytes is keepalive traffic, never a SIP message. When
//     it is exactly a double CRLF, it is the server's own ping (Asterisk
//     pings this way), answered with [CRLFPong] in every mode and never a
//     pong to ours; any other is, in [CRLF] mode, the pong.
//   - In the other modes the owner sends the ping ([Config.Ping]) and
//     reports its pong ([Keeper.Pong]): a Pong frame echoing the ping's
//     payload, a final response to the OPTIONS.
//   - [Config.Tick] is the process-wide keepalive clock: pings and pong
//     deadlines round up to a multiple of it since the Unix epoch, so the
//     pings of thousands of connections that fall due within one tick leave
//     together and their pongs come back together, and one wake-up of the
//     runtime serves them all.
//
// # Timers and concurrency
//
// A Keeper starts no goroutine of its own: its only goroutines are the
// callbacks of time.AfterFunc timers, and the API has no clock, so tests
// drive it with testing/synctest. Every method is safe for concurrent use.
// The callbacks of [Config] are never called with the Keeper's lock held,
// and [Keeper.Stop] waits for a running one to return before it returns.
package keepalive
