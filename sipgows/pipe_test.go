package sipgows

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	gws "github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/transport"
)

// pipeCase is one rule of the pipe, the in-memory WebSocket connection
// between sipgo and the bridge, checked with a bare gobwas client in place
// of sipgo and a fake transport, inside a synctest bubble.
type pipeCase struct {
	name string
	rule string
	run  func(t *testing.T, f *fakeTransport, b *Bridge)
}

const options = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/WS a1b2c3d4.invalid;branch=z9hG4bK1\r\n" +
	"From: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n" +
	"Content-Length: 0\r\n\r\n"

var pipeCases = []pipeCase{
	{
		name: "Handshake",
		rule: "sipgo's dialer completes the WebSocket handshake over a pipe and gets the sip subprotocol " +
			"(RFC 7118 §4); the pipe's LocalAddr is the Via sent-by, host with port 0, and its RemoteAddr the " +
			"address dialed, as a *net.TCPAddr",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c, hs := dialPipe(t, b, Destination)
			if hs.Protocol != "sip" {
				t.Errorf("subprotocol %q, want sip", hs.Protocol)
			}
			if got, want := c.LocalAddr().String(), testViaHost+":0"; got != want {
				t.Errorf("LocalAddr %q, want %q", got, want)
			}
			if ra, ok := c.RemoteAddr().(*net.TCPAddr); !ok || ra.String() != Destination {
				t.Errorf("RemoteAddr %#v, want the *net.TCPAddr %s", c.RemoteAddr(), Destination)
			}
		},
	},
	{
		name: "AnySplit",
		rule: "the frames sipgo writes are decoded whatever the split of its writes: header and payload " +
			"apart (sipgo's way), byte by byte, or two frames in one write; each whole message is sent once, in order",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c, _ := dialPipe(t, b, Destination)
			one := maskedFrame(gws.OpText, true, options)
			writeAll(t, c, one[:6], one[6:])
			var bytewise [][]byte
			for i := range one {
				bytewise = append(bytewise, one[i:i+1])
			}
			writeAll(t, c, bytewise...)
			writeAll(t, c, append(maskedFrame(gws.OpText, true, "first"+options), maskedFrame(gws.OpBinary, true, "second"+options)...))
			want := []string{options, options, "first" + options, "second" + options}
			if got := f.sentMessages(); !equalStrings(got, want) {
				t.Errorf("sent %q, want %q", got, want)
			}
		},
	},
	{
		name: "WriteDoesNotModify",
		rule: "Write never modifies the bytes sipgo gives it, not even to unmask them (io.Writer's contract)",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c, _ := dialPipe(t, b, Destination)
			fr := maskedFrame(gws.OpText, true, options)
			keep := bytes.Clone(fr)
			writeAll(t, c, fr)
			if !bytes.Equal(fr, keep) {
				t.Error("Write modified its argument")
			}
		},
	},
	{
		name: "Fragmented",
		rule: "a fragmented message from sipgo is reassembled and sent once; a Ping between its fragments is " +
			"answered with a Pong carrying its payload (RFC 6455 §5.4, §5.5.2)",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c, _ := dialPipe(t, b, Destination)
			writeAll(t, c, maskedFrame(gws.OpText, false, options[:10]), maskedFrame(gws.OpPing, true, "p1"),
				maskedFrame(gws.OpContinuation, true, options[10:]))
			if got := f.sentMessages(); !equalStrings(got, []string{options}) {
				t.Errorf("sent %q, want the reassembled message", got)
			}
			if h, p := readFrame(t, c); h.OpCode != gws.OpPong || string(p) != "p1" {
				t.Errorf("read %v %q, want a Pong with p1", h.OpCode, p)
			}
		},
	},
	{
		name: "SendErrorFailsWrite",
		rule: "when the transport cannot send (not OPEN during a failover), the write that completes the message " +
			"fails with the transport's error, as a socket error would, so sipgo's request fails at once instead " +
			"of waiting 32 s for Timer F; the stream stays in step and the next message goes",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c, _ := dialPipe(t, b, Destination)
			f.setErr(transport.ErrNotConnected)
			fr := maskedFrame(gws.OpText, true, options)
			if _, err := c.Write(fr[:6]); err != nil {
				t.Fatalf("header write: %v", err)
			}
			if _, err := c.Write(fr[6:]); !errors.Is(err, transport.ErrNotConnected) {
				t.Fatalf("payload write: %v, want an error wrapping transport.ErrNotConnected", err)
			}
			f.setErr(nil)
			writeAll(t, c, maskedFrame(gws.OpText, true, "next"+options))
			if got := f.sentMessages(); !equalStrings(got, []string{"next" + options}) {
				t.Errorf("sent %q, want only the next message", got)
			}
			if st := b.Stats(); st.SendErrors != 1 || st.MessagesOut != 1 {
				t.Errorf("stats %+v, want 1 send error and 1 message out", st)
			}
		},
	},
	{
		name: "TooLargeFromSipgo",
		rule: "a message from sipgo over 1 MiB is discarded and its last write fails with an error wrapping " +
			"dialer.ErrSendTooLarge; the stream stays in step",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c, _ := dialPipe(t, b, Destination)
			if _, err := c.Write(maskedFrame(gws.OpText, true, strings.Repeat("x", maxFromSipgo+1))); !errors.Is(err, dialer.ErrSendTooLarge) {
				t.Fatalf("write: %v, want an error wrapping dialer.ErrSendTooLarge", err)
			}
			writeAll(t, c, maskedFrame(gws.OpText, true, options))
			if got := f.sentMessages(); !equalStrings(got, []string{options}) {
				t.Errorf("sent %d messages, want only the small one", len(got))
			}
		},
	},
	{
		name: "CRLFKeepalive",
		rule: "a CRLF ping from sipgo is answered on the pipe with a CRLF pong and not sent (the transport " +
			"runs its own keepalives, RFC 5626 §3.5.1)",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c, _ := dialPipe(t, b, Destination)
			writeAll(t, c, maskedFrame(gws.OpText, true, "\r\n\r\n"))
			if h, p := readFrame(t, c); h.OpCode != gws.OpText || string(p) != "\r\n" {
				t.Errorf("read %v %q, want a text CRLF", h.OpCode, p)
			}
			if got := f.sentMessages(); len(got) != 0 {
				t.Errorf("sent %q, want nothing", got)
			}
		},
	},
	{
		name: "CloseFrame",
		rule: "a close frame from sipgo ends the pipe: the bridge forgets it, and a read returns io.EOF",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c, _ := dialPipe(t, b, Destination)
			if _, err := c.Write(maskedFrame(gws.OpClose, true, "\x03\xe8")); err == nil {
				t.Error("write of a close frame: nil error, want the pipe's end")
			}
			if _, err := c.Read(make([]byte, 10)); err != io.EOF {
				t.Errorf("read after close: %v, want io.EOF", err)
			}
			if st := b.Stats(); st.Pipes != 0 {
				t.Errorf("%d pipes open, want 0", st.Pipes)
			}
		},
	},
	{
		name: "TextFramesToSipgo",
		rule: "toward sipgo every message is one unmasked, unfragmented TEXT frame, even when it is not " +
			"UTF-8 (sipgo v1.7.3 discards binary frames), with the 7- and 16-bit length forms",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c, _ := dialPipe(t, b, Destination)
			long := strings.Replace(options, "Content-Length: 0\r\n\r\n", "Content-Length: 2000\r\n\r\n", 1) +
				strings.Repeat("\xff", 2000)
			for _, msg := range []string{options, long} {
				f.deliver(t, []byte(msg))
				raw := readRaw(t, c, len(msg))
				h, p := parseFrame(t, raw)
				if h.OpCode != gws.OpText || !h.Fin || h.Masked || string(p) != msg {
					t.Errorf("frame %+v (first bytes %x), want FIN TEXT unmasked with the message", h, raw[:4])
				}
			}
		},
	},
	{
		name: "NoPingToSipgo",
		rule: "the bridge never sends sipgo a WebSocket ping, nor anything else of its own: sipgo v1.7.3 " +
			"desyncs on a ping with a payload; across an hour of idle virtual time, only the messages delivered arrive",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c, _ := dialPipe(t, b, Destination)
			f.deliver(t, []byte(options))
			if h, p := readFrame(t, c); h.OpCode != gws.OpText || string(p) != options {
				t.Fatalf("frame %+v %q, want the delivered message as TEXT", h, p)
			}
			c.SetReadDeadline(time.Now().Add(time.Hour))
			if n, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("idle pipe read %d bytes, %v; want nothing until the deadline", n, err)
			}
		},
	},
	{
		name: "PrimaryPipe",
		rule: "inbound traffic goes to one primary pipe, the oldest open one, in order; when sipgo closes it, " +
			"the next oldest takes over; the others carry only what they are owed",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c1, _ := dialPipe(t, b, Destination)
			c2, _ := dialPipe(t, b, "127.0.0.1:80")
			f.deliver(t, []byte(options))
			if _, p := readFrame(t, c1); string(p) != options {
				t.Errorf("primary read %q", p)
			}
			c2.SetReadDeadline(time.Now().Add(time.Second))
			if _, err := c2.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("second pipe read: %v, want nothing until its deadline", err)
			}
			c2.SetReadDeadline(time.Time{})
			c1.Close()
			f.deliver(t, []byte(options))
			if _, p := readFrame(t, c2); string(p) != options {
				t.Errorf("second pipe read %q after the primary closed", p)
			}
		},
	},
	{
		name: "QueuedBeforePipe",
		rule: "a message that arrives before sipgo opened any pipe waits in the queue and is the first thing " +
			"the first pipe delivers after the handshake",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			f.deliver(t, []byte(options))
			if st := b.Stats(); st.Queued != 1 {
				t.Fatalf("queued %d, want 1", st.Queued)
			}
			c, _ := dialPipe(t, b, Destination)
			if _, p := readFrame(t, c); string(p) != options {
				t.Errorf("read %q, want the queued message", p)
			}
		},
	},
	{
		name: "ReadDeadline",
		rule: "a read waits until its deadline exactly, and moving the deadline into the past wakes a read " +
			"that waits (gobwas's dialer abandons a handshake this way)",
		run: func(t *testing.T, f *fakeTransport, b *Bridge) {
			c, _ := dialPipe(t, b, Destination)
			start := time.Now()
			c.SetReadDeadline(start.Add(3 * time.Second))
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != 3*time.Second {
				t.Errorf("read: %v after %v, want os.ErrDeadlineExceeded after exactly 3s", err, time.Since(start))
			}
			c.SetReadDeadline(time.Time{})
			errc := make(chan error)
			go func() {
				_, err := c.Read(make([]byte, 1))
				errc <- err
			}()
			synctest.Wait()
			c.SetReadDeadline(time.Unix(1, 0))
			if err := <-errc; !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("woken read: %v, want os.ErrDeadlineExceeded", err)
			}
		},
	},
}

func TestPipe(t *testing.T) {
	for _, c := range pipeCases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(transport.Config{ViaHost: testViaHost})
				b, err := New(Config{Transport: f})
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				c.run(t, f, b)
				if t.Failed() {
					t.Log("rule: " + c.rule)
				}
			})
		})
	}
}

// dialPipe opens a pipe to addr with the dialer sipgo gets.
func dialPipe(t *testing.T, b *Bridge, addr string) (net.Conn, gws.Handshake) {
	t.Helper()
	c, br, hs, err := b.dialerCreate(nil).Dial(context.Background(), "ws://"+addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if br != nil {
		t.Fatal("the handshake left bytes in the dialer's buffer: sipgo would lose them")
	}
	t.Cleanup(func() { c.Close() })
	return c, hs
}

func maskedFrame(op gws.OpCode, fin bool, p string) []byte {
	var buf bytes.Buffer
	if err := gws.WriteFrame(&buf, gws.MaskFrame(gws.NewFrame(op, fin, []byte(p)))); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func writeAll(t *testing.T, c net.Conn, parts ...[]byte) {
	t.Helper()
	for _, p := range parts {
		if n, err := c.Write(p); err != nil || n != len(p) {
			t.Fatalf("write of %d bytes: %d, %v", len(p), n, err)
		}
	}
}

func readFrame(t *testing.T, c net.Conn) (gws.Header, []byte) {
	t.Helper()
	h, err := gws.ReadHeader(c)
	if err != nil {
		t.Fatalf("read header: %v", err)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c, p); err != nil {
		t.Fatalf("read payload: %v", err)
	}
	return h, p
}

// readRaw reads the frame of a payload of n bytes, header and all.
func readRaw(t *testing.T, c net.Conn, n int) []byte {
	t.Helper()
	size := 2
	if n >= 126 {
		size = 4
	}
	raw := make([]byte, size+n)
	if _, err := io.ReadFull(c, raw); err != nil {
		t.Fatalf("read: %v", err)
	}
	return raw
}

func parseFrame(t *testing.T, raw []byte) (gws.Header, []byte) {
	t.Helper()
	h, err := gws.ReadHeader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return h, raw[len(raw)-int(h.Length):]
}

func equalStrings(got [][]byte, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if string(got[i]) != want[i] {
			return false
		}
	}
	return true
}

// TestPutHeader checks the three length forms of the frames toward sipgo
// (RFC 6455 §5.2), the 64-bit one included, which no message sipgo reads
// needs.
func TestPutHeader(t *testing.T) {
	for _, n := range []int{0, 125, 126, 65535, 65536, 1 << 20} {
		var h [maxServerHeader]byte
		size := putHeader(h[:], opText, n)
		got, err := gws.ReadHeader(bytes.NewReader(h[len(h)-size:]))
		if err != nil || got.Length != int64(n) || got.OpCode != gws.OpText || !got.Fin || got.Masked {
			t.Errorf("putHeader(%d): %+v, %v; want FIN TEXT unmasked of length %d", n, got, err, n)
		}
	}
}
