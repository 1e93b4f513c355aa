// Package wsgobwas is the gobwas/ws backend of sipws: a dialer.Dialer whose
// connections move SIP messages without allocating, for processes that hold
// thousands of SIP-over-WebSocket flows (RFC 7118). [New] puts it under a
// transport.Base; [Dialer] is the backend alone.
//
// # Handshake
//
// Dial upgrades with gobwas's ws.Dialer, offering the "sip" subprotocol and
// failing with dialer.ErrSubprotocol when the server does not select it. A
// refusal with an HTTP status becomes a *dialer.HandshakeError, and the
// context (shortened by Options.HandshakeTimeout) bounds TCP, TLS and the
// upgrade alike.
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
// crypto/rand into a pooled buffer that holds the header (written by
// ws.WriteHeaderBuffer) and the masked payload, and written with a single
// call to the socket's Write (messages above 64 KiB go out in 64 KiB chunks
// of the same frame). The caller's bytes are only read.
//
// # Memory
//
// An idle connection holds its read buffer (Dialer.ReadBufferSize, 4 KiB by
// default) and a few hundred bytes more: about 4.7 KiB in all, besides the
// socket. Write buffers and the buffer that reassembles fragmented or large
// messages come from a pool and go back to it, the first after each write,
// the second when the next read starts. Reading and writing a message
// allocates nothing once the pools are warm.
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
