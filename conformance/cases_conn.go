package conformance

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
)

// smallLimit is the Options.MaxMessageSize of the read-limit cases.
const smallLimit = 1000

// connCases check one open connection: messages both ways, frames and
// opcodes, control frames, the ways a connection ends, the read limit,
// and the concurrency contract of dialer.Conn.
var connCases = []testCase{
	{
		name: "Conn/WholeMessageBothWays",
		rule: "a message is one WebSocket message both ways, byte for byte, at 1 byte, 700 bytes and the default max message size exactly (dialer.Conn; RFC 7118 §5.2)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			for i, n := range []int{1, 700, dialer.DefaultMaxMessageSize} {
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
		name: "Conn/MaxMessageSizeAccepted",
		rule: "a message of exactly Options.MaxMessageSize bytes is accepted, in one frame or in fragments: only a larger one is refused (dialer.Options)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{MaxMessageSize: smallLimit})
			whole := payload(smallLimit, 1)
			serverSend(e, sc, sipserver.OpText, true, whole)
			if got := e.read(c, "a message of exactly the limit"); !bytes.Equal(got, whole) {
				e.t.Errorf("a message of exactly MaxMessageSize %d in one frame: ReadMessage %s", smallLimit, differ(got, whole))
			}
			parts := payload(smallLimit, 2)
			serverSend(e, sc, sipserver.OpText, false, parts[:400])
			serverSend(e, sc, sipserver.OpContinuation, false, parts[400:800])
			serverSend(e, sc, sipserver.OpContinuation, true, parts[800:])
			if got := e.read(c, "a fragmented message of exactly the limit"); !bytes.Equal(got, parts) {
				e.t.Errorf("a message of exactly MaxMessageSize %d in three fragments: ReadMessage %s", smallLimit, differ(got, parts))
			}
		},
	},
	{
		name: "Conn/TextFrameForUTF8",
		rule: "a message that is valid UTF-8 goes out as a text frame (RFC 7118 §5.2; dialer.Conn.WriteMessage, dialer.IsText)",
		run: func(e *env) {
			writeOpcodes(e, sipserver.OpText, [][]byte{
				[]byte(optionsRequest(1)),
				[]byte("MESSAGE sip:bob@example.com SIP/2.0\r\n\r\nhéllo wörld € 𝄞"),
				[]byte("\r\n\r\n"),
			})
		},
	},
	{
		name: "Conn/BinaryFrameOtherwise",
		rule: "a message that is not valid UTF-8 goes out as a binary frame (RFC 7118 §5.2; dialer.Conn.WriteMessage, dialer.IsText)",
		run: func(e *env) {
			writeOpcodes(e, sipserver.OpBinary, [][]byte{
				{0xff, 0xfe, 0xfd, 0x00},
				[]byte("INVITE sip:bob@example.com SIP/2.0\r\n\r\n\xe2\x82"), // a character cut in half
				[]byte("\xc0\xaf"),                                           // an overlong encoding
				allBytes(300),
			})
		},
	},
	{
		name: "Conn/OneFramePerMessage",
		rule: "WriteMessage sends a message of up to 64 KiB (the size SIP servers accept) as one final frame, and a larger one as one message, in one frame or fragments of it (dialer.Conn.WriteMessage; RFC 7118 §5.2; RFC 6455 §5.4)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			oneFrame := [][]byte{payload(1, 1), payload(700, 2), payload(10<<10, 3), payload(dialer.DefaultMaxMessageSize, 4)}
			large := [][]byte{payload(100<<10, 5), allBytes(100 << 10)}
			msgs := append(append([][]byte(nil), oneFrame...), large...)
			for _, p := range msgs {
				e.mustWrite(c, p)
			}
			got := e.received(s, sc, len(msgs))
			for i, p := range msgs {
				if i < len(got) && !bytes.Equal(got[i], p) {
					e.t.Errorf("message %d (%s) arrived as %s of other bytes; want it whole", i, size(len(p)), size(len(got[i])))
				}
			}
			var data []sipserver.Frame
			for _, f := range sc.Frames() {
				if !f.Op.IsControl() {
					data = append(data, f)
				}
			}
			for i, p := range oneFrame {
				if i >= len(data) {
					e.t.Fatalf("%d data frames for %d messages", len(data), len(msgs))
				}
				if f := data[i]; !f.Fin || f.Op == sipserver.OpContinuation || !bytes.Equal(f.Payload, p) {
					e.t.Errorf("message %d (%s) went out as a %s frame, FIN %v, holding %s; want one final frame holding it",
						i, size(len(p)), opName(f.Op), f.Fin, size(len(f.Payload)))
				}
			}
		},
	},
	{
		name: "Conn/ServerTextAndBinaryDelivered",
		rule: "text and binary messages from the server are both delivered, as they are (RFC 7118 §5.2; SPEC.md \"Receiving\")",
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
				if got := e.read(c, "the "+opName(m.op)+" message"); !bytes.Equal(got, m.p) {
					e.t.Errorf("a %s message of %s from the server: ReadMessage %s", opName(m.op), size(len(m.p)), differ(got, m.p))
				}
			}
		},
	},
	{
		name: "Conn/FragmentedReassembled",
		rule: "a fragmented message from the server is returned whole, with a ping between its fragments answered on the way (RFC 6455 §5.4, §5.5.2; dialer.Conn.ReadMessage)",
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
			if !e.waitFor(s, patience, func() bool { return len(sc.Pongs()) >= 1 }) {
				e.t.Errorf("no pong within %v for the ping sent between fragments", patience)
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
		},
	},
	{
		name: "Conn/PingAnsweredWithPong",
		rule: "a ping from the server is answered with a pong carrying the same payload while ReadMessage runs, and is not returned as a message (RFC 6455 §5.5.2, §5.5.3)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			r := e.reader(c)
			pings := [][]byte{[]byte("ping-1"), {}, payload(125, 3)}
			for i, p := range pings {
				if err := sc.Ping(p); err != nil {
					e.t.Fatalf("server Ping: %v", err)
				}
				if !e.waitFor(s, patience, func() bool { return len(sc.Pongs()) > i }) {
					e.t.Fatalf("no pong within %v for ping %d (%s); pongs so far %q", patience, i, size(len(p)), sc.Pongs())
				}
				if got := sc.Pongs()[i]; !bytes.Equal(got, p) {
					e.t.Errorf("pong %d: payload %s", i, differ(got, p))
				}
			}
			serverSend(e, sc, sipserver.OpText, true, []byte("after the pings"))
			if got := r.next(patience, `"after the pings"`); string(got) != "after the pings" {
				e.t.Errorf("ReadMessage after the pings returned %q; want %q: pings are not messages", got, "after the pings")
			}
		},
	},
	{
		name: "Conn/ServerCloseCodeReported",
		rule: "a close frame from the server makes ReadMessage return a *dialer.CloseError with its code and reason, and the client answers with a close frame (RFC 6455 §5.5.1, §7.1.5; dialer.Conn.ReadMessage)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			for _, tt := range []struct {
				code   int
				reason string
			}{{4000, "bye now"}, {dialer.CloseNormalClosure, ""}, {dialer.CloseGoingAway, "going away"}} {
				c, sc := e.open(s, dialer.Options{})
				r := e.reader(c)
				if err := sc.CloseWith(tt.code, tt.reason); err != nil {
					e.t.Fatalf("server CloseWith: %v", err)
				}
				checkClose(e, r, tt.code, tt.reason, nil)
				if !e.waitFor(s, patience, func() bool { _, _, ok := sc.CloseReceived(); return ok }) {
					e.t.Errorf("after the server's close %d, no close frame from the client within %v; want the client to answer it", tt.code, patience)
				}
			}
		},
	},
	{
		name: "Conn/EmptyCloseIs1005",
		rule: "a close frame without a payload is reported as code 1005, no status received (RFC 6455 §7.1.5; dialer.CloseNoStatus)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			r := e.reader(c)
			if err := sc.CloseWith(dialer.CloseNoStatus, ""); err != nil {
				e.t.Fatalf("server CloseWith: %v", err)
			}
			checkClose(e, r, dialer.CloseNoStatus, "", nil)
		},
	},
	{
		name: "Conn/DroppedTCPIs1006",
		rule: "a TCP stream that ends without a close frame makes ReadMessage return a *dialer.CloseError with code 1006, over ws and wss (RFC 6455 §7.1.5; dialer.CloseAbnormal)",
		run: func(e *env) {
			for _, tls := range []bool{false, true} {
				s := silentServer(e, sipserver.Options{TLS: tls})
				c, sc := e.open(s, dialer.Options{TLSConfig: s.ClientTLSConfig()})
				r := e.reader(c)
				sc.Drop()
				checkClose(e, r, dialer.CloseAbnormal, "", nil)
			}
		},
	},
	{
		name: "Conn/CutMidFrameIs1006",
		rule: "a stream cut in the middle of a frame, or between the fragments of a message, is code 1006 and delivers nothing of the message (RFC 6455 §7.1.5; dialer.CloseAbnormal)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			r := e.reader(c)
			if err := sc.SendHeader(sipserver.OpText, true, 100); err != nil {
				e.t.Fatalf("server SendHeader: %v", err)
			}
			if err := sc.SendRaw(payload(40, 1)); err != nil {
				e.t.Fatalf("server SendRaw: %v", err)
			}
			sc.Drop()
			checkClose(e, r, dialer.CloseAbnormal, "", nil)

			c, sc = e.open(s, dialer.Options{})
			r = e.reader(c)
			serverSend(e, sc, sipserver.OpText, false, []byte("OPTIONS sip:alice@example.com "))
			sc.Drop()
			checkClose(e, r, dialer.CloseAbnormal, "", nil)
		},
	},
	{
		name: "Conn/ReadLimitCloses1009",
		rule: "a message above Options.MaxMessageSize closes the connection with 1009, and ReadMessage returns a *dialer.CloseError with code 1009 wrapping dialer.ErrMessageTooLarge (dialer.Options; RFC 6455 §7.4.1)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{MaxMessageSize: smallLimit})
			r := e.reader(c)
			serverSend(e, sc, sipserver.OpText, true, payload(smallLimit+1, 1))
			checkClose(e, r, dialer.CloseMessageTooBig, "", dialer.ErrMessageTooLarge)
			checkServerSawClose(e, s, sc, dialer.CloseMessageTooBig)
		},
	},
	{
		name: "Conn/ReadLimitBeforePayload",
		rule: "an oversized message is refused as soon as its frame header announces it, before its payload arrives (package dialer: \"refuses a message larger than Options.MaxMessageSize by closing with 1009 before it reads the payload\")",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{MaxMessageSize: smallLimit})
			r := e.reader(c)
			if err := sc.SendHeader(sipserver.OpBinary, true, 1<<20); err != nil { // and never the payload
				e.t.Fatalf("server SendHeader: %v", err)
			}
			checkClose(e, r, dialer.CloseMessageTooBig, "", dialer.ErrMessageTooLarge)
			checkServerSawClose(e, s, sc, dialer.CloseMessageTooBig)
		},
	},
	{
		name: "Conn/ReadLimitCountsFragments",
		rule: "the limit is on the whole message: fragments each under it but together above it close with 1009 (dialer.Options; RFC 6455 §5.4)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{MaxMessageSize: smallLimit})
			r := e.reader(c)
			serverSend(e, sc, sipserver.OpText, false, payload(400, 1))
			serverSend(e, sc, sipserver.OpContinuation, false, payload(400, 2))
			// The client may close before this one: the write may then fail.
			sc.SendFrame(sipserver.OpContinuation, true, payload(400, 3))
			checkClose(e, r, dialer.CloseMessageTooBig, "", dialer.ErrMessageTooLarge)
			checkServerSawClose(e, s, sc, dialer.CloseMessageTooBig)
		},
	},
	{
		name: "Conn/CloseSendsCodeAndReason",
		rule: "Close(code, reason) sends a close frame with that code and reason (dialer.Conn.Close; RFC 6455 §5.5.1)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			for _, tt := range []struct {
				code   int
				reason string
			}{{4001, "done here"}, {dialer.CloseNormalClosure, ""}, {dialer.CloseGoingAway, "keepalive pong timeout"}} {
				c, sc := e.open(s, dialer.Options{})
				e.close(c, tt.code, tt.reason)
				if !e.waitFor(s, patience, func() bool { _, _, ok := sc.CloseReceived(); return ok }) {
					e.t.Fatalf("Close(%d, %q): the server got no close frame within %v", tt.code, tt.reason, patience)
				}
				if code, reason, _ := sc.CloseReceived(); code != tt.code || reason != tt.reason {
					e.t.Errorf("Close(%d, %q): the server got close %d %q; want %d %q", tt.code, tt.reason, code, reason, tt.code, tt.reason)
				}
			}
		},
	},
	{
		name: "Conn/CloseUnblocksRead",
		rule: "Close unblocks a ReadMessage in progress, which returns an error promptly (dialer.Conn.Close, dialer.Conn.ReadMessage)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, _ := e.open(s, dialer.Options{})
			r := e.reader(c)
			e.close(c, dialer.CloseNormalClosure, "")
			if !r.wait(patience) {
				e.t.Fatalf("ReadMessage still blocked %v after Close returned; want it to return an error promptly", patience)
			}
			if r.err == nil {
				e.t.Errorf("ReadMessage after Close returned a nil error")
			}
		},
	},
	{
		name: "Conn/CloseIdempotentConcurrent",
		rule: "Close may be called many times, from many goroutines at once: none panics, each returns, and the close frame goes out (dialer.Conn.Close: idempotent)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			gate := make(chan struct{})
			var closes []*future[error]
			for range 8 {
				closes = append(closes, start(e, "concurrent Close(1000, \"\")", func() error {
					<-gate
					return c.Close(dialer.CloseNormalClosure, "")
				}))
			}
			close(gate)
			for _, fu := range closes {
				fu.wait(patience)
			}
			e.close(c, dialer.CloseNormalClosure, "")
			e.close(c, 4000, "again")
			if !e.waitFor(s, patience, func() bool { _, _, ok := sc.CloseReceived(); return ok }) {
				e.t.Errorf("after concurrent Close calls, the server got no close frame within %v", patience)
			} else if code, _, _ := sc.CloseReceived(); code != dialer.CloseNormalClosure {
				e.t.Errorf("after concurrent Close(1000) calls, the server got close %d; want 1000", code)
			}
		},
	},
	{
		name: "Conn/WriteAfterCloseFails",
		rule: "WriteMessage after Close returns an error, never nil, and does not panic (dialer.Conn.WriteMessage: nil only once the frame is written)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, _ := e.open(s, dialer.Options{})
			e.close(c, dialer.CloseNormalClosure, "")
			for i := range 2 {
				if err := e.write(c, []byte(optionsRequest(i))); err == nil {
					e.t.Errorf("WriteMessage %d after Close returned nil; want an error", i+1)
				}
			}
		},
	},
	{
		name: "Conn/WriteDoesNotModifyInput",
		rule: "WriteMessage does not modify p, not even for a moment: client masking happens in another buffer (RFC 6455 §5.3; dialer.Conn.WriteMessage; SPEC.md \"Sending\")",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			msgs := [][]byte{payload(700, 1), allBytes(300), payload(100<<10, 2)}
			for i, p := range msgs {
				orig := bytes.Clone(p)
				e.mustWrite(c, p)
				if !bytes.Equal(p, orig) {
					e.t.Errorf("WriteMessage(%s) modified its argument: %s", size(len(p)), differ(p, orig))
				}
				if got := e.received(s, sc, i+1)[i]; !bytes.Equal(got, orig) {
					e.t.Errorf("message %d: the server received %s", i, differ(got, orig))
				}
			}
		},
	},
	{
		name: "Conn/WriteDoesNotRetainInput",
		rule: "WriteMessage has written p when it returns and keeps no reference to it: changing p afterwards changes nothing on the wire (dialer.Conn.WriteMessage)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			p := payload(700, 1)
			orig := bytes.Clone(p)
			e.mustWrite(c, p)
			for i := range p {
				p[i] = 'X'
			}
			second := []byte("second message")
			e.mustWrite(c, second)
			got := e.received(s, sc, 2)
			if !bytes.Equal(got[0], orig) {
				e.t.Errorf("after the caller overwrote p, the server received %s", differ(got[0], orig))
			}
			if !bytes.Equal(got[1], second) {
				e.t.Errorf("second message: the server received %s", differ(got[1], second))
			}
		},
	},
	{
		name: "Conn/FramesMasked",
		rule: "every frame the client sends is masked, the close frame included (RFC 6455 §5.1, §5.3)",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			for i := range 3 {
				e.mustWrite(c, payload(100, byte(i)))
			}
			e.close(c, dialer.CloseNormalClosure, "")
			if !e.waitFor(s, patience, func() bool { _, _, ok := sc.CloseReceived(); return ok }) {
				e.t.Errorf("the server got no close frame within %v of Close", patience)
			}
			frames := sc.Frames()
			if len(frames) < 3 {
				e.t.Fatalf("the server got %d frames; want at least 3", len(frames))
			}
			for i, f := range frames {
				if !f.Masked {
					e.t.Errorf("frame %d (%s, %s) is not masked", i, opName(f.Op), size(len(f.Payload)))
				}
			}
		},
	},
	{
		name: "Conn/FreshMaskKeyPerFrame",
		rule: "every frame gets a fresh, unpredictable masking key: 50 frames, 50 different keys (RFC 6455 §5.3; SPEC.md \"Sending\")",
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			const n = 50
			for i := range n {
				e.mustWrite(c, fmt.Appendf(nil, "message %02d", i))
			}
			e.received(s, sc, n)
			seen := make(map[[4]byte]int)
			for _, f := range sc.Frames() {
				seen[f.Key]++
			}
			if len(seen) != n {
				var repeated []string
				for k, count := range seen {
					if count > 1 {
						repeated = append(repeated, fmt.Sprintf("%x used %d times", k, count))
					}
				}
				e.t.Errorf("%d frames used %d different mask keys (%v); want %d", n, len(seen), repeated, n)
			}
		},
	},
	{
		name: "Conn/ConcurrentReadWriteClose",
		rule: "ReadMessage, WriteMessage and Close may run at the same time: all of them return, none panics, and there is no data race (dialer.Conn)",
		run: func(e *env) {
			s := e.server(sipserver.Options{}) // answers every OPTIONS
			c, _ := e.open(s, dialer.Options{})
			r := e.reader(c)
			stop := make(chan struct{})
			defer close(stop)
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
			closer := start(e, "Close(1000, \"\") during reads and writes", func() error {
				return c.Close(dialer.CloseNormalClosure, "")
			})
			closer.wait(patience)
			if _, ok := writer.poll(patience); !ok {
				e.t.Errorf("the WriteMessage loop still got no error %v after Close returned; want WriteMessage to fail once closed", patience)
			}
			if !r.wait(patience) {
				e.t.Errorf("ReadMessage still blocked %v after Close returned", patience)
			}
		},
	},
	{
		name: "Conn/NoGoroutineAfterClose",
		rule: "a Conn starts no goroutine that outlives Close (dialer.Conn)",
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
		e.t.Fatalf("server SendFrame(%s, %s): %v", opName(op), size(len(p)), err)
	}
}

// received waits until sc has received n messages and returns them.
func (e *env) received(s *sipserver.Server, sc *sipserver.Conn, n int) [][]byte {
	e.t.Helper()
	if !e.waitFor(s, patience, func() bool { return len(sc.Received()) >= n }) {
		e.t.Fatalf("the server received %d messages within %v; want %d", len(sc.Received()), patience, n)
	}
	return sc.Received()
}

// read calls ReadMessage once, bounded, and returns a copy of the message;
// an error fails the case. want describes the expected message.
func (e *env) read(c dialer.Conn, want string) []byte {
	e.t.Helper()
	type result struct {
		p   []byte
		err error
	}
	r := within(e, "ReadMessage", patience, func() result {
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

// writeOpcodes writes msgs and checks that each went out as one frame
// with opcode op.
func writeOpcodes(e *env, op sipserver.Opcode, msgs [][]byte) {
	e.t.Helper()
	s := silentServer(e, sipserver.Options{})
	c, sc := e.open(s, dialer.Options{})
	for _, p := range msgs {
		e.mustWrite(c, p)
	}
	e.received(s, sc, len(msgs))
	frames := sc.Frames()
	for i, p := range msgs {
		if i >= len(frames) {
			e.t.Errorf("message %d: no frame", i)
			continue
		}
		if f := frames[i]; f.Op != op || !bytes.Equal(f.Payload, p) {
			e.t.Errorf("message %d (%q) went out as a %s frame holding %s; want a %s frame holding it",
				i, truncate(p), opName(f.Op), size(len(f.Payload)), opName(op))
		}
	}
}

// checkClose waits for r's loop to end and checks that it ended with a
// *dialer.CloseError with code and reason (reason "" is not checked
// for 1006 and 1009, whose reason is the backend's), wrapping cause if not
// nil, and that no message came before.
func checkClose(e *env, r *reader, code int, reason string, cause error) {
	e.t.Helper()
	msgs, err := r.closed(patience, fmt.Sprintf("a *dialer.CloseError with code %d", code))
	if len(msgs) > 0 {
		e.t.Errorf("ReadMessage returned %d messages (first %q) before ending; want none", len(msgs), truncate(msgs[0]))
	}
	var ce *dialer.CloseError
	switch {
	case !errors.As(err, &ce):
		e.t.Errorf("ReadMessage returned error %v (%T); want a *dialer.CloseError with code %d", err, err, code)
	case ce.Code != code:
		e.t.Errorf("ReadMessage returned close code %d (%v); want %d", ce.Code, err, code)
	case code != dialer.CloseAbnormal && code != dialer.CloseMessageTooBig && ce.Reason != reason:
		e.t.Errorf("ReadMessage returned close reason %q; want %q", ce.Reason, reason)
	case cause != nil && !errors.Is(err, cause):
		e.t.Errorf("ReadMessage returned %v; want an error wrapping %v", err, cause)
	}
}

// checkServerSawClose checks that the client sent a close frame with code.
func checkServerSawClose(e *env, s *sipserver.Server, sc *sipserver.Conn, code int) {
	e.t.Helper()
	if !e.waitFor(s, patience, func() bool { _, _, ok := sc.CloseReceived(); return ok }) {
		e.t.Errorf("the server got no close frame within %v; want close %d from the client", patience, code)
		return
	}
	if got, reason, _ := sc.CloseReceived(); got != code {
		e.t.Errorf("the server got close %d %q from the client; want %d", got, reason, code)
	}
}

// opName names a frame opcode for failure messages.
func opName(op sipserver.Opcode) string { return op.String() }

// truncate shortens p for a failure message.
func truncate(p []byte) string {
	if len(p) > 40 {
		return string(p[:40]) + "..."
	}
	return string(p)
}
