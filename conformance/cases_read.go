package conformance

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
)

// readCases check how a connection ends from the server's side: a close
// frame with every valid code and every invalid one, a stream that drops
// or resets, frames that break RFC 6455, and messages over the read limit;
// and that an ended connection stays ended.
var readCases = []testCase{
	{
		name: "Conn/ServerCloseCodeReported",
		rule: must("a close frame from the server makes ReadMessage return a *dialer.CloseError with its code and reason, over ws and wss, and the client answers with a close frame (RFC 6455 §5.5.1, §7.1.5; dialer.Conn.ReadMessage)"),
		run: func(e *env) {
			for _, tls := range []bool{false, true} {
				s := silentServer(e, sipserver.Options{TLS: tls})
				for _, tt := range []struct {
					code   int
					reason string
				}{{4000, "bye now"}, {dialer.CloseNormalClosure, ""}, {dialer.CloseGoingAway, "going away"}} {
					c, sc := e.open(s, dialer.Options{TLSConfig: s.ClientTLSConfig()})
					r := e.reader(c)
					if err := sc.CloseWith(tt.code, tt.reason); err != nil {
						e.t.Fatalf("server CloseWith: %v", err)
					}
					checkClose(e, r, patience, tt.code, tt.reason, nil)
					if _, _, ok := e.clientClose(s, sc, patience); !ok {
						e.t.Errorf("%s: after the server's close %d, the connection ended with no close frame from the client; want the client to answer it", s.URL(), tt.code)
					}
				}
			}
		},
	},
	{
		name: "Conn/EveryValidCloseCodeReported",
		rule: must("every close code valid on the wire is reported exactly as the server sent it, the ones registered after RFC 6455 included: 1000–1003, 1007–1014 (1012 Service Restart, 1013 Try Again Later, 1014 Bad Gateway), 3000–4999 (dialer.ValidCloseCode; RFC 6455 §7.4; IANA WebSocket Close Code Number Registry)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			codes := []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}
			for _, code := range codes {
				c, sc := e.open(s, dialer.Options{})
				r := e.reader(c)
				reason := fmt.Sprintf("reason %d", code)
				if err := sc.CloseWith(code, reason); err != nil {
					e.t.Fatalf("server CloseWith(%d): %v", code, err)
				}
				checkClose(e, r, patience, code, reason, nil)
			}
		},
	},
	{
		name: "Conn/CloseEchoesCode",
		rule: should("the close frame that answers the server's carries the server's code (none when the server's had none; 1014 too, past gorilla's own table), so that both ends agree on why the connection ended (RFC 6455 §5.5.1: \"typically echos the status code it received\")"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			for _, code := range []int{4000, dialer.CloseGoingAway, 1014, dialer.CloseNoStatus} {
				c, sc := e.open(s, dialer.Options{})
				r := e.reader(c)
				if err := sc.CloseWith(code, "why"); err != nil {
					e.t.Fatalf("server CloseWith: %v", err)
				}
				checkClose(e, r, patience, code, "", nil)
				if got, reason, ok := e.clientClose(s, sc, patience); !ok || got != code {
					e.t.Errorf("the client answered the server's close %d with %d %q (close frame sent: %v); want %d", code, got, reason, ok, code)
				}
			}
		},
	},
	{
		name: "Conn/EmptyCloseIs1005",
		rule: must("a close frame without a payload is reported as code 1005, no status received (RFC 6455 §7.1.5; dialer.CloseNoStatus)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			r := e.reader(c)
			if err := sc.CloseWith(dialer.CloseNoStatus, ""); err != nil {
				e.t.Fatalf("server CloseWith: %v", err)
			}
			checkClose(e, r, patience, dialer.CloseNoStatus, "", nil)
		},
	},
	{
		name: "Conn/MessageBeforeCloseDelivered",
		rule: must("every message the server sent before its close frame is returned first, then the close (dialer.Conn.ReadMessage; RFC 6455 §1.4)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			serverSendText(e, sc, "last words")
			serverSend(e, sc, sipserver.OpBinary, true, allBytes(5000))
			if err := sc.CloseWith(4000, "done"); err != nil {
				e.t.Fatalf("server CloseWith: %v", err)
			}
			r := e.reader(c)
			if got := r.next(patience, `"last words"`); string(got) != "last words" {
				e.t.Errorf("ReadMessage returned %q; want the message sent before the close", truncate(got))
			}
			if got := r.next(patience, "the 5000-byte message"); len(got) != 5000 {
				e.t.Errorf("ReadMessage returned %s; want the 5000 bytes sent before the close", size(len(got)))
			}
			checkClose(e, r, patience, 4000, "done", nil)
		},
	},
	{
		name: "Conn/WriteAfterServerCloseFails",
		rule: must("once the server's close frame has been read, WriteMessage returns an error: the connection is closed (dialer.Conn.WriteMessage; RFC 6455 §5.5.1: no data frame after a close frame)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			r := e.reader(c)
			if err := sc.CloseWith(4000, ""); err != nil {
				e.t.Fatalf("server CloseWith: %v", err)
			}
			checkClose(e, r, patience, 4000, "", nil)
			for i := range 2 {
				if err := e.write(c, []byte("too late")); err == nil {
					e.t.Errorf("WriteMessage %d after the server's close returned nil; want an error", i+1)
				}
			}
		},
	},
	{
		name: "Conn/ReadErrorPermanent",
		rule: must("once ReadMessage has returned an error, every later call returns an error at once, with the same close code and reason: after a close frame, a dropped stream, or Close (package dialer: \"Errors are permanent\")"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			for _, end := range []struct {
				what string
				do   func(c dialer.Conn, sc *sipserver.Conn)
			}{
				{"the server's close 4000", func(_ dialer.Conn, sc *sipserver.Conn) { sc.CloseWith(4000, "bye") }},
				{"a dropped stream", func(_ dialer.Conn, sc *sipserver.Conn) { sc.Drop() }},
				{"Close", func(c dialer.Conn, _ *sipserver.Conn) { e.close(c, dialer.CloseNormalClosure, "") }},
			} {
				c, sc := e.open(s, dialer.Options{})
				r := e.reader(c)
				end.do(c, sc)
				_, first := r.closed(patience, "an error after "+end.what, true)
				ce, ok := asCloseError(first)
				if !ok {
					e.t.Errorf("after %s, ReadMessage returned %v (%T); want a *dialer.CloseError", end.what, first, first)
					continue
				}
				for i := range 3 {
					again := within(e, "ReadMessage after it failed", settle, func() error {
						_, err := c.ReadMessage()
						return err
					})
					if ce2, ok := asCloseError(again); !ok || ce2.Code != ce.Code || ce2.Reason != ce.Reason {
						e.t.Errorf("after %s, ReadMessage call %d after the first error (%v) returned %v; want the same close code %d and reason %q", end.what, i+2, first, again, ce.Code, ce.Reason)
						break
					}
				}
			}
		},
	},
	{
		name: "Conn/DroppedTCPIs1006",
		rule: must("a TCP stream that ends without a close frame makes ReadMessage return a *dialer.CloseError with code 1006 at once, over ws and wss, and the client sends no close frame (RFC 6455 §7.1.5; dialer.CloseAbnormal)"),
		run: func(e *env) {
			for _, tls := range []bool{false, true} {
				s := silentServer(e, sipserver.Options{TLS: tls})
				c, sc := e.open(s, dialer.Options{TLSConfig: s.ClientTLSConfig()})
				r := e.reader(c)
				sc.Drop()
				checkClose(e, r, settle, dialer.CloseAbnormal, "", nil)
			}
		},
	},
	{
		name: "Conn/CutMidFrameIs1006",
		rule: must("a stream cut in the middle of a frame header, a payload, a control frame, or between the fragments of a message, is code 1006 at once, and delivers nothing of the message (RFC 6455 §7.1.5; dialer.CloseAbnormal)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			for _, cut := range []struct {
				what string
				send func(sc *sipserver.Conn) error
			}{
				{"inside a payload", func(sc *sipserver.Conn) error {
					if err := sc.SendHeader(sipserver.OpText, true, 100); err != nil {
						return err
					}
					return sc.SendRaw(payload(40, 1))
				}},
				{"inside a 16-bit length", func(sc *sipserver.Conn) error { return sc.SendRaw([]byte{0x81, 126, 0x01}) }},
				{"after the first header byte", func(sc *sipserver.Conn) error { return sc.SendRaw([]byte{0x81}) }},
				{"inside a ping's payload", func(sc *sipserver.Conn) error { return sc.SendRaw([]byte{0x89, 5, 'a'}) }},
				{"between fragments", func(sc *sipserver.Conn) error {
					return sc.SendFrame(sipserver.OpText, false, []byte("OPTIONS sip:alice@example.com "))
				}},
				{"inside a large fragment", func(sc *sipserver.Conn) error {
					if err := sc.SendFrame(sipserver.OpBinary, false, payload(5000, 2)); err != nil {
						return err
					}
					if err := sc.SendHeader(sipserver.OpContinuation, true, 20000); err != nil {
						return err
					}
					return sc.SendRaw(payload(7000, 3))
				}},
			} {
				c, sc := e.open(s, dialer.Options{})
				r := e.reader(c)
				if err := cut.send(sc); err != nil {
					e.t.Fatalf("server, %s: %v", cut.what, err)
				}
				sc.Drop()
				checkClose(e, r, settle, dialer.CloseAbnormal, "", nil)
				if e.t.Failed() {
					e.t.Fatalf("with the stream cut %s", cut.what)
				}
			}
		},
	},
	{
		name: "Conn/ResetIs1006",
		rule: must("a connection reset (TCP RST), between frames or in the middle of one, is code 1006 at once, and delivers nothing of the message it cut (RFC 6455 §7.1.5; dialer.CloseAbnormal)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			for _, mid := range []bool{false, true} {
				c, sc := e.open(s, dialer.Options{})
				r := e.reader(c)
				if mid {
					if err := sc.SendHeader(sipserver.OpText, true, 1000); err != nil {
						e.t.Fatalf("server SendHeader: %v", err)
					}
					if err := sc.SendRaw(payload(600, 1)); err != nil {
						e.t.Fatalf("server SendRaw: %v", err)
					}
				}
				sc.Reset()
				checkClose(e, r, settle, dialer.CloseAbnormal, "", nil)
			}
		},
	},
	protocolCase("Conn/MaskedServerFrameFails",
		must("a masked frame from the server fails the connection: ReadMessage returns a *dialer.CloseError and no message, and the socket is closed (RFC 6455 §5.1: \"A client MUST close a connection if it detects a masked frame\")"),
		streamMasked,
	),
	protocolCase("Conn/RSVBitsFail",
		must("a frame with any RSV bit set fails the connection, since no extension was negotiated: a *dialer.CloseError, no message, the socket closed (RFC 6455 §5.2)"),
		streamsRSV...,
	),
	protocolCase("Conn/ReservedOpcodeFails",
		must("a frame with a reserved opcode, data (0x3–0x7) or control (0xB–0xF), fails the connection: a *dialer.CloseError, no message, the socket closed (RFC 6455 §5.2)"),
		streamsReservedOpcode...,
	),
	protocolCase("Conn/UnexpectedContinuationFails",
		must("a continuation frame with no message to continue, and a new data frame in the middle of a fragmented message, fail the connection: a *dialer.CloseError, no message, the socket closed (RFC 6455 §5.4)"),
		streamsContinuation...,
	),
	protocolCase("Conn/FragmentedControlFrameFails",
		must("a control frame without FIN fails the connection, control frames are never fragmented: a *dialer.CloseError, no message, the socket closed (RFC 6455 §5.5)"),
		streamsFragmentedControl...,
	),
	protocolCase("Conn/LongControlFrameFails",
		must("a control frame whose payload is over 125 bytes fails the connection: a *dialer.CloseError, no message, the socket closed (RFC 6455 §5.5)"),
		streamsLongControl...,
	),
	protocolCase("Conn/BadCloseCodeFails",
		must("a close frame with a one-byte payload, or a code not valid on the wire (1004, 1005, 1006, 1015, 0–999, 1016–2999, 5000 and up), fails the connection and is not reported as that code (dialer.ParseCloseBody; RFC 6455 §5.5.1, §7.4)"),
		streamsBadCloseCode...,
	),
	protocolCase("Conn/BadCloseReasonFails",
		must("a close frame whose reason is not valid UTF-8 fails the connection and is not reported as a close with that reason; the socket is closed (dialer.ParseCloseBody; RFC 6455 §5.5.1, §8.1)"),
		streamsBadCloseReason...,
	),
	protocolCase("Conn/LengthTopBitFails",
		must("a frame whose 64-bit length has its most significant bit set fails the connection: a *dialer.CloseError, no message, the socket closed (RFC 6455 §5.2: \"the most significant bit MUST be 0\")"),
		streamLengthTopBit,
	),
	{
		name: "Conn/ProtocolErrorsCloseWithCode",
		rule: should("a connection failed for a protocol error reports, and sends in its close frame, the code that says why: 1002 for a masked frame, RSV bits, a reserved opcode, a bad fragment sequence or control frame, a bad close code, 1007 for a close reason that is not UTF-8, 1002 or 1009 for a length with its top bit set, so that both logs tell what went wrong (RFC 6455 §7.1.7: \"SHOULD send a Close frame with an appropriate status code\", §7.4.1)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			for _, tt := range protocolStreams() {
				c, sc := e.open(s, dialer.Options{})
				r := e.reader(c)
				if err := sc.SendRaw(tt.stream); err != nil {
					e.t.Fatalf("server SendRaw(% x): %v", tt.stream, err)
				}
				_, err := r.closed(patience, fmt.Sprintf("a *dialer.CloseError with code %d", tt.codes[0]), true)
				ce, ok := asCloseError(err)
				if !ok || !slices.Contains(tt.codes, ce.Code) {
					e.t.Errorf("after the server sent % x, ReadMessage returned %v; want a *dialer.CloseError with code %v", truncateBytes(tt.stream), err, tt.codes)
					continue
				}
				if got, reason, ok := e.clientClose(s, sc, patience); !ok || got != ce.Code {
					e.t.Errorf("after the server sent % x, the client sent close %d %q (close frame sent: %v); want close %d, the code it reported",
						truncateBytes(tt.stream), got, reason, ok, ce.Code)
				}
			}
		},
	},
	{
		name: "Conn/MaxMessageSizeAccepted",
		rule: must("a message of exactly Options.MaxMessageSize bytes is accepted, in one frame or in fragments: only a larger one is refused (dialer.Options)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{MaxMessageSize: smallLimit})
			whole := payload(smallLimit, 1)
			serverSend(e, sc, sipserver.OpText, true, whole)
			if got := e.read(c, "a message of exactly the limit"); string(got) != string(whole) {
				e.t.Errorf("a message of exactly MaxMessageSize %d in one frame: ReadMessage %s", smallLimit, differ(got, whole))
			}
			parts := payload(smallLimit, 2)
			serverSend(e, sc, sipserver.OpText, false, parts[:400])
			serverSend(e, sc, sipserver.OpContinuation, false, parts[400:800])
			serverSend(e, sc, sipserver.OpContinuation, true, parts[800:])
			if got := e.read(c, "a fragmented message of exactly the limit"); string(got) != string(parts) {
				e.t.Errorf("a message of exactly MaxMessageSize %d in three fragments: ReadMessage %s", smallLimit, differ(got, parts))
			}
		},
	},
	{
		name: "Conn/ReadLimitCloses1009",
		rule: must("a message above Options.MaxMessageSize closes the connection with 1009, and ReadMessage returns a *dialer.CloseError with code 1009 wrapping dialer.ErrMessageTooLarge (dialer.Options; RFC 6455 §7.4.1)"),
		run: tooLarge(smallLimit, patience, func(e *env, sc *sipserver.Conn) {
			serverSend(e, sc, sipserver.OpText, true, payload(smallLimit+1, 1))
		}),
	},
	{
		name: "Conn/DefaultReadLimitIs64KiB",
		rule: must("with MaxMessageSize zero the limit is 64 KiB: a message one byte above closes with 1009 (dialer.DefaultMaxMessageSize)"),
		run: tooLarge(0, patience, func(e *env, sc *sipserver.Conn) {
			serverSend(e, sc, sipserver.OpBinary, true, allBytes(dialer.DefaultMaxMessageSize+1))
		}),
	},
	{
		name: "Conn/ReadLimitBeforePayload",
		rule: should("an oversized message is refused as soon as its frame header announces it, before its payload arrives, so that a server cannot make the client wait for, or buffer, what it will refuse (package dialer: \"before it reads the payload where its library allows\")"),
		run: tooLarge(smallLimit, settle, func(e *env, sc *sipserver.Conn) {
			if err := sc.SendHeader(sipserver.OpBinary, true, 1<<20); err != nil { // and never the payload
				e.t.Fatalf("server SendHeader: %v", err)
			}
		}),
	},
	{
		name: "Conn/ReadLimitCountsFragments",
		rule: must("the limit is on the whole message: fragments each under it but together above it close with 1009 (dialer.Options; RFC 6455 §5.4)"),
		run: tooLarge(smallLimit, patience, func(e *env, sc *sipserver.Conn) {
			serverSend(e, sc, sipserver.OpText, false, payload(400, 1))
			serverSend(e, sc, sipserver.OpContinuation, false, payload(400, 2))
			// The client may close before this one: the write may then fail.
			sc.SendFrame(sipserver.OpContinuation, true, payload(400, 3))
		}),
	},
	{
		name: "Conn/ReadLimitHugeContinuation",
		rule: should("a continuation announcing the largest 64-bit length after a fragment closes with 1009 from its header: the running total does not overflow past the limit, and the client does not wait for what it will refuse (dialer.Options; ReadLimitBeforePayload's rule)"),
		run: tooLarge(smallLimit, settle, func(e *env, sc *sipserver.Conn) {
			serverSend(e, sc, sipserver.OpText, false, payload(10, 1))
			if err := sc.SendHeader(sipserver.OpContinuation, true, 1<<63-1); err != nil { // and never the payload
				e.t.Fatalf("server SendHeader: %v", err)
			}
		}),
	},
}

// tooLarge is the body of a read-limit case: with MaxMessageSize limit
// (0 for the default) the server sends what send sends, and within d the
// client must close with 1009, reporting it wrapping
// dialer.ErrMessageTooLarge and sending it to the server.
func tooLarge(limit int64, d time.Duration, send func(e *env, sc *sipserver.Conn)) func(e *env) {
	return func(e *env) {
		s := silentServer(e, sipserver.Options{})
		c, sc := e.open(s, dialer.Options{MaxMessageSize: limit})
		r := e.reader(c)
		send(e, sc)
		checkClose(e, r, d, dialer.CloseMessageTooBig, "", dialer.ErrMessageTooLarge)
		checkServerSawClose(e, s, sc, dialer.CloseMessageTooBig)
	}
}

// closeFrame returns a final close frame from the server with payload p.
func closeFrame(p ...byte) []byte {
	return append([]byte{0x88, byte(len(p))}, p...)
}

// The streams that break RFC 6455, each sent on a connection of its own.
var (
	streamMasked             = []byte{0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}
	streamsRSV               = [][]byte{{0xc1, 1, 'a'}, {0xa1, 1, 'a'}, {0x91, 1, 'a'}}
	streamsReservedOpcode    = [][]byte{{0x83, 0}, {0x87, 1, 'a'}, {0x8b, 0}, {0x8f, 0}}
	streamsContinuation      = [][]byte{{0x80, 1, 'a'}, {0x01, 1, 'a', 0x81, 1, 'b'}}
	streamsFragmentedControl = [][]byte{{0x09, 0}, {0x08, 2, 0x03, 0xe8}}
	streamsLongControl       = [][]byte{append([]byte{0x89, 126, 0, 126}, make([]byte, 126)...), append([]byte{0x8a, 126, 0, 200}, make([]byte, 200)...)}
	streamsBadCloseCode      = [][]byte{closeFrame(3), closeFrame(0x03, 0xec), closeFrame(0x03, 0xed), closeFrame(0x03, 0xee), closeFrame(0x03, 0xf7),
		closeFrame(0x03, 0xe7), closeFrame(0, 0), closeFrame(0x0b, 0xb7), closeFrame(0x13, 0x88), closeFrame(0xff, 0xff)}
	streamsBadCloseReason = [][]byte{closeFrame(0x03, 0xe8, 0xff, 0xfe), closeFrame(0x0f, 0xa0, 'c', 'a', 'f', 0xc3)}
	streamLengthTopBit    = []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}
)

// protocolStream is a stream that breaks RFC 6455, with the codes a client
// should fail the connection with.
type protocolStream struct {
	stream []byte
	codes  []int
}

func protocolStreams() []protocolStream {
	var out []protocolStream
	add := func(codes []int, streams ...[]byte) {
		for _, st := range streams {
			out = append(out, protocolStream{st, codes})
		}
	}
	p := []int{dialer.CloseProtocolError}
	add(p, streamMasked)
	add(p, streamsRSV...)
	add(p, streamsReservedOpcode...)
	add(p, streamsContinuation...)
	add(p, streamsFragmentedControl...)
	add(p, streamsLongControl...)
	add(p, streamsBadCloseCode...)
	add([]int{dialer.CloseInvalidPayload}, streamsBadCloseReason...)
	add([]int{dialer.CloseProtocolError, dialer.CloseMessageTooBig}, streamLengthTopBit)
	return out
}

// protocolCase is a case in which the server sends each of streams on a
// connection of its own, each breaking RFC 6455, and the connection must
// fail: ReadMessage returns a *dialer.CloseError (not the valid close the
// stream could pass for) and no message, and the client closes the socket.
// Which code it reports and sends is Conn/ProtocolErrorsCloseWithCode's.
func protocolCase(name string, r rule, streams ...[]byte) testCase {
	return testCase{name: name, rule: r, run: func(e *env) {
		s := silentServer(e, sipserver.Options{})
		for _, stream := range streams {
			c, sc := e.open(s, dialer.Options{})
			r := e.reader(c)
			// A message behind the bad frame: a client that lets the frame
			// pass reads it, and the case fails at once.
			if err := sc.SendRaw(append(bytes.Clone(stream), 0x81, 5, 'p', 'r', 'o', 'b', 'e')); err != nil {
				e.t.Fatalf("server SendRaw(% x): %v", stream, err)
			}
			_, err := r.closed(patience, "a *dialer.CloseError failing the connection", true)
			ce, ok := asCloseError(err)
			switch {
			case !ok:
				e.t.Errorf("after the server sent % x, ReadMessage returned %v (%T); want a *dialer.CloseError", truncateBytes(stream), err, err)
				continue
			case stream[0] == 0x88 && len(stream) >= 4 && ce.Code != dialer.CloseAbnormal &&
				ce.Code == int(binary.BigEndian.Uint16(stream[2:])) && ce.Reason == string(stream[4:]):
				// (1006 on the wire reads like the failed connection it is.)
				e.t.Errorf("after the server sent the close frame % x, ReadMessage reported it as a valid close (%v); want the connection failed", truncateBytes(stream), err)
			}
			if !waitClosed(sc.Done(), patience) {
				e.t.Errorf("after the server sent % x, the connection is still open %v later; want the client to close it", truncateBytes(stream), patience)
			}
		}
	}}
}

func truncateBytes(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

// asCloseError returns the *dialer.CloseError in err's chain.
func asCloseError(err error) (*dialer.CloseError, bool) {
	var ce *dialer.CloseError
	ok := errors.As(err, &ce)
	return ce, ok
}

// checkClose waits at most d for r's loop to end and checks that it ended
// with a *dialer.CloseError with code and reason (reason "" is not checked
// for 1006 and 1009, whose reason is the backend's), wrapping cause if not
// nil, and that no message came before: a message fails the case at once.
func checkClose(e *env, r *reader, d time.Duration, code int, reason string, cause error) {
	e.t.Helper()
	_, err := r.closed(d, fmt.Sprintf("a *dialer.CloseError with code %d", code), true)
	ce, ok := asCloseError(err)
	switch {
	case !ok:
		e.t.Errorf("ReadMessage returned error %v (%T); want a *dialer.CloseError with code %d", err, err, code)
	case ce.Code != code:
		e.t.Errorf("ReadMessage returned close code %d (%v); want %d", ce.Code, err, code)
	case code != dialer.CloseAbnormal && code != dialer.CloseMessageTooBig && reason != "" && ce.Reason != reason:
		e.t.Errorf("ReadMessage returned close reason %q; want %q", ce.Reason, reason)
	case cause != nil && !errors.Is(err, cause):
		e.t.Errorf("ReadMessage returned %v; want an error wrapping %v", err, cause)
	}
}

// checkServerSawClose checks that the client sent a close frame with code.
func checkServerSawClose(e *env, s *sipserver.Server, sc *sipserver.Conn, code int) {
	e.t.Helper()
	got, reason, ok := e.clientClose(s, sc, patience)
	switch {
	case !ok:
		e.t.Errorf("the connection ended without a close frame from the client; want close %d", code)
	case got != code:
		e.t.Errorf("the server got close %d %q from the client; want %d", got, reason, code)
	}
}

// serverSendText makes the server send msg as one text message.
func serverSendText(e *env, sc *sipserver.Conn, msg string) {
	e.t.Helper()
	if err := sc.Send([]byte(msg)); err != nil {
		e.t.Fatalf("server Send(%q): %v", msg, err)
	}
}
