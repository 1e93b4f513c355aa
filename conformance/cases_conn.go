package conformance

import (
	"bytes"
	"fmt"
	"time"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
)

// smallLimit is the Options.MaxMessageSize of the read-limit cases.
const smallLimit = 1000

// connCases check one open connection carrying messages: whole messages
// both ways, what the server sends and how it arrives, control frames on
// the way, and the concurrency contract of dialer.Conn.
var connCases = []testCase{
	{
		name: "Conn/WholeMessageBothWays",
		rule: must("a message is one WebSocket message both ways, byte for byte, at 1 byte, at each boundary of the frame length's encodings (125, 126, 65535, 65536 bytes) and at the default max message size exactly (dialer.Conn; RFC 7118 §5.2; RFC 6455 §5.2)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			for i, n := range []int{1, 125, 126, 700, 0xffff, dialer.DefaultMaxMessageSize} {
				p := payload(n, byte(i))
				e.mustWrite(c, p)
				if got := e.received(s, sc, i+1)[i]; !bytes.Equal(got, p) {
					e.t.Errorf("client to server, %s: the server received %s", size(n), differ(got, p))
				}
				q := payload(n, byte(i+100))
				serverSend(e, sc, sipserver.OpText, true, q)
				if got := e.read(c, "a message of "+size(n)); !bytes.Equal(got, q) {
					e.t.Errorf("server to client, %s: ReadMessage %s", size(n), differ(got, q))
				}
			}
		},
	},
	{
		name: "Conn/ServerTextAndBinaryDelivered",
		rule: must("text and binary messages from the server are both delivered, as they are (RFC 7118 §5.2; SPEC.md \"Receiving\")"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			for _, m := range []struct {
				op sipserver.Opcode
				p  []byte
			}{
				{sipserver.OpText, []byte("SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")},
				{sipserver.OpBinary, allBytes(300)},
				{sipserver.OpBinary, []byte(optionsRequest(2))}, // valid UTF-8 in a binary frame
				{sipserver.OpText, []byte("MESSAGE sip:a@b SIP/2.0\r\n\r\nünïcödé € 𝄞")},
			} {
				serverSend(e, sc, m.op, true, m.p)
				if got := e.read(c, "the "+m.op.String()+" message"); !bytes.Equal(got, m.p) {
					e.t.Errorf("a %s message of %s from the server: ReadMessage %s", m.op, size(len(m.p)), differ(got, m.p))
				}
			}
		},
	},
	{
		name: "Conn/EmptyMessageDelivered",
		rule: must("an empty message from the server, in one frame or in empty fragments, text or binary, is returned as an empty message, not skipped: dropping it is the Base's decision (package dialer: \"passes every data message through\")"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			serverSend(e, sc, sipserver.OpText, true, nil)
			serverSend(e, sc, sipserver.OpBinary, true, nil)
			serverSend(e, sc, sipserver.OpText, false, nil)
			serverSend(e, sc, sipserver.OpContinuation, true, nil)
			serverSend(e, sc, sipserver.OpText, true, []byte("after"))
			for i, what := range []string{"an empty text message", "an empty binary message", "an empty message in two empty fragments"} {
				if got := e.read(c, what); len(got) != 0 {
					e.t.Fatalf("message %d, %s: ReadMessage returned %q; want it empty", i, what, truncate(got))
				}
			}
			if got := e.read(c, `"after"`); string(got) != "after" {
				e.t.Errorf("ReadMessage after the empty messages returned %q; want %q", truncate(got), "after")
			}
		},
	},
	{
		name: "Conn/CRLFMessagesDelivered",
		rule: must("messages made only of CRLFs (a CRLF keepalive ping \\r\\n\\r\\n, a pong \\r\\n) are returned as they are: keepalives are the Base's (package dialer: \"passes every data message through\"; RFC 5626 §4.4.1)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			msgs := []string{"\r\n\r\n", "\r\n", "\r\n\r\n\r\n", "after"}
			for _, m := range msgs {
				serverSendText(e, sc, m)
			}
			for _, m := range msgs {
				if got := e.read(c, fmt.Sprintf("%q", m)); string(got) != m {
					e.t.Fatalf("the server sent %q: ReadMessage returned %q", m, got)
				}
			}
		},
	},
	{
		name: "Conn/FragmentedReassembled",
		rule: must("a fragmented message from the server is returned whole, with a ping between its fragments answered on the way, whether it fits a read buffer or not (RFC 6455 §5.4, §5.5.2; dialer.Conn.ReadMessage)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			serverSend(e, sc, sipserver.OpText, false, []byte("OPTIONS sip:"))
			if err := sc.Ping([]byte("between fragments")); err != nil {
				e.t.Fatalf("server Ping: %v", err)
			}
			serverSend(e, sc, sipserver.OpContinuation, false, []byte("alice@example.com "))
			serverSend(e, sc, sipserver.OpContinuation, true, []byte("SIP/2.0\r\n\r\n"))
			want := []byte("OPTIONS sip:alice@example.com SIP/2.0\r\n\r\n")
			if got := e.read(c, "the reassembled message"); !bytes.Equal(got, want) {
				e.t.Errorf("text message in three fragments: ReadMessage %s", differ(got, want))
			}
			// The ping was read before the message ended: its pong is out.
			if !e.waitFor(s, settle, func() bool { return len(sc.Pongs()) >= 1 }) {
				e.t.Errorf("no pong for the ping sent between fragments, %v after the message it came inside was returned", settle)
			} else if got := sc.Pongs()[0]; string(got) != "between fragments" {
				e.t.Errorf("pong payload %q; want %q", got, "between fragments")
			}

			bin := allBytes(300)
			serverSend(e, sc, sipserver.OpBinary, false, bin[:200])
			serverSend(e, sc, sipserver.OpContinuation, false, nil) // an empty fragment is a fragment
			serverSend(e, sc, sipserver.OpContinuation, true, bin[200:])
			if got := e.read(c, "the reassembled binary message"); !bytes.Equal(got, bin) {
				e.t.Errorf("binary message in three fragments: ReadMessage %s", differ(got, bin))
			}

			big := payload(dialer.DefaultMaxMessageSize, 7)
			cuts := []int{0, 3000, 9000, 40000, len(big)}
			for i := 0; i+1 < len(cuts); i++ {
				op := sipserver.OpContinuation
				if i == 0 {
					op = sipserver.OpText
				}
				serverSend(e, sc, op, i+2 == len(cuts), big[cuts[i]:cuts[i+1]])
			}
			if got := e.read(c, "the reassembled 64 KiB message"); !bytes.Equal(got, big) {
				e.t.Errorf("64 KiB message in four fragments: ReadMessage %s", differ(got, big))
			}
		},
	},
	{
		name: "Conn/FramesWithThe101Read",
		rule: must("frames the server sends in the same TCP segment as its 101 answer are read, not lost in the handshake's buffer (RFC 6455 §4.1: data may follow the handshake at once)"),
		run: func(e *env) {
			for _, tls := range []bool{false, true} {
				s := silentServer(e, sipserver.Options{TLS: tls})
				s.SetEarlyFrames(
					sipserver.Frame{Op: sipserver.OpText, Fin: true, Payload: []byte("early")},
					sipserver.Frame{Op: sipserver.OpPing, Fin: true, Payload: []byte("early ping")},
					sipserver.Frame{Op: sipserver.OpBinary, Fin: true, Payload: allBytes(10)},
				)
				c, sc := e.open(s, dialer.Options{TLSConfig: s.ClientTLSConfig()})
				// They arrived with the 101: reading them waits for nothing.
				if got := e.readWithin(c, settle, `"early"`); string(got) != "early" {
					e.t.Errorf("%s: the first ReadMessage returned %q; want the frame sent with the 101, %q", s.URL(), truncate(got), "early")
				}
				if got := e.readWithin(c, settle, "the second early frame"); !bytes.Equal(got, allBytes(10)) {
					e.t.Errorf("%s: the second ReadMessage %s", s.URL(), differ(got, allBytes(10)))
				}
				if !e.waitFor(s, settle, func() bool { return len(sc.Pongs()) >= 1 }) {
					e.t.Errorf("%s: no pong for the ping sent with the 101", s.URL())
				}
				exchange(e, s, c, sc)
			}
		},
	},
	{
		name: "Conn/PingAnsweredWithPong",
		rule: must("a ping from the server is answered with a masked pong carrying the same payload, 0 to 125 bytes, while ReadMessage runs, and is not returned as a message (RFC 6455 §5.5.2, §5.5.3)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			r := e.reader(c)
			pings := [][]byte{[]byte("ping-1"), {}, payload(125, 3)}
			for i, p := range pings {
				if err := sc.Ping(p); err != nil {
					e.t.Fatalf("server Ping: %v", err)
				}
				probe := fmt.Appendf(nil, "after ping %d", i)
				serverSend(e, sc, sipserver.OpText, true, probe)
				if got := r.next(patience, fmt.Sprintf("%q", probe)); !bytes.Equal(got, probe) {
					e.t.Fatalf("ReadMessage after ping %d returned %q; want %q: pings are not messages", i, truncate(got), probe)
				}
				if !e.waitFor(s, settle, func() bool { return len(sc.Pongs()) > i }) {
					e.t.Fatalf("no pong for ping %d (%s) %v after the message behind it was returned; pongs so far %q", i, size(len(p)), settle, sc.Pongs())
				}
				if got := sc.Pongs()[i]; !bytes.Equal(got, p) {
					e.t.Errorf("pong %d: payload %s", i, differ(got, p))
				}
			}
			for _, f := range framesOf(sc, sipserver.OpPong) {
				if !f.Masked {
					e.t.Errorf("a pong went out unmasked; every client frame is masked (RFC 6455 §5.3)")
				}
			}
		},
	},
	{
		name: "Conn/PongNotDelivered",
		rule: must("an unsolicited pong from the server is skipped, not returned as a message and not answered (RFC 6455 §5.5.3)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			serverSend(e, sc, sipserver.OpPong, true, []byte("unsolicited"))
			serverSend(e, sc, sipserver.OpPong, true, nil)
			serverSend(e, sc, sipserver.OpText, true, []byte("after the pongs"))
			if got := e.read(c, `"after the pongs"`); string(got) != "after the pongs" {
				e.t.Errorf("ReadMessage after two pongs returned %q; want %q", truncate(got), "after the pongs")
			}
			if n := len(sc.Frames()); n != 0 {
				e.t.Errorf("the client sent %d frames in answer to pongs; want none", n)
			}
		},
	},
	{
		name: "Conn/ConcurrentReadWriteClose",
		rule: must("ReadMessage, WriteMessage and Close may run at the same time, again and again: all of them return, none panics, and there is no data race (dialer.Conn)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{}) // answers every OPTIONS
			for round := range 5 {
				c, _ := e.open(s, dialer.Options{})
				r := e.reader(c)
				stop := make(chan struct{})
				writer := start(e, "WriteMessage loop", func() error {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return nil
						default:
						}
						if err := c.WriteMessage([]byte(optionsRequest(i))); err != nil {
							return err
						}
					}
				})
				for range 20 {
					r.next(patience, "an answer to an OPTIONS")
				}
				var closers []*future[error]
				for range 2 {
					closers = append(closers, start(e, "Close(1000, \"\") during reads and writes", func() error {
						return c.Close(dialer.CloseNormalClosure, "")
					}))
				}
				for _, fu := range closers {
					fu.wait(patience)
				}
				if _, ok := writer.poll(settle); !ok {
					e.t.Fatalf("round %d: the WriteMessage loop still got no error %v after Close returned; want WriteMessage to fail once closed", round, settle)
				}
				if !r.wait(settle) {
					e.t.Errorf("round %d: ReadMessage still blocked %v after Close returned", round, settle)
				} else if _, ok := asCloseError(r.err); !ok {
					e.t.Errorf("round %d: ReadMessage ended with %v (%T); want a *dialer.CloseError", round, r.err, r.err)
				}
				close(stop)
				if e.t.Failed() {
					return
				}
			}
		},
	},
	{
		name: "Conn/NoGoroutineAfterClose",
		rule: must("a Conn starts no goroutine that outlives Close (dialer.Conn)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			r := e.reader(c)
			if err := sc.Ping([]byte("p")); err != nil {
				e.t.Fatalf("server Ping: %v", err)
			}
			serverSend(e, sc, sipserver.OpText, true, []byte("to the client"))
			r.next(patience, `"to the client"`)
			e.mustWrite(c, []byte("to the server"))
			e.received(s, sc, 1)
			e.close(c, dialer.CloseNormalClosure, "")
			if !r.wait(patience) {
				e.t.Fatalf("ReadMessage still blocked %v after Close returned", patience)
			}
			e.closeServers()
			e.noLeaks("after Close and the server's shutdown")
		},
	},
}

// silentServer starts a server that answers neither SIP requests nor
// CRLF keepalives, so that only what a case sends reaches the client.
func silentServer(e *env, o sipserver.Options) *sipserver.Server {
	e.t.Helper()
	s := e.server(o)
	s.SetAnswerSIP(false)
	s.SetAnswerPings(false)
	return s
}

// serverSend makes the server send one frame, failing the case on an error.
func serverSend(e *env, sc *sipserver.Conn, op sipserver.Opcode, fin bool, p []byte) {
	e.t.Helper()
	if err := sc.SendFrame(op, fin, p); err != nil {
		e.t.Fatalf("server SendFrame(%s, %s): %v", op, size(len(p)), err)
	}
}

// read calls ReadMessage once, bounded, and returns a copy of the message;
// an error fails the case. want describes the expected message.
func (e *env) read(c dialer.Conn, want string) []byte {
	e.t.Helper()
	return e.readWithin(c, patience, want)
}

// readWithin is read with the bound d.
func (e *env) readWithin(c dialer.Conn, d time.Duration, want string) []byte {
	e.t.Helper()
	type result struct {
		p   []byte
		err error
	}
	r := within(e, "ReadMessage", d, func() result {
		p, err := c.ReadMessage()
		return result{bytes.Clone(p), err}
	})
	if r.err != nil {
		e.t.Fatalf("ReadMessage: %v; want %s", r.err, want)
	}
	return r.p
}

// exchange checks that c carries a message each way.
func exchange(e *env, s *sipserver.Server, c dialer.Conn, sc *sipserver.Conn) {
	e.t.Helper()
	n := len(sc.Received())
	e.mustWrite(c, []byte("to the server"))
	if got := e.received(s, sc, n+1)[n]; string(got) != "to the server" {
		e.t.Errorf("the server received %q; want %q", got, "to the server")
	}
	serverSend(e, sc, sipserver.OpText, true, []byte("to the client"))
	if got := e.read(c, `"to the client"`); string(got) != "to the client" {
		e.t.Errorf("ReadMessage returned %q; want %q", got, "to the client")
	}
}

// truncate shortens p for a failure message.
func truncate(p []byte) string {
	if len(p) > 40 {
		return string(p[:40]) + "..."
	}
	return string(p)
}
