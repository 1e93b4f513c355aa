// Package ws is the default backend of sipws: a dialer.Dialer on
// gorilla/websocket that carries SIP over WebSocket (RFC 7118), and
// Transport, a transport.Base over it.
//
// # Model
//
// A Dialer opens one connection per Dial and hands it to the Base as a
// dialer.Conn, which moves whole messages: ReadMessage returns the next one,
// WriteMessage sends one, Close ends the connection. Everything else
// (reconnection, keepalives, SIP checks) is the Base's. The connection
// reports every way it ends as a *dialer.CloseError, exactly as package
// wsgobwas does, so the Base cannot tell the two backends apart.
//
// # Handshake
//
// Dial upgrades with gorilla's websocket.Dialer, offering the "sip"
// subprotocol, and fails with dialer.ErrSubprotocol when the server does not
// select it (the socket is then closed). A refusal with an HTTP status
// becomes a *dialer.HandshakeError carrying the status and headers. The
// context, shortened by Options.HandshakeTimeout, bounds TCP, TLS and the
// upgrade alike: its end, deadline or cancellation, interrupts whichever is
// in progress, and the error wraps the context's. Options.TLSConfig is
// cloned by gorilla, never modified; Options.Header is sent with the
// request. Dial uses no proxy and does not retry.
//
// # Messages
//
// ReadMessage reads a data message, text or binary, fragmented or not,
// through gorilla's NextReader into a pooled buffer, valid until the next
// call. A message above Options.MaxMessageSize is refused from its frame
// header, before its payload is read: gorilla sends close 1009 and
// ReadMessage reports 1009 wrapping dialer.ErrMessageTooLarge.
//
// WriteMessage sends p as a text message when it is valid UTF-8 and as a
// binary one otherwise (RFC 7118 §5.2). gorilla copies p into a write
// buffer and masks it there with a fresh key per frame, so p is never
// modified. A message up to Dialer.WriteBufferSize (64 KiB by default) is
// one frame; a larger one goes out as a fragmented message, one frame per
// buffer, which is still one WebSocket message (RFC 6455 §5.4).
//
// # Control frames
//
// Pings are answered with pongs carrying the same payload, and pongs are
// skipped, while ReadMessage reads: a connection nobody reads answers no
// ping. A server's close frame is echoed with its code, the socket is
// closed, and ReadMessage reports the code and reason. Close sends a close
// frame with the caller's code and reason (no body for codes that must not
// appear on the wire), bounded to one second, then closes the socket. A
// stream that ends without a close frame is reported as 1006, and a frame
// that breaks RFC 6455 as 1002 after gorilla has sent close 1002.
//
// # Memory
//
// An idle connection holds gorilla's read buffer (Dialer.ReadBufferSize,
// 4 KiB by default) and under a kilobyte of state, the socket's included.
// The write buffer comes from a pool shared by connections with the same
// size and goes back after each message; the message buffer of ReadMessage
// comes from a pool too and goes back when the next ReadMessage starts.
// Once warm, gorilla allocates one small object per message read (its
// message reader) and two per message written (its message writer, and
// the box of the buffer it gives back to the pool); see the allocation
// test. Package wsgobwas allocates none.
//
// # Concurrency
//
// As dialer.Conn requires: one goroutine at a time may read and one at a
// time may write (gorilla's own rule, which the Base keeps by serialising
// writers), reads, writes and Close may overlap, and Close may be called
// any number of times from any goroutine. gorilla writes every frame whole
// under one lock, so a pong or a close frame never lands inside a data
// frame; it may go between two frames of a fragmented message, which
// RFC 6455 §5.4 allows. A connection starts no goroutine.
package ws
