package wsgobwas

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

func TestReadMessageRoundTrip(t *testing.T) {
	srv := wstest.ServeSIP(t, echo)
	c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
	sizes := []int{1, 2, 125, 126, 127, 1000, 4095, DefaultReadBufferSize, DefaultReadBufferSize + 1, 0xffff, 0x10000, dialer.DefaultMaxMessageSize}
	for _, n := range sizes {
		for _, kind := range []string{"text", "binary"} {
			p := bytes.Repeat([]byte("SIP/2.0 200 OK\r\n"), n/16+1)[:n]
			if kind == "binary" {
				p[0] = 0xff // not UTF-8
			}
			if err := c.WriteMessage(p); err != nil {
				t.Fatalf("%s %d bytes: WriteMessage = %v, want nil", kind, n, err)
			}
			got, err := c.ReadMessage()
			if err != nil {
				t.Fatalf("%s %d bytes: ReadMessage = %v, want the echo", kind, n, err)
			}
			if !bytes.Equal(got, p) {
				t.Fatalf("%s %d bytes: ReadMessage = %d bytes %.20q..., want %d bytes %.20q...", kind, n, len(got), got, len(p), p)
			}
		}
	}
}

func TestWriteMessageFrames(t *testing.T) {
	frames := make(chan wstest.Frame, 64)
	srv := wstest.ServeSIP(t, func(c net.Conn) {
		for {
			f, err := wstest.ReadFrame(c)
			if err != nil || f.Header.OpCode == ws.OpClose {
				return
			}
			frames <- f
		}
	})
	c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})

	tests := []struct {
		name string
		p    []byte
		op   ws.OpCode
	}{
		{name: "UTF-8 is text", p: []byte("OPTIONS sip:a@b SIP/2.0\r\n\r\n"), op: ws.OpText},
		{name: "empty is text", p: []byte{}, op: ws.OpText},
		{name: "non-UTF-8 is binary", p: []byte{'S', 0xff, 0xfe}, op: ws.OpBinary},
		{name: "16-bit length", p: bytes.Repeat([]byte("a"), 300), op: ws.OpText},
		{name: "64-bit length, chunked", p: bytes.Repeat([]byte("b"), 3*maxWriteBuf+7), op: ws.OpText},
	}
	keys := make(map[[4]byte]bool)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := append([]byte(nil), tt.p...)
			// A reader of p during the write: the race detector reports
			// any write to p, even one undone before WriteMessage returns.
			stop := make(chan struct{})
			watched := make(chan struct{})
			go func() {
				defer close(watched)
				var sum byte
				for {
					select {
					case <-stop:
						return
					default:
					}
					for _, b := range tt.p {
						sum += b
					}
				}
			}()
			err := c.WriteMessage(tt.p)
			close(stop)
			<-watched
			if err != nil {
				t.Fatalf("WriteMessage = %v, want nil", err)
			}
			if !bytes.Equal(tt.p, orig) {
				t.Fatalf("WriteMessage modified p")
			}
			f := wstest.Await(t, frames)
			if !f.Header.Fin || !f.Header.Masked || f.Header.OpCode != tt.op || f.Header.Rsv != 0 {
				t.Errorf("header = %+v, want final, masked, rsv 0, opcode %v", f.Header, tt.op)
			}
			if !bytes.Equal(f.Payload, tt.p) {
				t.Errorf("unmasked payload = %d bytes, want the %d bytes written", len(f.Payload), len(tt.p))
			}
			if keys[f.Header.Mask] {
				t.Errorf("masking key %x used twice", f.Header.Mask)
			}
			keys[f.Header.Mask] = true
		})
	}
	for i := range 32 {
		if err := c.WriteMessage([]byte("x")); err != nil {
			t.Fatal(err)
		}
		f := wstest.Await(t, frames)
		if keys[f.Header.Mask] {
			t.Fatalf("frame %d: masking key %x used twice", i, f.Header.Mask)
		}
		keys[f.Header.Mask] = true
	}
}

func TestReadMessageLimit(t *testing.T) {
	const limit = 1000
	tests := []struct {
		name string
		send func(c net.Conn) error // what the server sends
		size int64                  // the size TooLarge reports
	}{
		{
			name: "one frame one byte over",
			send: func(c net.Conn) error { return wstest.WriteFrame(c, ws.OpText, true, make([]byte, limit+1)) },
			size: limit + 1,
		},
		{
			name: "declared length alone, payload never sent",
			send: func(c net.Conn) error {
				return ws.WriteHeader(c, ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 40})
			},
			size: 1 << 40,
		},
		{
			name: "fragments over in total",
			send: func(c net.Conn) error {
				wstest.WriteFrame(c, ws.OpText, false, make([]byte, 600))
				return wstest.WriteFrame(c, ws.OpContinuation, true, make([]byte, 401))
			},
			size: limit + 1,
		},
		{
			name: "largest 64-bit length after a fragment",
			send: func(c net.Conn) error {
				wstest.WriteFrame(c, ws.OpText, false, make([]byte, 10))
				return ws.WriteHeader(c, ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: 1<<63 - 1})
			},
			size: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes := make(chan int, 1)
			srv := wstest.ServeSIP(t, func(c net.Conn) {
				tt.send(c)
				code, _, _ := wstest.ReadClose(c)
				codes <- code
			})
			c := dial(t, &Dialer{}, srv.URL(), dialer.Options{MaxMessageSize: limit})
			_, err := c.ReadMessage()
			ce := wstest.CloseErrorOf(t, err)
			if ce.Code != dialer.CloseMessageTooBig || !errors.Is(err, dialer.ErrMessageTooLarge) {
				t.Fatalf("ReadMessage = %v, want 1009 wrapping ErrMessageTooLarge", err)
			}
			if want := dialer.TooLarge(tt.size, limit); err.Error() != want.Error() {
				t.Errorf("ReadMessage = %q, want %q", err, want)
			}
			if got := wstest.Await(t, codes); got != dialer.CloseMessageTooBig {
				t.Errorf("server got close %d, want 1009", got)
			}
			if _, again := c.ReadMessage(); again != err {
				t.Errorf("ReadMessage again = %v, want the same %v", again, err)
			}
		})
	}
}

func TestReadMessageServerClose(t *testing.T) {
	tests := []struct {
		name       string
		body       []byte
		wantCode   int
		wantReason string
	}{
		{name: "code and reason", body: closeBody(4000, "going for lunch"), wantCode: 4000, wantReason: "going for lunch"},
		{name: "normal without reason", body: closeBody(1000, ""), wantCode: 1000},
		{name: "try again later (IANA)", body: closeBody(1013, "busy"), wantCode: 1013, wantReason: "busy"},
		{name: "no body is 1005", body: nil, wantCode: dialer.CloseNoStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			echoed := make(chan int, 1)
			srv := wstest.ServeSIP(t, func(c net.Conn) {
				wstest.WriteFrame(c, ws.OpText, true, []byte("last words"))
				wstest.WriteFrame(c, ws.OpClose, true, tt.body)
				code, _, _ := wstest.ReadClose(c)
				echoed <- code
			})
			c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
			if p, err := c.ReadMessage(); err != nil || string(p) != "last words" {
				t.Fatalf("ReadMessage = %q, %v; want the message sent before the close", p, err)
			}
			_, err := c.ReadMessage()
			ce := wstest.CloseErrorOf(t, err)
			if ce.Code != tt.wantCode || ce.Reason != tt.wantReason {
				t.Errorf("ReadMessage = %d %q, want %d %q", ce.Code, ce.Reason, tt.wantCode, tt.wantReason)
			}
			if got := wstest.Await(t, echoed); got != tt.wantCode {
				t.Errorf("client echoed %d, want %d", got, tt.wantCode)
			}
			if err := c.WriteMessage([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("WriteMessage after the close = %v, want net.ErrClosed", err)
			}
		})
	}
}

func TestReadMessageDrop(t *testing.T) {
	tests := []struct {
		name  string
		send  func(c net.Conn)
		cause error
	}{
		{name: "between frames", send: func(c net.Conn) {}, cause: io.EOF},
		{
			name:  "after the first header byte",
			send:  func(c net.Conn) { c.Write([]byte{0x81}) },
			cause: io.ErrUnexpectedEOF,
		},
		{
			name:  "before the extended length",
			send:  func(c net.Conn) { c.Write([]byte{0x81, 126}) },
			cause: io.ErrUnexpectedEOF,
		},
		{
			name:  "mid header",
			send:  func(c net.Conn) { c.Write([]byte{0x81, 126, 0x01}) },
			cause: io.ErrUnexpectedEOF,
		},
		{
			name:  "mid payload",
			send:  func(c net.Conn) { c.Write([]byte{0x81, 5, 'a', 'b'}) },
			cause: io.ErrUnexpectedEOF,
		},
		{
			name:  "mid fragmented payload",
			send:  func(c net.Conn) { c.Write(append([]byte{0x81, 126, 0x20, 0x00}, make([]byte, 5000)...)) },
			cause: io.ErrUnexpectedEOF,
		},
		{
			name:  "mid control payload",
			send:  func(c net.Conn) { c.Write([]byte{0x89, 5, 'a'}) },
			cause: io.ErrUnexpectedEOF,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := wstest.ServeSIP(t, tt.send) // returning drops the TCP connection
			c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
			_, err := c.ReadMessage()
			if ce := wstest.CloseErrorOf(t, err); ce.Code != dialer.CloseAbnormal || !errors.Is(err, tt.cause) {
				t.Errorf("ReadMessage = %v, want 1006 wrapping %v", err, tt.cause)
			}
		})
	}
}

func TestReadMessageReset(t *testing.T) {
	srv := wstest.ServeSIP(t, func(c net.Conn) {
		c.(*net.TCPConn).SetLinger(0) // close sends RST
	})
	c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
	_, err := c.ReadMessage()
	if ce := wstest.CloseErrorOf(t, err); ce.Code != dialer.CloseAbnormal || ce.Err == nil {
		t.Errorf("ReadMessage = %v, want 1006 with the socket's error", err)
	}
}

func TestReadMessagePingPong(t *testing.T) {
	pongs := make(chan wstest.Frame, 2)
	srv := wstest.ServeSIP(t, func(c net.Conn) {
		wstest.WriteFrame(c, ws.OpPing, true, []byte("are you there?"))
		wstest.WriteFrame(c, ws.OpPong, true, []byte("unsolicited"))
		wstest.WriteFrame(c, ws.OpPing, true, nil)
		wstest.WriteFrame(c, ws.OpText, true, []byte("after the pings"))
		for range 2 {
			f, err := wstest.ReadFrame(c)
			if err != nil {
				return
			}
			pongs <- f
		}
		wstest.ReadClose(c)
	})
	c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
	p, err := c.ReadMessage()
	if err != nil || string(p) != "after the pings" {
		t.Fatalf("ReadMessage = %q, %v; want the message after the pings", p, err)
	}
	for _, want := range []string{"are you there?", ""} {
		f := wstest.Await(t, pongs)
		if f.Header.OpCode != ws.OpPong || !f.Header.Masked || string(f.Payload) != want {
			t.Errorf("answer = %v masked %v %q, want a masked pong %q", f.Header.OpCode, f.Header.Masked, f.Payload, want)
		}
	}
}

func TestReadMessageFragmented(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 1000) // over the read buffer
	tests := []struct {
		name   string
		frames []wstest.Frame
		want   []byte
	}{
		{
			name: "text and continuations with a ping between",
			frames: []wstest.Frame{
				{Header: ws.Header{OpCode: ws.OpText}, Payload: []byte("INVITE sip:bob")},
				{Header: ws.Header{OpCode: ws.OpPing, Fin: true}, Payload: []byte("ping")},
				{Header: ws.Header{OpCode: ws.OpContinuation}, Payload: []byte("@example.com")},
				{Header: ws.Header{OpCode: ws.OpPong, Fin: true}, Payload: nil},
				{Header: ws.Header{OpCode: ws.OpContinuation, Fin: true}, Payload: []byte(" SIP/2.0")},
			},
			want: []byte("INVITE sip:bob@example.com SIP/2.0"),
		},
		{
			name: "binary with empty fragments",
			frames: []wstest.Frame{
				{Header: ws.Header{OpCode: ws.OpBinary}, Payload: nil},
				{Header: ws.Header{OpCode: ws.OpContinuation}, Payload: []byte{0xff}},
				{Header: ws.Header{OpCode: ws.OpContinuation, Fin: true}, Payload: nil},
			},
			want: []byte{0xff},
		},
		{
			name: "only empty fragments",
			frames: []wstest.Frame{
				{Header: ws.Header{OpCode: ws.OpText}, Payload: nil},
				{Header: ws.Header{OpCode: ws.OpContinuation, Fin: true}, Payload: nil},
			},
			want: []byte{},
		},
		{
			name: "larger than the read buffer",
			frames: []wstest.Frame{
				{Header: ws.Header{OpCode: ws.OpText}, Payload: big[:3000]},
				{Header: ws.Header{OpCode: ws.OpContinuation}, Payload: big[3000:9000]},
				{Header: ws.Header{OpCode: ws.OpContinuation, Fin: true}, Payload: big[9000:]},
			},
			want: big,
		},
		{
			name:   "one frame larger than the read buffer",
			frames: []wstest.Frame{{Header: ws.Header{OpCode: ws.OpText, Fin: true}, Payload: big}},
			want:   big,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pongs := make(chan []byte, len(tt.frames))
			srv := wstest.ServeSIP(t, func(c net.Conn) {
				for _, f := range tt.frames {
					wstest.WriteFrame(c, f.Header.OpCode, f.Header.Fin, f.Payload)
				}
				wstest.WriteFrame(c, ws.OpText, true, []byte("next"))
				for {
					f, err := wstest.ReadFrame(c)
					if err != nil || f.Header.OpCode == ws.OpClose {
						close(pongs)
						return
					}
					pongs <- f.Payload
				}
			})
			c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
			got, err := c.ReadMessage()
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("ReadMessage = %d bytes %.40q, %v; want %d bytes %.40q", len(got), got, err, len(tt.want), tt.want)
			}
			if got, err := c.ReadMessage(); err != nil || string(got) != "next" {
				t.Fatalf("second ReadMessage = %q, %v; want %q", got, err, "next")
			}
			c.Close(dialer.CloseNormalClosure, "")
			var answered []string
			for p := range pongs {
				answered = append(answered, string(p))
			}
			var want []string
			for _, f := range tt.frames {
				if f.Header.OpCode == ws.OpPing {
					want = append(want, string(f.Payload))
				}
			}
			if strings.Join(answered, ",") != strings.Join(want, ",") {
				t.Errorf("pongs = %q, want %q", answered, want)
			}
		})
	}
}

func TestReadMessageProtocolError(t *testing.T) {
	tests := []struct {
		name  string
		raw   []byte // bytes the server sends
		code  int
		cause error
	}{
		{name: "masked server frame", raw: []byte{0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}, code: 1002, cause: ws.ErrProtocolMaskUnexpected},
		{name: "reserved bit without extension", raw: []byte{0xc1, 1, 'a'}, code: 1002, cause: ws.ErrProtocolNonZeroRsv},
		{name: "reserved data opcode", raw: []byte{0x83, 0}, code: 1002, cause: ws.ErrProtocolOpCodeReserved},
		{name: "reserved control opcode", raw: []byte{0x8b, 0}, code: 1002, cause: ws.ErrProtocolOpCodeReserved},
		{name: "fragmented control frame", raw: []byte{0x09, 0}, code: 1002, cause: ws.ErrProtocolControlNotFinal},
		{name: "control frame over 125 bytes", raw: append([]byte{0x89, 126, 0, 126}, make([]byte, 126)...), code: 1002, cause: ws.ErrProtocolControlPayloadOverflow},
		{name: "continuation with no message", raw: []byte{0x80, 1, 'a'}, code: 1002, cause: ws.ErrProtocolContinuationUnexpected},
		{name: "new message inside a fragmented one", raw: []byte{0x01, 1, 'a', 0x81, 1, 'b'}, code: 1002, cause: ws.ErrProtocolContinuationExpected},
		{name: "64-bit length with top bit", raw: []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, code: 1002, cause: ws.ErrHeaderLengthMSB},
		{name: "close with a 1-byte body", raw: []byte{0x88, 1, 3}, code: 1002, cause: ws.ErrProtocolStatusCodeUnknown},
		{name: "close with 1005", raw: []byte{0x88, 2, 0x03, 0xed}, code: 1002, cause: ws.ErrProtocolStatusCodeUnknown},
		{name: "close with 999", raw: []byte{0x88, 2, 0x03, 0xe7}, code: 1002, cause: ws.ErrProtocolStatusCodeUnknown},
		{name: "close with 5000", raw: []byte{0x88, 2, 0x13, 0x88}, code: 1002, cause: ws.ErrProtocolStatusCodeUnknown},
		{name: "close reason not UTF-8", raw: []byte{0x88, 4, 0x03, 0xe8, 0xff, 0xfe}, code: 1007, cause: ws.ErrProtocolInvalidUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes := make(chan int, 1)
			srv := wstest.ServeSIP(t, func(c net.Conn) {
				c.Write(tt.raw)
				code, _, _ := wstest.ReadClose(c)
				codes <- code
			})
			c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
			_, err := c.ReadMessage()
			if ce := wstest.CloseErrorOf(t, err); ce.Code != tt.code || !errors.Is(err, tt.cause) {
				t.Errorf("ReadMessage = %v, want %d wrapping %v", err, tt.code, tt.cause)
			}
			if got := wstest.Await(t, codes); got != tt.code {
				t.Errorf("server got close %d, want %d", got, tt.code)
			}
		})
	}
}

func TestReadMessageSmallBuffer(t *testing.T) {
	// A read buffer below the minimum is raised so that control frames
	// still fit; messages larger than it go through the reassembly buffer.
	srv := wstest.ServeSIP(t, func(c net.Conn) {
		wstest.WriteFrame(c, ws.OpPing, true, bytes.Repeat([]byte("p"), 125))
		wstest.WriteFrame(c, ws.OpText, true, bytes.Repeat([]byte("m"), 1000))
		wstest.ReadClose(c)
	})
	c := dial(t, &Dialer{ReadBufferSize: 16}, srv.URL(), dialer.Options{})
	if got := c.br.Size(); got != minReadBufferSize {
		t.Errorf("read buffer = %d bytes, want %d", got, minReadBufferSize)
	}
	p, err := c.ReadMessage()
	if err != nil || len(p) != 1000 {
		t.Fatalf("ReadMessage = %d bytes, %v; want 1000 bytes", len(p), err)
	}
}

func TestPongWaitsForWriteInProgress(t *testing.T) {
	// A ping that arrives while a message is being written is answered
	// after the message, never in the middle of its frame, even between
	// the Writes of a chunked one.
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipeConn(t)
		msg := bytes.Repeat([]byte("x"), 2*maxWriteBuf+7) // three Writes
		werr := make(chan error, 1)
		go func() { werr <- c.WriteMessage(msg) }()
		synctest.Wait() // the first Write is blocked, the peer not reading yet
		go wstest.WriteFrame(peer, ws.OpPing, true, []byte("ping"))
		read := wstest.ReadAsync(c)
		synctest.Wait() // the reader has the ping and waits to answer it

		r := bufio.NewReaderSize(peer, 16) // the message crosses the pipe in small pieces
		f, err := wstest.ReadFrame(r)
		if err != nil || f.Header.OpCode != ws.OpText || !bytes.Equal(f.Payload, msg) {
			t.Fatalf("first frame = %v %d bytes (%v), want the whole message", f.Header.OpCode, len(f.Payload), err)
		}
		if err := <-werr; err != nil {
			t.Errorf("WriteMessage = %v, want nil", err)
		}
		select {
		case r := <-read:
			t.Fatalf("ReadMessage = %v before answering the ping", r.Err)
		default:
		}
		if f, err := wstest.ReadFrame(r); err != nil || f.Header.OpCode != ws.OpPong || string(f.Payload) != "ping" {
			t.Errorf("second frame = %v %q (%v), want the pong %q", f.Header.OpCode, f.Payload, err, "ping")
		}
		go io.Copy(io.Discard, r)
		c.Close(dialer.CloseNormalClosure, "")
		<-read
	})
}

func TestNoFrameAfterFailedWrite(t *testing.T) {
	// A write that fails part-way leaves half a frame on the wire: no
	// message, pong or close frame may follow it, or the peer would read
	// garbage as a frame.
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipeConn(t)
		got := make(chan int, 1)
		go func() {
			io.ReadFull(peer, make([]byte, 10)) // then stops reading
			got <- 10
		}()
		c.nc.SetWriteDeadline(time.Now().Add(time.Second)) // as a socket whose send times out
		err := c.WriteMessage(make([]byte, 1000))
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("WriteMessage = %v, want the deadline", err)
		}
		<-got // 10 bytes of the frame are out
		c.nc.SetWriteDeadline(time.Time{})

		if err := c.WriteMessage([]byte("next")); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("WriteMessage after the failure = %v, want the first failure again", err)
		}
		go wstest.WriteFrame(peer, ws.OpPing, true, []byte("ping"))
		_, err = c.ReadMessage()
		if ce := wstest.CloseErrorOf(t, err); ce.Code != dialer.CloseAbnormal || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("ReadMessage = %v, want 1006: the pong cannot be sent", err)
		}
		if err := c.Close(dialer.CloseNormalClosure, ""); err != nil {
			t.Errorf("Close = %v, want nil", err)
		}
		if n, err := peer.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("peer read = %d bytes, %v; want io.EOF: nothing after the broken frame", n, err)
		}
	})
}
