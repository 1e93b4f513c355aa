// Package wsgobwas is the gobwas/ws backend of sipws: a dialer.Dialer whose
// connections move SIP messages without allocating, for processes that hold
// thousands of SIP-over-WebSocket flows (RFC 7118). [New] puts it under a
// transport.Base; [Dialer] is the backend alone.
//
// # Handshake
//
// Dial upgrades with gobwas's ws.Dialer, offering exactly the "sip"
// subprotocol and no extension, and failing with dialer.ErrSubprotocol when
// the server does not select it (and with an error when it selects an
// extension). A refusal with an HTTP status, a redirect included (none is
// followed), becomes a *dialer.HandshakeError, and the context (shortened
// by Options.HandshakeTimeout) bounds TCP, TLS and the upgrade alike. The
// request carries the headers of Options.HandshakeHeader, with the derived
// Origin.
//
// # Messages
//
// A connection reads frames itself from one bufio.Reader, with gobwas's
// ws.ReadHeaderBuffer and ws.CheckHeader: it answers pings with pongs,
// skips pongs, reassembles fragmented messages, fails the connection with
// 1002 on a protocol error, and refuses a message above
// Options.MaxMessageSize by closing with 1009 as soon as a frame header
// announces it, before any of the payload is read. A message that arrives
// in a single frame no larger than the read buffer is returned as a view
// into that buffer, without a copy. Every error ReadMessage returns is a
// *dialer.CloseError.
//
// Each outgoing message is one frame, masked with a fresh key from
// crypto/rand into a pooled buffer of the frame's size that holds the
// header (written by ws.WriteHeaderBuffer) and the masked payload, and
// written with a single call to the socket's Write: never fragmented,
// never in pieces. A message above Options.MaxSendSize is refused before
// anything is written, with an error wrapping dialer.ErrSendTooLarge. The
// caller's bytes are only read.
//
// The server's close frames are judged with dialer.ParseCloseBody: every
// code valid on the wire (1000–1003, 1007–1014, 3000–4999) is reported as
// sent and echoed; any other fails the connection with 1002, a reason that
// is not UTF-8 with 1007. Close's frame is dialer.AppendCloseBody's.
//
// The connection is a dialer.Pinger: Ping writes one Ping frame like any
// other, and the function of SetPongHandler gets each Pong's payload, a
// view into the read buffer, from inside ReadMessage. Neither allocates.
//
// # Memory
//
// An idle connection holds no buffer at all: about 600 bytes, besides the
// socket. Its read buffer (Dialer.ReadBufferSize, 4 KiB by default) is
// taken from a pool when bytes arrive and goes back at the next message
// boundary with nothing left unread; on a plain socket the wait for the
// next frame happens in the runtime's poller without a buffer (the system
// calls are those of any blocking read), and over TLS, which keeps buffers
// of its own, it reads one byte into the connection's own array. Write
// buffers and the buffer that reassembles fragmented or large messages
// come from a pool and go back to it, the first after each write, the
// second when the next read starts. Reading and writing a message, a
// ping or a pong allocates nothing once the pools are warm (messages up to
// 1 MiB: a larger send limit allocates its frames).
//
// # Concurrency
//
// As dialer.Conn requires: one goroutine at a time may read and one at a
// time may write, reads, writes and Close may overlap, and Close may be
// called any number of times from any goroutine.
//
// Every frame, whether a message, a pong or a close, is written whole while
// holding the connection's write semaphore, so frames never interleave: a
// pong the reader owes waits for the message being written. The semaphore
// is a one-slot channel, so that a waiting writer can give up when the
// connection closes, and a write that fails part-way leaves the
// connection unable to write anything more, since the peer would read
// the rest as garbage.
//
// Close wakes a pending ReadMessage at once, fails a write that has not
// started at once, and gives a write in progress what is left of one second
// to finish before the close frame goes out; the whole Close is bounded by
// that second. A connection starts no goroutine.
package wsgobwas
