package ws

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

// message returns n bytes of text, or of binary (not UTF-8) when bin is set.
func message(n int, bin bool) []byte {
	p := bytes.Repeat([]byte("SIP/2.0 200 OK\r\n"), n/16+1)[:n]
	if bin && n > 0 {
		p[0] = 0xff
	}
	return p
}

// dataFrames returns the data frames sc has received, in order.
func dataFrames(sc *sipserver.Conn) []sipserver.Frame {
	var out []sipserver.Frame
	for _, f := range sc.Frames() {
		if !f.Op.IsControl() {
			out = append(out, f)
		}
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	c, sc := dialServer(t, s, &Dialer{})
	sizes := []int{1, 700, firstBuf, firstBuf + 1, dialer.DefaultMaxMessageSize}
	for _, n := range sizes {
		for _, bin := range []bool{false, true} {
			p := message(n, bin)
			op := sipserver.OpText
			if bin {
				op = sipserver.OpBinary
			}
			before := len(dataFrames(sc))
			if err := c.WriteMessage(p); err != nil {
				t.Fatalf("%v %d bytes: WriteMessage = %v", op, n, err)
			}
			waitFor(t, s, "the message", func() bool { return len(dataFrames(sc)) > before })
			f := dataFrames(sc)[before]
			if f.Op != op || !f.Fin || !f.Masked || f.Rsv != 0 || !bytes.Equal(f.Payload, p) {
				t.Errorf("%v %d bytes: server got %v fin=%v masked=%v rsv=%d, %d bytes; want one final masked %v frame of the bytes written",
					op, n, f.Op, f.Fin, f.Masked, f.Rsv, len(f.Payload), op)
			}
			if err := sc.Send(p); err != nil {
				t.Fatal(err)
			}
			got, err := c.ReadMessage()
			if err != nil || !bytes.Equal(got, p) {
				t.Fatalf("%v %d bytes: ReadMessage = %d bytes, %v; want the %d bytes sent", op, n, len(got), err, n)
			}
			if want := bufs.ClassSize(max(n, firstBuf)); cap(got) != want {
				t.Errorf("%d bytes read into a buffer of %d, want the smallest class that holds them", n, cap(got))
			}
		}
	}
}

func TestReadMessageLimit(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name  string
		limit int64 // Options.MaxMessageSize
		max   int64 // the limit in force
		send  func(sc *sipserver.Conn)
	}{
		{
			name: "default limit, one byte over",
			max:  dialer.DefaultMaxMessageSize,
			send: func(sc *sipserver.Conn) { sc.Send(message(dialer.DefaultMaxMessageSize+1, false)) },
		},
		{
			name:  "one frame one byte over",
			limit: limit, max: limit,
			send: func(sc *sipserver.Conn) { sc.Send(message(limit+1, true)) },
		},
		{
			name:  "declared length alone, payload never sent",
			limit: limit, max: limit,
			send: func(sc *sipserver.Conn) { sc.SendRaw([]byte{0x82, 127, 0, 0, 1, 0, 0, 0, 0, 0}) },
		},
		{
			name:  "fragments over in total",
			limit: limit, max: limit,
			send: func(sc *sipserver.Conn) {
				sc.SendFrame(sipserver.OpText, false, message(600, false))
				sc.SendFrame(sipserver.OpContinuation, true, message(401, false))
			},
		},
		{
			name:  "largest 64-bit length after a fragment",
			limit: limit, max: limit,
			send: func(sc *sipserver.Conn) {
				sc.SendFrame(sipserver.OpText, false, message(10, false))
				sc.SendRaw([]byte{0x80, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, sipserver.Options{})
			c := dialTo(t, &Dialer{}, s.URL(), dialer.Options{MaxMessageSize: tt.limit})
			conns, err := s.WaitConns(testContext(t), 1)
			if err != nil {
				t.Fatal(err)
			}
			sc := conns[0]
			// A message at the limit passes.
			if err := sc.Send(message(int(tt.max), false)); err != nil {
				t.Fatal(err)
			}
			if p, err := c.ReadMessage(); err != nil || len(p) != int(tt.max) {
				t.Fatalf("ReadMessage = %d bytes, %v; want the %d bytes at the limit", len(p), err, tt.max)
			}
			tt.send(sc)
			_, err = c.ReadMessage()
			ce := wstest.CloseErrorOf(t, err)
			if ce.Code != dialer.CloseMessageTooBig || !errors.Is(err, dialer.ErrMessageTooLarge) {
				t.Fatalf("ReadMessage = %v, want 1009 wrapping ErrMessageTooLarge", err)
			}
			if want := dialer.TooLarge(-1, tt.max); err.Error() != want.Error() {
				t.Errorf("ReadMessage = %q, want %q", err, want)
			}
			if code, _ := closeReceived(t, s, sc); code != dialer.CloseMessageTooBig {
				t.Errorf("server got close %d, want 1009", code)
			}
			if _, again := c.ReadMessage(); again != err {
				t.Errorf("ReadMessage again = %v, want the same %v", again, err)
			}
			if c.msg != nil {
				t.Errorf("message buffer still held after the read side ended")
			}
		})
	}
}

func TestWriteMessageOpcode(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	c, sc := dialServer(t, s, &Dialer{})
	tests := []struct {
		name string
		p    []byte
		op   sipserver.Opcode
	}{
		{name: "SIP is text", p: sipRequest(0), op: sipserver.OpText},
		{name: "empty is text", p: []byte{}, op: sipserver.OpText},
		{name: "multi-byte UTF-8 is text", p: []byte("From: \"José\" <sip:jose@example.com>"), op: sipserver.OpText},
		{name: "invalid UTF-8 is binary", p: []byte{'S', 0xff, 0xfe}, op: sipserver.OpBinary},
		{name: "a split character is binary", p: []byte("caf\xc3"), op: sipserver.OpBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(dataFrames(sc))
			if err := c.WriteMessage(tt.p); err != nil {
				t.Fatal(err)
			}
			waitFor(t, s, "the frame", func() bool { return len(dataFrames(sc)) > before })
			if f := dataFrames(sc)[before]; f.Op != tt.op || !bytes.Equal(f.Payload, tt.p) {
				t.Errorf("server got %v %q, want %v %q", f.Op, f.Payload, tt.op, tt.p)
			}
		})
	}
}

func TestWriteMessageFragmented(t *testing.T) {
	// A message above the write buffer goes out as a fragmented message:
	// frames of the buffer's size, the first with the message's opcode,
	// each masked with its own key.
	s := startServer(t, sipserver.Options{})
	c, sc := dialServer(t, s, &Dialer{WriteBufferSize: 1000})
	for _, bin := range []bool{false, true} {
		p := message(2500, bin)
		before := len(dataFrames(sc))
		if err := c.WriteMessage(p); err != nil {
			t.Fatal(err)
		}
		waitFor(t, s, "the message", func() bool { return len(dataFrames(sc)) >= before+3 })
		frames := dataFrames(sc)[before:]
		op := sipserver.OpText
		if bin {
			op = sipserver.OpBinary
		}
		wantOps := []sipserver.Opcode{op, sipserver.OpContinuation, sipserver.OpContinuation}
		wantLens := []int{1000, 1000, 500}
		keys := make(map[[4]byte]bool)
		for i, f := range frames {
			if f.Op != wantOps[i] || f.Fin != (i == 2) || len(f.Payload) != wantLens[i] || !f.Masked {
				t.Errorf("frame %d: %v fin=%v %d bytes masked=%v, want %v fin=%v %d bytes masked",
					i, f.Op, f.Fin, len(f.Payload), f.Masked, wantOps[i], i == 2, wantLens[i])
			}
			keys[f.Key] = true
		}
		if len(keys) != 3 {
			t.Errorf("masking keys %v, want one per frame", keys)
		}
		got := s.Received()
		if last := got[len(got)-1]; !bytes.Equal(last, p) {
			t.Errorf("server reassembled %d bytes, want the %d written", len(last), len(p))
		}
	}
}

func TestWriteMessageLeavesSliceAlone(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	tests := []struct {
		name string
		d    *Dialer
		p    []byte
	}{
		{name: "700 B text", d: &Dialer{}, p: sipRequest(700)},
		{name: "binary", d: &Dialer{}, p: message(3000, true)},
		{name: "64 KiB", d: &Dialer{}, p: message(dialer.DefaultMaxMessageSize, false)},
		{name: "fragmented", d: &Dialer{WriteBufferSize: 512}, p: message(5000, false)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, sc := dialServer(t, s, tt.d)
			orig := bytes.Clone(tt.p)
			// A reader of p during the write: the race detector reports
			// any write to p, even one undone before WriteMessage returns.
			stop := make(chan struct{})
			watched := make(chan byte)
			go func() {
				var sum byte
				for {
					select {
					case <-stop:
						watched <- sum
						return
					default:
					}
					for _, b := range tt.p {
						sum += b
					}
				}
			}()
			for range 20 {
				if err := c.WriteMessage(tt.p); err != nil {
					t.Fatal(err)
				}
			}
			close(stop)
			<-watched
			if !bytes.Equal(tt.p, orig) {
				t.Fatal("WriteMessage modified p")
			}
			waitFor(t, s, "the messages", func() bool { return len(sc.Received()) == 20 })
			for i, m := range sc.Received() {
				if !bytes.Equal(m, orig) {
					t.Fatalf("message %d: server got %d bytes that differ from the %d written", i, len(m), len(orig))
				}
			}
		})
	}
}

func TestWriteMessageFreshMaskKeys(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	c, sc := dialServer(t, s, &Dialer{})
	const n = 200
	for range n {
		if err := c.WriteMessage([]byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, s, "the frames", func() bool { return len(dataFrames(sc)) == n })
	keys := make(map[[4]byte]int)
	for i, f := range dataFrames(sc) {
		if !f.Masked {
			t.Fatalf("frame %d not masked", i)
		}
		if j, seen := keys[f.Key]; seen {
			t.Errorf("frames %d and %d share the masking key %x", j, i, f.Key)
		}
		keys[f.Key] = i
	}
}

func TestReadMessagePingPong(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	c, sc := dialServer(t, s, &Dialer{})
	sc.Ping([]byte("are you there?"))
	sc.SendFrame(sipserver.OpPong, true, []byte("unsolicited"))
	sc.Ping(nil)
	sc.Send([]byte("after the pings"))
	p, err := c.ReadMessage()
	if err != nil || string(p) != "after the pings" {
		t.Fatalf("ReadMessage = %q, %v; want the message after the pings", p, err)
	}
	waitFor(t, s, "two pongs", func() bool { return len(sc.Pongs()) == 2 })
	if got := sc.Pongs(); string(got[0]) != "are you there?" || len(got[1]) != 0 {
		t.Errorf("pongs = %q, want the pings' payloads", got)
	}
	for _, f := range sc.Frames() {
		if f.Op == sipserver.OpPong && !f.Masked {
			t.Errorf("pong not masked")
		}
	}
}

func TestReadMessageFragmented(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 1000) // over the first buffer and the read buffer
	type frame struct {
		op  sipserver.Opcode
		fin bool
		p   []byte
	}
	tests := []struct {
		name   string
		frames []frame
		want   []byte
		pings  []string
	}{
		{
			name: "text and continuations with a ping between",
			frames: []frame{
				{sipserver.OpText, false, []byte("INVITE sip:bob")},
				{sipserver.OpPing, true, []byte("ping")},
				{sipserver.OpContinuation, false, []byte("@example.com")},
				{sipserver.OpPong, true, nil},
				{sipserver.OpContinuation, true, []byte(" SIP/2.0")},
			},
			want:  []byte("INVITE sip:bob@example.com SIP/2.0"),
			pings: []string{"ping"},
		},
		{
			name: "binary with empty fragments",
			frames: []frame{
				{sipserver.OpBinary, false, nil},
				{sipserver.OpContinuation, false, []byte{0xff}},
				{sipserver.OpContinuation, true, nil},
			},
			want: []byte{0xff},
		},
		{
			name: "only empty fragments",
			frames: []frame{
				{sipserver.OpText, false, nil},
				{sipserver.OpContinuation, true, nil},
			},
			want: []byte{},
		},
		{
			name: "larger than the buffers",
			frames: []frame{
				{sipserver.OpText, false, big[:3000]},
				{sipserver.OpContinuation, false, big[3000:9000]},
				{sipserver.OpContinuation, true, big[9000:]},
			},
			want: big,
		},
		{
			name: "fragments filling the first buffer exactly",
			frames: []frame{
				{sipserver.OpText, false, big[:firstBuf]},
				{sipserver.OpContinuation, true, big[firstBuf : firstBuf+1]},
			},
			want: big[:firstBuf+1],
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, sipserver.Options{})
			c, sc := dialServer(t, s, &Dialer{})
			for _, f := range tt.frames {
				sc.SendFrame(f.op, f.fin, f.p)
			}
			sc.Send([]byte("next"))
			got, err := c.ReadMessage()
			if err != nil || !bytes.Equal(got, tt.want) || got == nil {
				t.Fatalf("ReadMessage = %d bytes %.40q, %v; want %d bytes %.40q", len(got), got, err, len(tt.want), tt.want)
			}
			if got, err := c.ReadMessage(); err != nil || string(got) != "next" {
				t.Fatalf("second ReadMessage = %q, %v; want %q", got, err, "next")
			}
			waitFor(t, s, "the pongs", func() bool { return len(sc.Pongs()) == len(tt.pings) })
			var pongs []string
			for _, p := range sc.Pongs() {
				pongs = append(pongs, string(p))
			}
			if strings.Join(pongs, ",") != strings.Join(tt.pings, ",") {
				t.Errorf("pongs = %q, want %q", pongs, tt.pings)
			}
		})
	}
}

func TestReadMessageServerClose(t *testing.T) {
	tests := []struct {
		name       string
		code       int
		reason     string
		wantReason string
	}{
		{name: "code and reason", code: 4000, reason: "going for lunch"},
		{name: "normal without reason", code: 1000},
		{name: "try again later (IANA)", code: 1013, reason: "busy"},
		{name: "going away", code: 1001, reason: "shutting down"},
		{name: "no body is 1005", code: dialer.CloseNoStatus},
	}
	for _, tt := range tests {
		schemesCase(t, tt.name, func(t *testing.T, useTLS bool) {
			s := startServer(t, sipserver.Options{TLS: useTLS})
			c, sc := dialServer(t, s, &Dialer{})
			sc.Send([]byte("last words"))
			sc.CloseWith(tt.code, tt.reason)
			if p, err := c.ReadMessage(); err != nil || string(p) != "last words" {
				t.Fatalf("ReadMessage = %q, %v; want the message sent before the close", p, err)
			}
			_, err := c.ReadMessage()
			ce := wstest.CloseErrorOf(t, err)
			if ce.Code != tt.code || ce.Reason != tt.reason {
				t.Errorf("ReadMessage = %d %q, want %d %q", ce.Code, ce.Reason, tt.code, tt.reason)
			}
			if code, reason := closeReceived(t, s, sc); code != tt.code || reason != "" {
				t.Errorf("client echoed %d %q, want %d and no reason", code, reason, tt.code)
			}
			if err := c.WriteMessage([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("WriteMessage after the close = %v, want net.ErrClosed", err)
			}
			if _, again := c.ReadMessage(); again != err {
				t.Errorf("ReadMessage again = %v, want the same %v", again, err)
			}
		})
	}
}

// schemesCase runs f as subtests name/ws and name/wss.
func schemesCase(t *testing.T, name string, f func(t *testing.T, tls bool)) {
	t.Run(name, func(t *testing.T) { schemes(t, f) })
}

func TestReadMessageDrop(t *testing.T) {
	tests := []struct {
		name string
		send func(sc *sipserver.Conn)
	}{
		{name: "between frames", send: func(sc *sipserver.Conn) {}},
		{name: "mid header", send: func(sc *sipserver.Conn) { sc.SendRaw([]byte{0x81, 126, 0x01}) }},
		{name: "mid payload", send: func(sc *sipserver.Conn) { sc.SendRaw([]byte{0x81, 5, 'a', 'b'}) }},
		{name: "mid fragmented message", send: func(sc *sipserver.Conn) {
			sc.SendFrame(sipserver.OpText, false, message(5000, false))
		}},
		{name: "mid control payload", send: func(sc *sipserver.Conn) { sc.SendRaw([]byte{0x89, 5, 'a'}) }},
	}
	for _, tt := range tests {
		schemesCase(t, tt.name, func(t *testing.T, useTLS bool) {
			s := startServer(t, sipserver.Options{TLS: useTLS})
			c, sc := dialServer(t, s, &Dialer{})
			tt.send(sc)
			sc.Drop()
			_, err := c.ReadMessage()
			if ce := wstest.CloseErrorOf(t, err); ce.Code != dialer.CloseAbnormal || ce.Err == nil {
				t.Errorf("ReadMessage = %v, want 1006 with a cause", err)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
				t.Errorf("ReadMessage = %v, want it to wrap the end of the stream", err)
			}
			if _, _, ok := sc.CloseReceived(); ok {
				t.Errorf("the client sent a close frame on a dropped stream")
			}
		})
	}
}

func TestReadMessageReset(t *testing.T) {
	srv := wstest.ServeSIP(t, func(c net.Conn) {
		c.(*net.TCPConn).SetLinger(0) // close sends RST
	})
	c := dialTo(t, &Dialer{}, srv.URL(), dialer.Options{})
	_, err := c.ReadMessage()
	if ce := wstest.CloseErrorOf(t, err); ce.Code != dialer.CloseAbnormal || ce.Err == nil {
		t.Errorf("ReadMessage = %v, want 1006 with the socket's error", err)
	}
}

func TestReadMessageProtocolError(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte // bytes the server sends
		code int    // the code the client reports and sends
	}{
		{name: "masked server frame", raw: []byte{0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}, code: 1002},
		{name: "reserved bit without extension", raw: []byte{0xc1, 1, 'a'}, code: 1002},
		{name: "reserved data opcode", raw: []byte{0x83, 0}, code: 1002},
		{name: "reserved control opcode", raw: []byte{0x8b, 0}, code: 1002},
		{name: "fragmented control frame", raw: []byte{0x09, 0}, code: 1002},
		{name: "control frame over 125 bytes", raw: append([]byte{0x89, 126, 0, 126}, make([]byte, 126)...), code: 1002},
		{name: "continuation with no message", raw: []byte{0x80, 1, 'a'}, code: 1002},
		{name: "new message inside a fragmented one", raw: []byte{0x01, 1, 'a', 0x81, 1, 'b'}, code: 1002},
		{name: "close with 1005", raw: []byte{0x88, 2, 0x03, 0xed}, code: 1002},
		{name: "close with 999", raw: []byte{0x88, 2, 0x03, 0xe7}, code: 1002},
		{name: "close with 5000", raw: []byte{0x88, 2, 0x13, 0x88}, code: 1002},
		// gorilla answers a reason that is not UTF-8 with 1002, where
		// wsgobwas uses 1007.
		{name: "close reason not UTF-8", raw: []byte{0x88, 4, 0x03, 0xe8, 0xff, 0xfe}, code: 1002},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, sipserver.Options{})
			c, sc := dialServer(t, s, &Dialer{})
			sc.SendRaw(tt.raw)
			_, err := c.ReadMessage()
			if ce := wstest.CloseErrorOf(t, err); ce.Code != tt.code || ce.Err == nil {
				t.Errorf("ReadMessage = %v, want %d with gorilla's diagnosis", err, tt.code)
			}
			if code, _ := closeReceived(t, s, sc); code != tt.code {
				t.Errorf("server got close %d, want %d", code, tt.code)
			}
		})
	}
}

func TestReadMessageOneByteCloseBody(t *testing.T) {
	// gorilla reads a close frame with a one-byte body as one without a
	// code (wsgobwas fails it with 1002): the report is 1005.
	s := startServer(t, sipserver.Options{})
	c, sc := dialServer(t, s, &Dialer{})
	sc.SendRaw([]byte{0x88, 1, 3})
	_, err := c.ReadMessage()
	if ce := wstest.CloseErrorOf(t, err); ce.Code != dialer.CloseNoStatus {
		t.Errorf("ReadMessage = %v, want 1005", err)
	}
}

func TestReadMessageSmallReadBuffer(t *testing.T) {
	// A read buffer below the minimum is raised so that control frames
	// still fit.
	s := startServer(t, sipserver.Options{})
	c, sc := dialServer(t, s, &Dialer{ReadBufferSize: 16})
	sc.Ping(bytes.Repeat([]byte("p"), 125))
	sc.Send(message(1000, false))
	p, err := c.ReadMessage()
	if err != nil || len(p) != 1000 {
		t.Fatalf("ReadMessage = %d bytes, %v; want 1000 bytes", len(p), err)
	}
	waitFor(t, s, "the pong", func() bool { return len(sc.Pongs()) == 1 })
}
