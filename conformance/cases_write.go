package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
)

// writeCases check what WriteMessage puts on the wire: one final frame of
// the right opcode per message, masked with fresh keys, within the send
// limit, and the caller's slice left alone.
var writeCases = []testCase{
	{
		name: "Conn/TextFrameForUTF8",
		rule: must("a message that is valid UTF-8, the empty one included, goes out as a text frame (RFC 7118 §5.2; dialer.Conn.WriteMessage, dialer.IsText)"),
		run: func(e *env) {
			writeOpcodes(e, sipserver.OpText, [][]byte{
				[]byte(optionsRequest(1)),
				[]byte("MESSAGE sip:bob@example.com SIP/2.0\r\n\r\nhéllo wörld € 𝄞"),
				[]byte("\r\n\r\n"),
				{},
			})
		},
	},
	{
		name: "Conn/BinaryFrameOtherwise",
		rule: must("a message that is not valid UTF-8 goes out as a binary frame (RFC 7118 §5.2; dialer.Conn.WriteMessage, dialer.IsText)"),
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
		rule: must("WriteMessage sends every message, of any size up to Options.MaxSendSize, as one final frame holding all of it: never fragmented (OpenSIPS closes on any fragment) (dialer.Conn.WriteMessage; RFC 7118 §5.2; SPEC.md \"Interop defaults\")"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			for _, tt := range []struct {
				limit int // Options.MaxSendSize
				sizes []int
			}{
				{0, []int{1, 700, 10 << 10, 0xffff, 0x10000, dialer.DefaultMaxSendSize}},
				{1 << 20, []int{100 << 10, 1 << 20}},
			} {
				c, sc := e.open(s, dialer.Options{MaxSendSize: tt.limit})
				for i, n := range tt.sizes {
					p := payload(n, byte(i))
					if i%2 == 1 {
						p = allBytes(n)
					}
					e.mustWrite(c, p)
					got := e.received(s, sc, i+1)[i]
					if !bytes.Equal(got, p) {
						e.t.Errorf("message %d (%s) arrived as %s", i, size(n), differ(got, p))
					}
					data := dataFrames(sc)
					if len(data) != i+1 {
						e.t.Fatalf("MaxSendSize %d: message %d (%s) went out as %d frames; want one", tt.limit, i, size(n), len(data)-i)
					}
					if f := data[i]; !f.Fin || f.Op == sipserver.OpContinuation || len(f.Payload) != n {
						e.t.Errorf("MaxSendSize %d: message %d (%s) went out as a %s frame, FIN %v, holding %s; want one final frame holding it",
							tt.limit, i, size(n), f.Op, f.Fin, size(len(f.Payload)))
					}
				}
			}
		},
	},
	{
		name: "Conn/MaxSendSizeRefused",
		rule: must("WriteMessage refuses a message larger than Options.MaxSendSize with an error wrapping dialer.ErrSendTooLarge before writing anything, and the connection stays usable; one of exactly that size goes out (dialer.Options.MaxSendSize, CheckSend)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{MaxSendSize: smallLimit})
			checkSendLimit(e, s, c, sc, smallLimit)
		},
	},
	{
		name: "Conn/MaxSendSizeDefault64KiB",
		rule: must("with MaxSendSize zero the limit is 64 KiB: a message one byte above is refused with dialer.ErrSendTooLarge before anything is written (dialer.DefaultMaxSendSize)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			checkSendLimit(e, s, c, sc, dialer.DefaultMaxSendSize)
		},
	},
	{
		name: "Conn/WriteDoesNotModifyInput",
		rule: must("WriteMessage does not modify p, not even for a moment: client masking happens in another buffer; p is put in a read-only page, where any write faults (RFC 6455 §5.3; dialer.Conn.WriteMessage; SPEC.md \"Sending\")"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			msgs := [][]byte{payload(700, 1), allBytes(300), payload(dialer.DefaultMaxSendSize, 2)}
			// Unmapped only once the connection is closed: the cleanups run
			// last registered first.
			var pages [][]byte
			for _, p := range msgs {
				ro, release, ok := readOnly(p)
				if !ok {
					pages = nil
					break
				}
				e.t.Cleanup(release)
				pages = append(pages, ro)
			}
			c, sc := e.open(s, dialer.Options{})
			for i, orig := range msgs {
				p := bytes.Clone(orig)
				if pages != nil {
					p = pages[i]
				}
				fault, err := writeWatched(e, c, p, pages == nil)
				switch {
				case fault != nil:
					e.t.Fatalf("WriteMessage(%s) wrote into p, which is in a read-only page: %v", size(len(p)), fault)
				case err != nil:
					e.t.Fatalf("WriteMessage(%s): %v; want nil", size(len(p)), err)
				case !bytes.Equal(p, orig):
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
		rule: must("WriteMessage has written p when it returns nil, and keeps no reference to it: the server gets it without another call, and changing p afterwards changes nothing on the wire (dialer.Conn.WriteMessage)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			p := payload(700, 1)
			orig := bytes.Clone(p)
			e.mustWrite(c, p)
			if !e.waitFor(s, settle, func() bool { return len(sc.Received()) >= 1 }) {
				e.t.Fatalf("WriteMessage returned nil, but the server got nothing %v later; want the message written when it returns", settle)
			}
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
		rule: must("every frame the client sends is masked, the close frame included (RFC 6455 §5.1, §5.3)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			for i := range 3 {
				e.mustWrite(c, payload(100, byte(i)))
			}
			e.received(s, sc, 3)
			e.close(c, dialer.CloseNormalClosure, "")
			if _, _, ok := e.clientClose(s, sc, patience); !ok {
				e.t.Errorf("the connection ended without a close frame from the client")
			}
			frames := sc.Frames()
			if len(frames) < 3 {
				e.t.Fatalf("the server got %d frames; want at least 3", len(frames))
			}
			for i, f := range frames {
				if !f.Masked {
					e.t.Errorf("frame %d (%s, %s) is not masked", i, f.Op, size(len(f.Payload)))
				}
			}
		},
	},
	{
		name: "Conn/FreshMaskKeyPerFrame",
		rule: must("every frame gets a fresh, unpredictable masking key: 50 frames, 50 different keys (RFC 6455 §5.3; SPEC.md \"Sending\")"),
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
		name: "Conn/PongNeverInsideDataFrame",
		rule: must("pongs answering the server's pings while large messages are being written go out between frames, never inside one: the server reads every message whole and every pong in order (dialer.Conn; RFC 6455 §5.4, §5.5)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			r := e.reader(c) // answers the pings
			const messages, pings = 20, 200
			pinger := start(e, "the server's pings", func() error {
				for i := range pings {
					if err := sc.Ping([]byte{byte(i)}); err != nil {
						return err
					}
				}
				return nil
			})
			p := payload(dialer.DefaultMaxSendSize, 5)
			for range messages {
				e.mustWrite(c, p)
			}
			if err := pinger.wait(patience); err != nil {
				e.t.Fatalf("the server's pings: %v", err)
			}
			for i, m := range e.received(s, sc, messages) {
				if !bytes.Equal(m, p) {
					e.t.Fatalf("message %d arrived as %s: a frame came inside it", i, differ(m, p))
				}
			}
			// A message behind the pings: once it is read, every ping before
			// it has been answered.
			serverSendText(e, sc, "after the pings")
			r.next(patience, `"after the pings"`)
			e.waitFor(s, settle, func() bool { return len(sc.Pongs()) >= pings || ended(sc) })
			pongs := sc.Pongs()
			if len(pongs) != pings {
				e.t.Fatalf("the server got %d pongs for %d pings (connection ended: %v)", len(pongs), pings, ended(sc))
			}
			for i, pong := range pongs {
				if len(pong) != 1 || pong[0] != byte(i) {
					e.t.Fatalf("pong %d carries %v; want [%d]", i, pong, byte(i))
				}
			}
		},
	},
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
				i, truncate(p), f.Op, size(len(f.Payload)), op)
		}
	}
}

// checkSendLimit checks that c, whose send limit is limit, writes a
// message of exactly limit bytes and refuses one byte more without
// writing anything.
func checkSendLimit(e *env, s *sipserver.Server, c dialer.Conn, sc *sipserver.Conn, limit int) {
	e.t.Helper()
	err := e.write(c, payload(limit+1, 1))
	var tl *dialer.SendTooLargeError
	if !errors.Is(err, dialer.ErrSendTooLarge) {
		e.t.Errorf("WriteMessage(%s) with a send limit of %d returned %v; want an error wrapping dialer.ErrSendTooLarge", size(limit+1), limit, err)
	} else if errors.As(err, &tl) && (tl.Size != limit+1 || tl.Limit != limit) {
		e.t.Errorf("WriteMessage(%s) returned %v; want it to name %d > %d", size(limit+1), err, limit+1, limit)
	}
	exact := payload(limit, 2)
	e.mustWrite(c, exact)
	e.mustWrite(c, []byte("after"))
	got := e.received(s, sc, 2)
	if len(got) != 2 || !bytes.Equal(got[0], exact) || string(got[1]) != "after" {
		e.t.Errorf("the server received %d messages (first of %s); want the %s one and \"after\": nothing of the refused one", len(got), size(len(got[0])), size(limit))
	}
	if n := len(dataFrames(sc)); n != 2 {
		e.t.Errorf("the server got %d data frames; want 2: the refused message must not put a byte on the wire", n)
	}
}

// writeWatched calls WriteMessage(p), bounded, with faults turned into
// panics on the calling goroutine (p in a read-only page faults when
// written), and returns the fault, if any, and WriteMessage's error. With
// race set, a goroutine reads p during the call, so that the race detector
// reports a write to it even where p could not be made read-only.
func writeWatched(e *env, c dialer.Conn, p []byte, race bool) (fault any, err error) {
	e.t.Helper()
	type result struct {
		fault any
		err   error
	}
	r := within(e, "WriteMessage("+size(len(p))+")", patience, func() (r result) {
		stop := make(chan struct{})
		watched := make(chan struct{})
		if race {
			go func() {
				defer close(watched)
				var sum byte
				for {
					select {
					case <-stop:
						_ = sum
						return
					default:
					}
					for _, b := range p {
						sum += b
					}
				}
			}()
		} else {
			close(watched)
		}
		defer func() { close(stop); <-watched }()
		prev := debug.SetPanicOnFault(true)
		defer debug.SetPanicOnFault(prev)
		defer func() { r.fault = recover() }()
		r.err = c.WriteMessage(p)
		return r
	})
	return r.fault, r.err
}
