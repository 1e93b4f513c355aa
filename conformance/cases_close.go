package conformance

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
)

// closeBound is what a Close may take at most: the one second that
// dialer.Conn.Close promises, written here as a number (not as
// dialer.CloseTimeout, which a backend could raise), plus settle for the
// scheduler of a loaded machine.
const closeBound = time.Second + settle

// closeCases check Close: the close frame it sends, its time bound, what
// it unblocks, and what the connection does afterwards.
var closeCases = []testCase{
	{
		name: "Conn/CloseSendsCodeAndReason",
		rule: must("Close(code, reason) sends a close frame with that code and reason (dialer.Conn.Close; RFC 6455 §5.5.1)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			for _, tt := range []struct {
				code   int
				reason string
			}{{4001, "done here"}, {dialer.CloseNormalClosure, ""}, {dialer.CloseGoingAway, "keepalive pong timeout"}, {1014, "bad gateway"}} {
				c, sc := e.open(s, dialer.Options{})
				e.close(c, tt.code, tt.reason)
				code, reason, ok := e.clientClose(s, sc, patience)
				switch {
				case !ok:
					e.t.Errorf("Close(%d, %q): the connection ended without a close frame", tt.code, tt.reason)
				case code != tt.code || reason != tt.reason:
					e.t.Errorf("Close(%d, %q): the server got close %d %q; want %d %q", tt.code, tt.reason, code, reason, tt.code, tt.reason)
				}
			}
		},
	},
	{
		name: "Conn/LongCloseReasonCut",
		rule: must("a reason longer than 123 bytes is cut to fit the 125 bytes of a control frame, at 123 bytes or just before, never inside a character (dialer.AppendCloseBody; RFC 6455 §5.5)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			long := strings.Repeat("r", 200)
			accents := strings.Repeat("é", 100) // 2 bytes each: 123 bytes would split one
			for _, tt := range []struct{ reason, want string }{{long, long[:123]}, {accents, accents[:122]}} {
				c, sc := e.open(s, dialer.Options{})
				e.close(c, dialer.CloseNormalClosure, tt.reason)
				code, reason, ok := e.clientClose(s, sc, patience)
				if !ok || code != dialer.CloseNormalClosure || reason != tt.want {
					e.t.Errorf("Close(1000, %d-byte reason): the server got close %d with a %d-byte reason %.20q... (a close frame: %v); want 1000 and the reason's first %d bytes",
						len(tt.reason), code, len(reason), reason, ok, len(tt.want))
				}
			}
		},
	},
	{
		name: "Conn/CloseUnsendableCodeHasNoBody",
		rule: must("Close with a code that must not go on the wire (1004, 1005, 1006, 1015, below 1000, 1016–2999, 5000 and up) sends a close frame without a body, which the server reads as 1005 (dialer.ValidCloseCode, dialer.AppendCloseBody; RFC 6455 §7.4.1)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			for _, code := range []int{1004, dialer.CloseNoStatus, dialer.CloseAbnormal, 1015, 999, 2999, 5000} {
				c, sc := e.open(s, dialer.Options{})
				e.close(c, code, "reason")
				if _, _, ok := e.clientClose(s, sc, patience); !ok {
					e.t.Errorf("Close(%d): the connection ended without a close frame; want one without a body", code)
					continue
				}
				if f := framesOf(sc, sipserver.OpClose); len(f) > 0 && len(f[0].Payload) != 0 {
					e.t.Errorf("Close(%d): the close frame carried % x; want no body", code, f[0].Payload)
				}
			}
		},
	},
	{
		name: "Conn/CloseReasonAlwaysUTF8",
		rule: must("the close frame's reason is valid UTF-8 whatever reason Close is given: a server fails the connection with 1007 on any other (dialer.AppendCloseBody; RFC 6455 §5.5.1)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, sc := e.open(s, dialer.Options{})
			e.close(c, 4000, "bad \xff\xfe")
			code, reason, ok := e.clientClose(s, sc, patience)
			if !ok || code != 4000 || !utf8.ValidString(reason) {
				e.t.Errorf("Close(4000, a reason that is not UTF-8): the server got close %d %q (a close frame: %v); want 4000 with a valid UTF-8 reason", code, reason, ok)
			}
		},
	},
	{
		name: "Conn/CloseUnblocksRead",
		rule: must("Close unblocks a ReadMessage in progress, which returns an error promptly (dialer.Conn.Close, dialer.Conn.ReadMessage)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, _ := e.open(s, dialer.Options{})
			r := e.reader(c)
			e.close(c, dialer.CloseNormalClosure, "")
			if !r.wait(settle) {
				e.t.Fatalf("ReadMessage still blocked %v after Close returned; want it to return an error promptly", settle)
			}
			if r.err == nil {
				e.t.Errorf("ReadMessage after Close returned a nil error")
			}
		},
	},
	{
		name: "Conn/ReadAfterCloseIsCloseError",
		rule: must("after Close, ReadMessage, the pending one and every later one, returns a *dialer.CloseError: every way a connection ends is one (package dialer, \"Errors\")"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, _ := e.open(s, dialer.Options{})
			r := e.reader(c)
			e.close(c, dialer.CloseNormalClosure, "")
			_, err := r.closed(settle, "a *dialer.CloseError", true)
			if _, ok := asCloseError(err); !ok {
				e.t.Errorf("the pending ReadMessage returned %v (%T) after Close; want a *dialer.CloseError", err, err)
			}
			c2, _ := e.open(s, dialer.Options{})
			e.close(c2, dialer.CloseNormalClosure, "")
			err = within(e, "ReadMessage after Close", settle, func() error {
				_, err := c2.ReadMessage()
				return err
			})
			if _, ok := asCloseError(err); !ok {
				e.t.Errorf("ReadMessage after Close returned %v (%T); want a *dialer.CloseError", err, err)
			}
		},
	},
	{
		name: "Conn/CloseIdempotentConcurrent",
		rule: must("Close may be called many times, from many goroutines at once: none panics, each returns, and exactly one close frame goes out, the first call's (dialer.Conn.Close: idempotent)"),
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
			if code, _, ok := e.clientClose(s, sc, patience); !ok {
				e.t.Errorf("after concurrent Close calls, the connection ended without a close frame")
			} else if code != dialer.CloseNormalClosure {
				e.t.Errorf("after concurrent Close(1000) calls, the server got close %d; want 1000", code)
			}
			if !waitClosed(sc.Done(), patience) {
				e.t.Fatalf("the connection is still open %v after Close", patience)
			}
			if n := len(framesOf(sc, sipserver.OpClose)); n != 1 {
				e.t.Errorf("the server got %d close frames; want exactly 1", n)
			}
		},
	},
	{
		name: "Conn/CloseBounded",
		rule: must("Close returns within one second even when the peer has stopped reading and a WriteMessage is blocked on it, over ws and wss (no TLS close_notify wait), and that WriteMessage and a pending ReadMessage then fail promptly (dialer.Conn.Close, dialer.CloseTimeout)"),
		run: func(e *env) {
			// Both schemes at once: each Close takes its second.
			type blocked struct {
				url    string
				c      dialer.Conn
				sc     *sipserver.Conn
				r      *reader
				writer *future[error]
			}
			var all []blocked
			for _, tls := range []bool{false, true} {
				s := silentServer(e, sipserver.Options{TLS: tls})
				c, sc := e.open(s, dialer.Options{TLSConfig: s.ClientTLSConfig()})
				r := e.reader(c)
				sc.PauseReading()
				all = append(all, blocked{s.URL(), c, sc, r, blockWriter(e, c)})
			}
			began := time.Now()
			var closing []*future[error]
			for _, b := range all {
				closing = append(closing, start(e, "Close(1000, \"\") with a write blocked", func() error { return b.c.Close(dialer.CloseNormalClosure, "") }))
			}
			for i, b := range all {
				if _, ok := closing[i].poll(closeBound - time.Since(began)); !ok {
					e.t.Fatalf("%s: Close still runs %v after it was called, with a write blocked on a peer that stopped reading; want it to return within one second (and %v for the scheduler)", b.url, closeBound, settle)
				}
				if took := time.Since(began); took > closeBound {
					e.t.Fatalf("%s: Close took %v with a write blocked on a peer that stopped reading; want at most one second (and %v for the scheduler)", b.url, took.Round(time.Millisecond), settle)
				}
			}
			for _, b := range all {
				if err, ok := b.writer.poll(settle); !ok {
					e.t.Errorf("%s: the blocked WriteMessage still runs %v after Close returned; want it to fail", b.url, settle)
				} else if err == nil {
					e.t.Errorf("%s: the blocked WriteMessage returned nil after Close; want an error", b.url)
				}
				if !b.r.wait(settle) {
					e.t.Errorf("%s: ReadMessage still blocked %v after Close returned", b.url, settle)
				}
				b.sc.ResumeReading()
			}
		},
	},
	{
		name: "Conn/CloseNeverInsideDataFrame",
		rule: must("a Close during a WriteMessage sends its close frame after the data frame in progress, never inside it: the server reads whole messages, then the close (dialer.Conn; RFC 6455 §5.4)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			for round := range 3 {
				c, sc := e.open(s, dialer.Options{})
				p := payload(dialer.DefaultMaxSendSize, byte(round))
				writer := start(e, "WriteMessage loop", func() error {
					for {
						if err := c.WriteMessage(p); err != nil {
							return err
						}
					}
				})
				e.received(s, sc, 2)
				e.close(c, 4002, "done")
				writer.wait(patience)
				code, reason, ok := e.clientClose(s, sc, patience)
				if !ok || code != 4002 || reason != "done" {
					e.t.Errorf("round %d: the server got close %d %q (a close frame: %v) after %d messages; want close 4002 \"done\" behind whole frames", round, code, reason, ok, len(sc.Received()))
				}
				for i, m := range sc.Received() {
					if !bytes.Equal(m, p) {
						e.t.Fatalf("round %d: message %d arrived as %s", round, i, differ(m, p))
					}
				}
			}
		},
	},
	{
		name: "Conn/WriteAfterCloseFails",
		rule: must("WriteMessage after Close returns an error, never nil, and does not panic (dialer.Conn.WriteMessage: nil only once the frame is written)"),
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
		name: "Conn/ClosedErrorsWrapNetErrClosed",
		rule: should("after Close, WriteMessage's error and ReadMessage's wrap net.ErrClosed, as a net.Conn's do, so that a caller tells its own Close from a failure (dialertest.ErrClosed does the same)"),
		run: func(e *env) {
			s := silentServer(e, sipserver.Options{})
			c, _ := e.open(s, dialer.Options{})
			e.close(c, dialer.CloseNormalClosure, "")
			if err := e.write(c, []byte("late")); !errors.Is(err, net.ErrClosed) {
				e.t.Errorf("WriteMessage after Close returned %v; want an error wrapping net.ErrClosed", err)
			}
			err := within(e, "ReadMessage after Close", settle, func() error {
				_, err := c.ReadMessage()
				return err
			})
			if !errors.Is(err, net.ErrClosed) {
				e.t.Errorf("ReadMessage after Close returned %v; want an error wrapping net.ErrClosed", err)
			}
		},
	},
}

// blockWriter writes 64 KiB messages on c in a loop until a write blocks
// (the peer stopped reading and the socket buffers are full), and returns
// the loop, still running. A write that fails first fails the case.
func blockWriter(e *env, c dialer.Conn) *future[error] {
	e.t.Helper()
	var written atomic.Int64
	p := payload(dialer.DefaultMaxSendSize, 9)
	fu := start(e, "WriteMessage loop on a peer that stopped reading", func() error {
		for {
			if err := c.WriteMessage(p); err != nil {
				return err
			}
			written.Add(1)
		}
	})
	// Blocked means: no progress for a tenth of a second. The loop
	// polls; it waits for a condition, not for a timer to fire.
	last, since := int64(-1), time.Now()
	for {
		if err, ok := fu.poll(10 * time.Millisecond); ok {
			e.t.Fatalf("WriteMessage failed after %d messages to a peer that stopped reading: %v; want it to block", written.Load(), err)
		}
		if n := written.Load(); n != last {
			last, since = n, time.Now()
		} else if time.Since(since) >= 100*time.Millisecond {
			return fu
		}
	}
}
