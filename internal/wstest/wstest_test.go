package wstest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
)

// fatalTB is a testing.TB whose Fatal and Fatalf record the failure and end
// the calling goroutine, as the real ones do, without failing the test.
type fatalTB struct {
	testing.TB
	failure chan string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatal(args ...any) {
	f.failure <- fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.failure <- fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failure runs fn in a goroutine with a fatalTB and returns what it
// reported through Fatal or Fatalf, or "" if it returned normally.
func failure(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	f := &fatalTB{TB: t, failure: make(chan string, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	Await(t, done)
	select {
	case msg := <-f.failure:
		return msg
	default:
		return ""
	}
}

// dialWS opens a gobwas client connection to url offering protocols, and
// returns it with the reader that holds whatever followed the handshake.
func dialWS(t *testing.T, url string, protocols ...string) (net.Conn, io.Reader, ws.Handshake) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	c, br, hs, err := ws.Dialer{Protocols: protocols}.Dial(ctx, url)
	if err != nil {
		t.Fatalf("Dial(%s) = %v, want a connection", url, err)
	}
	t.Cleanup(func() { c.Close() })
	var r io.Reader = c
	if br != nil {
		r = io.MultiReader(br, c)
	}
	return c, r, hs
}

func TestServeSIPSelectsSipAndCarriesFrames(t *testing.T) {
	got := make(chan Frame, 1)
	srv := ServeSIP(t, func(c net.Conn) {
		f, err := ReadFrame(c)
		if err != nil {
			return
		}
		got <- f
		WriteFrame(c, ws.OpText, true, f.Payload)
	})
	if !strings.HasPrefix(srv.URL(), "ws://127.0.0.1:") {
		t.Errorf("URL = %q, want ws://127.0.0.1:PORT/", srv.URL())
	}
	c, r, hs := dialWS(t, srv.URL(), "chat", dialer.Subprotocol)
	if hs.Protocol != dialer.Subprotocol {
		t.Fatalf("server selected %q, want %q", hs.Protocol, dialer.Subprotocol)
	}
	msg := []byte("OPTIONS sip:127.0.0.1 SIP/2.0\r\n\r\n")
	if err := ws.WriteFrame(c, ws.MaskFrameInPlace(ws.NewTextFrame(bytes.Clone(msg)))); err != nil {
		t.Fatal(err)
	}
	f := Await(t, got)
	if !f.Header.Masked || f.Header.OpCode != ws.OpText || !f.Header.Fin || !bytes.Equal(f.Payload, msg) {
		t.Errorf("server read %+v %q, want the masked final text frame %q, unmasked", f.Header, f.Payload, msg)
	}
	back, err := ReadFrame(r)
	if err != nil || back.Header.Masked || back.Header.OpCode != ws.OpText || !bytes.Equal(back.Payload, msg) {
		t.Errorf("client read %+v %q (%v), want an unmasked text frame %q", back.Header, back.Payload, err, msg)
	}
}

func TestServerCloseEndsHandlers(t *testing.T) {
	started := make(chan struct{})
	readErr := make(chan error, 1)
	release := make(chan struct{})
	releaseHandler := sync.OnceFunc(func() { close(release) })
	defer releaseHandler() // before the cleanup's Close, on every path
	srv := ServeRaw(t, func(c net.Conn) {
		close(started)
		_, err := c.Read(make([]byte, 1)) // the client sends nothing
		readErr <- err
		<-release // a handler still busy after its connection closed
	})
	addr := strings.TrimSuffix(strings.TrimPrefix(srv.URL(), "ws://"), "/")
	c, err := net.DialTimeout("tcp", addr, Wait)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	Await(t, started)
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	if err := Await(t, readErr); !errors.Is(err, net.ErrClosed) {
		t.Errorf("handler's Read = %v, want net.ErrClosed: Close must close the connection", err)
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a handler was still running")
	case <-time.After(50 * time.Millisecond): // Close is still waiting, as it must
	}
	releaseHandler()
	Await(t, closed)
	srv.Close() // again, as the cleanup will
	if c2, err := net.DialTimeout("tcp", addr, Wait); err == nil {
		c2.Close()
		t.Errorf("a dial after Close connected, want the listener closed")
	}
}

func TestUpgradeResponseAccepted(t *testing.T) {
	srv := ServeRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.WriteString(c, UpgradeResponse(req, "Sec-WebSocket-Protocol: sip\r\n"))
		ReadClose(br)
	})
	// gobwas checks Sec-WebSocket-Accept: a wrong one fails the dial.
	_, _, hs := dialWS(t, srv.URL(), dialer.Subprotocol)
	if hs.Protocol != dialer.Subprotocol {
		t.Errorf("handshake selected %q, want %q", hs.Protocol, dialer.Subprotocol)
	}
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name   string
		frame  ws.Frame
		masked bool
	}{
		{name: "masked, as a client sends", frame: ws.MaskFrameInPlace(ws.NewBinaryFrame([]byte{0, 1, 0xff})), masked: true},
		{name: "unmasked, as a server sends", frame: ws.NewFrame(ws.OpContinuation, false, []byte("part"))},
		{name: "empty", frame: ws.NewPingFrame(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []byte
			if tt.frame.Payload != nil {
				want = bytes.Clone(tt.frame.Payload)
				if tt.masked {
					ws.Cipher(want, tt.frame.Header.Mask, 0)
				}
			}
			var b bytes.Buffer
			ws.WriteFrame(&b, tt.frame)
			f, err := ReadFrame(&b)
			if err != nil || f.Header != tt.frame.Header || !bytes.Equal(f.Payload, want) {
				t.Errorf("ReadFrame = %+v %q, %v; want %+v %q", f.Header, f.Payload, err, tt.frame.Header, want)
			}
		})
	}
	t.Run("cut in the payload", func(t *testing.T) {
		if _, err := ReadFrame(bytes.NewReader([]byte{0x81, 5, 'a', 'b'})); err != io.ErrUnexpectedEOF {
			t.Errorf("ReadFrame = %v, want io.ErrUnexpectedEOF", err)
		}
	})
}

func TestReadClose(t *testing.T) {
	tests := []struct {
		name       string
		frames     []ws.Frame
		wantCode   int
		wantReason string
		wantErr    error
	}{
		{
			name: "after data and control frames",
			frames: []ws.Frame{
				ws.NewTextFrame([]byte("one")),
				ws.NewPongFrame([]byte("p")),
				ws.NewCloseFrame(ws.NewCloseFrameBody(4001, "bye")),
				ws.NewTextFrame([]byte("after")),
			},
			wantCode: 4001, wantReason: "bye",
		},
		{name: "no code is 1005", frames: []ws.Frame{ws.NewCloseFrame(nil)}, wantCode: dialer.CloseNoStatus},
		{name: "stream ends first", frames: []ws.Frame{ws.NewTextFrame([]byte("one"))}, wantErr: io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			for _, f := range tt.frames {
				ws.WriteFrame(&b, ws.MaskFrameInPlace(f))
			}
			code, reason, err := ReadClose(&b)
			if code != tt.wantCode || reason != tt.wantReason || err != tt.wantErr {
				t.Errorf("ReadClose = %d %q %v, want %d %q %v", code, reason, err, tt.wantCode, tt.wantReason, tt.wantErr)
			}
		})
	}
}

func TestWriteFrame(t *testing.T) {
	var b bytes.Buffer
	if err := WriteFrame(&b, ws.OpBinary, false, []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFrame(&b)
	if err != nil || f.Header.OpCode != ws.OpBinary || f.Header.Fin || f.Header.Masked || !bytes.Equal(f.Payload, []byte{1, 2, 3}) {
		t.Errorf("wrote %+v %v (%v), want an unmasked, non-final binary frame of 1 2 3", f.Header, f.Payload, err)
	}
}

func TestAwait(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	if got := Await(t, ch); got != 7 {
		t.Errorf("Await = %d, want 7", got)
	}
	start := time.Now()
	msg := failure(t, func(tb testing.TB) { await(tb, make(chan int), 20*time.Millisecond) })
	if msg == "" {
		t.Fatal("await on a silent channel returned, want a failure")
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("await failed after %v, before its bound", d)
	}
	if !strings.Contains(msg, "20ms") {
		t.Errorf("failure %q, want it to name the bound", msg)
	}
}

// fakeConn is a dialer.Conn with scripted reads that records its Close.
type fakeConn struct {
	msg    []byte
	err    error
	closed chan int // the code of each Close
}

func (c *fakeConn) ReadMessage() ([]byte, error) { return c.msg, c.err }
func (c *fakeConn) WriteMessage([]byte) error    { return nil }
func (c *fakeConn) Close(code int, _ string) error {
	c.closed <- code
	return nil
}

func TestReadAsync(t *testing.T) {
	c := &fakeConn{msg: []byte("SIP/2.0 200 OK"), err: io.ErrUnexpectedEOF}
	r := Await(t, ReadAsync(c))
	c.msg[0] = 'X' // the next ReadMessage may reuse its buffer
	if string(r.Message) != "SIP/2.0 200 OK" || r.Err != io.ErrUnexpectedEOF {
		t.Errorf("ReadAsync = %q, %v; want a copy of the message and the error", r.Message, r.Err)
	}
}

func TestCloseErrorOf(t *testing.T) {
	want := &dialer.CloseError{Code: 4000, Reason: "bye"}
	if got := CloseErrorOf(t, fmt.Errorf("read: %w", want)); got != want {
		t.Errorf("CloseErrorOf = %v, want the wrapped %v", got, want)
	}
	msg := failure(t, func(tb testing.TB) { CloseErrorOf(tb, io.EOF) })
	if !strings.Contains(msg, "EOF") || !strings.Contains(msg, "*dialer.CloseError") {
		t.Errorf("failure %q, want it to show the error and what was wanted", msg)
	}
}

// dialerFunc adapts a function to dialer.Dialer.
type dialerFunc func(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error)

func (f dialerFunc) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	return f(ctx, url, o)
}

func TestDial(t *testing.T) {
	c := &fakeConn{closed: make(chan int, 1)}
	var bounded bool
	d := dialerFunc(func(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
		deadline, ok := ctx.Deadline()
		bounded = ok && time.Until(deadline) <= Wait
		if url != "ws://127.0.0.1:1/" || o.MaxMessageSize != 10 {
			return nil, fmt.Errorf("dialed %s with %+v", url, o)
		}
		return c, nil
	})
	t.Run("opens and closes at cleanup", func(t *testing.T) {
		if got := Dial(t, d, "ws://127.0.0.1:1/", dialer.Options{MaxMessageSize: 10}); got != c {
			t.Fatalf("Dial = %v, want the dialer's connection", got)
		}
		if !bounded {
			t.Errorf("Dial's context has no deadline within %v", Wait)
		}
	})
	select {
	case code := <-c.closed:
		if code != dialer.CloseNormalClosure {
			t.Errorf("closed at cleanup with %d, want 1000", code)
		}
	default:
		t.Error("the connection was not closed when its test ended")
	}
	msg := failure(t, func(tb testing.TB) { Dial(tb, d, "ws://127.0.0.1:2/", dialer.Options{}) })
	if !strings.Contains(msg, "ws://127.0.0.1:2/") {
		t.Errorf("failure %q, want it to name the URL", msg)
	}
}

// The scripted connection completes a real handshake and then delivers its
// stream: checked with gobwas's own client.
func TestScriptedDial(t *testing.T) {
	frame := ws.MustCompileFrame(ws.NewTextFrame([]byte("hello")))
	d := ws.Dialer{Protocols: []string{"sip"}, NetDial: ScriptedDial(frame)}
	c, br, hs, err := d.Dial(context.Background(), "ws://scripted.invalid/")
	if err != nil || hs.Protocol != "sip" {
		t.Fatalf("Dial = %v, protocol %q", err, hs.Protocol)
	}
	defer c.Close()
	var r io.Reader = c
	if br != nil {
		r = br
	}
	f, err := ReadFrame(r)
	if err != nil || string(f.Payload) != "hello" {
		t.Fatalf("ReadFrame = %q, %v", f.Payload, err)
	}
	if _, err := ReadFrame(r); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("after the stream: %v, want EOF", err)
	}
}

func TestFloodAndDrainServers(t *testing.T) {
	frame := ws.MustCompileFrame(ws.NewTextFrame([]byte("flood")))
	srv := FloodServer(t, frame)
	c, r, _ := dialWS(t, srv.URL(), dialer.Subprotocol)
	for i := range 3 {
		f, err := ReadFrame(r)
		if err != nil || string(f.Payload) != "flood" {
			t.Fatalf("frame %d = %q, %v; want %q", i, f.Payload, err, "flood")
		}
	}
	c.Close()

	drain := DrainServer(t)
	c, _, _ = dialWS(t, drain.URL(), dialer.Subprotocol)
	for range 100 {
		if err := ws.WriteFrame(c, ws.MaskFrameInPlace(ws.NewTextFrame(make([]byte, 10000)))); err != nil {
			t.Fatalf("writing to a draining server: %v", err)
		}
	}
}

// errorTB records Errorf.
type errorTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (e *errorTB) Helper() {}
func (e *errorTB) Errorf(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errors = append(e.errors, fmt.Sprintf(format, args...))
}

func TestSerialReportsOverlap(t *testing.T) {
	rec := &errorTB{TB: t}
	client, peer := net.Pipe()
	defer peer.Close()
	var sc net.Conn
	t.Run("overlapping", func(t *testing.T) {
		rec.TB = t
		sc = Serial(rec, client)
		// Two writes at once: one blocks on the pipe (nobody reads), the
		// other overlaps it.
		errs := make(chan error, 2)
		for range 2 {
			go func() { _, err := sc.Write([]byte("nobody reads")); errs <- err }()
		}
		if err := Await(t, errs); !errors.Is(err, errOverlap) {
			t.Errorf("the overlapping Write = %v, want errOverlap", err)
		}
		client.Close()
		Await(t, errs)
	})
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], "overlapped") {
		t.Errorf("Serial reported %q; want one report of overlapping Writes", rec.errors)
	}
}

func TestAllocsPerOp(t *testing.T) {
	buf := make([]byte, 0, 64)
	got := AllocsPerOp(t, func() error { buf = append(buf[:0], "no allocation"...); return nil })
	if got != 0 {
		t.Errorf("AllocsPerOp of an append into room = %v, want 0", got)
	}
	sink := [][]byte{}
	if got := AllocsPerOp(t, func() error { sink = append(sink[:0], make([]byte, 100)); return nil }); got < 1 {
		t.Errorf("AllocsPerOp of a make = %v, want at least 1", got)
	}
}
