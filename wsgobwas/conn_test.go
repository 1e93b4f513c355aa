package wsgobwas

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/idleread"
	"github.com/sipws/sipws/internal/wstest"
)

// This file holds what is particular to this backend: its write
// semaphore, its read buffers, what it reports. The rules every backend
// keeps are the conformance suite's (backend_test.go), and the tests
// shared with ws are wstest.RunBackend's (backend_test.go).

// pipeConn returns a connection over net.Pipe, with o, and the server's
// end. The client's end fails the test if two Writes ever overlap.
func pipeConn(t *testing.T, o dialer.Options) (*conn, net.Conn) {
	client, peer := net.Pipe()
	sc := wstest.Serial(t, client)
	t.Cleanup(func() { peer.Close() })
	return newConn(sc, idleread.NewReader(sc, DefaultReadBufferSize), o), peer
}

func TestCloseWakesReadMessageAtOnce(t *testing.T) {
	// A peer that reads nothing holds the close frame for dialer.CloseTimeout,
	// but not the reader: Close wakes it before sending anything.
	synctest.Test(t, func(t *testing.T) {
		c, _ := pipeConn(t, dialer.Options{})
		start := time.Now()
		type ended struct {
			err   error
			after time.Duration
		}
		read := make(chan ended, 1)
		go func() {
			_, err := c.ReadMessage()
			read <- ended{err, time.Since(start)}
		}()
		synctest.Wait() // the read is blocked
		go c.Close(dialer.CloseNormalClosure, "")
		r := <-read
		if r.after != 0 {
			t.Errorf("ReadMessage returned %v after Close, want at once", r.after)
		}
		if ce := wstest.CloseErrorOf(t, r.err); ce.Code != dialer.CloseAbnormal || !errors.Is(r.err, net.ErrClosed) {
			t.Errorf("ReadMessage = %v, want 1006 wrapping net.ErrClosed", r.err)
		}
	})
}

func TestCloseWakesPongWaitingForWrite(t *testing.T) {
	// The reader answering a ping waits for the write in progress; Close
	// makes it give up at once, while the write gets its second.
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipeConn(t, dialer.Options{})
		start := time.Now()
		wend := make(chan time.Duration, 1)
		go func() {
			c.WriteMessage(make([]byte, 1000)) // the peer never reads it
			wend <- time.Since(start)
		}()
		synctest.Wait()
		go wstest.WriteFrame(peer, ws.OpPing, true, []byte("there?"))
		read := wstest.ReadAsync(c)
		synctest.Wait() // the reader has the ping and waits to answer it
		closed := make(chan time.Duration, 1)
		go func() {
			c.Close(dialer.CloseNormalClosure, "")
			closed <- time.Since(start)
		}()
		r := <-read
		if d := time.Since(start); d != 0 {
			t.Errorf("ReadMessage returned %v after Close, want at once", d)
		}
		if ce := wstest.CloseErrorOf(t, r.Err); ce.Code != dialer.CloseAbnormal || !errors.Is(r.Err, net.ErrClosed) {
			t.Errorf("ReadMessage = %v, want 1006 wrapping net.ErrClosed", r.Err)
		}
		if d := <-wend; d != dialer.CloseTimeout {
			t.Errorf("WriteMessage returned after %v, want %v", d, dialer.CloseTimeout)
		}
		if d := <-closed; d != dialer.CloseTimeout {
			t.Errorf("Close returned after %v, want %v", d, dialer.CloseTimeout)
		}
	})
}

func TestCloseConcurrentWaitsForFirst(t *testing.T) {
	// A second Close while the first waits for a peer that does not read
	// returns when the socket is closed, not before, and sends nothing.
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipeConn(t, dialer.Options{})
		start := time.Now()
		first := make(chan error, 1)
		go func() { first <- c.Close(4000, "first") }()
		synctest.Wait() // the first is writing its close frame
		if err := c.Close(4001, "second"); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
		if d := time.Since(start); d != dialer.CloseTimeout {
			t.Errorf("second Close returned after %v, want %v (when the first closed the socket)", d, dialer.CloseTimeout)
		}
		<-first
		if _, err := peer.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("peer read = %v, want io.EOF: the socket is closed, with no second close frame", err)
		}
	})
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
	if got := c.rd.Size(); got != minReadBufferSize {
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
		c, peer := pipeConn(t, dialer.Options{})
		msg := bytes.Repeat([]byte("x"), dialer.DefaultMaxSendSize) // one Write, blocked on the pipe
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
		c, peer := pipeConn(t, dialer.Options{})
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

// TestReadSideReleasesBuffers: once reading has ended, the connection holds
// neither its read buffer nor a message buffer, and the reader it had from
// the handshake goes back to gobwas's pool.
func TestReadSideReleasesBuffers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipeConn(t, dialer.Options{})
		go io.Copy(io.Discard, peer)
		go wstest.WriteFrame(peer, ws.OpText, false, bytes.Repeat([]byte("m"), 5000)) // reassembled: a pooled buffer
		synctest.Wait()
		c.Close(dialer.CloseNormalClosure, "")
		if _, err := c.ReadMessage(); err == nil {
			t.Fatal("ReadMessage after Close = nil error")
		}
		if c.rd.Holding() || c.msg != nil {
			t.Errorf("read buffer %v and message buffer %v still held after the read side ended", c.rd.Holding(), c.msg != nil)
		}
	})
}

// TestTooLargeReportsSize: this backend reads the declared length, so its
// 1009 says how large the refused message was, overflow included.
func TestTooLargeReportsSize(t *testing.T) {
	const limit = 1000
	for _, tt := range []struct {
		name   string
		frames [][]byte
		size   int64
	}{
		{"one frame", [][]byte{ws.MustCompileFrame(ws.NewTextFrame(make([]byte, limit+1)))}, limit + 1},
		{"fragments", [][]byte{
			ws.MustCompileFrame(ws.NewFrame(ws.OpText, false, make([]byte, 600))),
			ws.MustCompileFrame(ws.NewFrame(ws.OpContinuation, true, make([]byte, 401))),
		}, limit + 1},
		{"the largest length after a fragment", [][]byte{
			ws.MustCompileFrame(ws.NewFrame(ws.OpText, false, make([]byte, 10))),
			{0x80, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		}, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, peer := pipeConn(t, dialer.Options{MaxMessageSize: limit})
				go func() {
					for _, f := range tt.frames {
						peer.Write(f)
					}
					io.Copy(io.Discard, peer)
				}()
				_, err := c.ReadMessage()
				if want := dialer.TooLarge(tt.size, limit); err == nil || err.Error() != want.Error() {
					t.Errorf("ReadMessage = %v, want %v", err, want)
				}
			})
		})
	}
}

// TestDialKeepsHandshakeReader: frames that came with the 101 sit in
// gobwas's handshake reader; the connection's reader takes them.
func TestDialKeepsHandshakeReader(t *testing.T) {
	srv := wstest.ServeRaw(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		msg := ws.MustCompileFrame(ws.NewTextFrame([]byte("early")))
		c.Write(append([]byte(wstest.UpgradeResponse(req, "Sec-WebSocket-Protocol: sip\r\n")), msg...))
		wstest.ReadClose(br)
	})
	c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
	if c.rd.Buffered() == 0 {
		t.Fatalf("nothing came with the handshake's answer; the test server's timing did not hold")
	}
	if p, err := c.ReadMessage(); err != nil || string(p) != "early" {
		t.Fatalf("ReadMessage = %q, %v; want the frame sent with the handshake", p, err)
	}
}
