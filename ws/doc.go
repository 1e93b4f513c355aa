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
// Dial upgrades with gorilla's websocket.Dialer, offering exactly the "sip"
// subprotocol and no extension, and fails with dialer.ErrSubprotocol when
// the server does not select it (the socket is then closed), and when the
// server selects an extension anyway. A refusal with an HTTP status, a
// redirect included (none is followed), becomes a *dialer.HandshakeError
// carrying the status and headers. The context, shortened by
// Options.HandshakeTimeout, bounds TCP, TLS and the upgrade alike: its end,
// deadline or cancellation, interrupts whichever is in progress, and the
// error wraps the context's. The request carries the headers of
// Options.HandshakeHeader, with the derived Origin. The TLS handshake is
// done here rather than by gorilla, as gorilla would do it (a clone of
// Options.TLSConfig, ServerName set to the host), so that the frames are
// read above it. Dial uses no proxy and does not retry.
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
// binary one otherwise (RFC 7118 §5.2), as one frame in one write: gorilla
// copies p into a pooled write buffer that holds Options.MaxSendSize and a
// frame header, and masks it there with a fresh key per frame, so p is
// never modified and never fragmented (gorilla fragments only what does not
// fit its buffer). A larger message is refused before anything is written,
// with an error wrapping dialer.ErrSendTooLarge.
//
// # Control frames
//
// Pings are answered with pongs carrying the same payload while ReadMessage
// reads: a connection nobody reads answers no ping. The connection is a
// dialer.Pinger: Ping writes a Ping frame under gorilla's write lock, and
// the function of SetPongHandler gets each Pong's payload from inside
// ReadMessage.
//
// The server's close frames are judged by the package, not by gorilla,
// whose table of receivable codes stops at 1013 and which answers a reason
// that is not UTF-8 with 1002: a tap under gorilla's reader (above TLS)
// reads the frame headers as they pass, takes each close frame out of the
// stream, judges it with dialer.ParseCloseBody, and hands gorilla a plain
// close 1000 in its place. So every code valid on the wire (1000–1003,
// 1007–1014, 3000–4999) is reported exactly as sent, 1014 included, and
// echoed with its code; a one-byte body or another code fails the
// connection with 1002, a reason that is not UTF-8 with 1007, exactly as
// package wsgobwas does. Close sends a close frame built by
// dialer.AppendCloseBody, bounded to one second, then closes the socket. A
// stream that ends without a close frame is reported as 1006, and any
// other frame that breaks RFC 6455 as 1002 after gorilla has sent close
// 1002.
//
// # Memory
//
// An idle connection holds no read buffer of 4 KiB: gorilla reads through
// a 256-byte buffer of its own from a pooled one (Dialer.ReadBufferSize,
// 4 KiB by default) that is taken when bytes arrive and given back once
// they are read (internal/idleread: on a plain socket the wait for the
// next frame runs in the runtime's poller without a buffer). What stays is
// gorilla's connection state and under a kilobyte of ours, the socket's
// and the tap's included.
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
// under one lock, so a pong, a ping or a close frame never lands inside a
// data frame. A connection starts no goroutine.
package ws
