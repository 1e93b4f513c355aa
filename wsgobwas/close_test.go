package wsgobwas

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

// pipeConn returns a connection over net.Pipe and the server's end. The
// client's end fails the test if two Writes ever overlap.
func pipeConn(t *testing.T) (*conn, net.Conn) {
	client, peer := net.Pipe()
	sc := &serialConn{Conn: client}
	t.Cleanup(func() {
		peer.Close()
		if n := sc.overlaps.Load(); n > 0 {
			t.Errorf("%d Writes overlapped another: frames interleaved", n)
		}
	})
	return newConn(sc, getReader(sc, DefaultReadBufferSize), false, dialer.DefaultMaxMessageSize), peer
}

// errOverlap is what serialConn answers a Write that overlaps another.
var errOverlap = errors.New("test: Write overlapped another")

// serialConn counts Writes that start while another is in progress, and
// fails them rather than letting them wait on net.Pipe's lock, which
// would stop virtual time in a synctest bubble.
type serialConn struct {
	net.Conn
	writing  atomic.Bool
	overlaps atomic.Int32
}

func (c *serialConn) Write(p []byte) (int, error) {
	if c.writing.Swap(true) {
		c.overlaps.Add(1)
		return 0, errOverlap
	}
	defer c.writing.Store(false)
	return c.Conn.Write(p)
}

func TestCloseSendsCloseFrame(t *testing.T) {
	long := strings.Repeat("r", 200)
	accents := strings.Repeat("é", 100) // 2 bytes each: 123 bytes would split one
	tests := []struct {
		name       string
		code       int
		reason     string
		wantCode   int
		wantReason string
	}{
		{name: "normal", code: 1000, wantCode: 1000},
		{name: "code and reason", code: 4001, reason: "bye", wantCode: 4001, wantReason: "bye"},
		{name: "going away", code: 1001, reason: "pong timeout", wantCode: 1001, wantReason: "pong timeout"},
		{name: "long reason cut to 123 bytes", code: 1000, reason: long, wantCode: 1000, wantReason: long[:123]},
		{name: "long reason cut between characters", code: 1000, reason: accents, wantCode: 1000, wantReason: accents[:122]},
		{name: "1005 sends no body", code: 1005, reason: "x", wantCode: 1005},
		{name: "1006 sends no body", code: 1006, wantCode: 1005},
		{name: "1015 sends no body", code: 1015, wantCode: 1005},
		{name: "999 sends no body", code: 999, wantCode: 1005},
		{name: "5000 sends no body", code: 5000, wantCode: 1005},
		{name: "reason not UTF-8 is left out", code: 4000, reason: "bad \xff", wantCode: 4000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, peer := pipeConn(t)
				type got struct {
					code   int
					reason string
					err    error
				}
				ch := make(chan got, 1)
				go func() {
					code, reason, err := wstest.ReadClose(peer)
					ch <- got{code, reason, err}
				}()
				if err := c.Close(tt.code, tt.reason); err != nil {
					t.Errorf("Close = %v, want nil", err)
				}
				g := <-ch
				if g.err != nil || g.code != tt.wantCode || g.reason != tt.wantReason {
					t.Errorf("server got close %d %q (%v), want %d %q", g.code, g.reason, g.err, tt.wantCode, tt.wantReason)
				}
			})
		})
	}
}

func TestCloseBounded(t *testing.T) {
	t.Run("peer not reading", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, peer := pipeConn(t)
			start := time.Now()
			c.Close(dialer.CloseNormalClosure, "")
			if got := time.Since(start); got != closeTimeout {
				t.Errorf("Close took %v, want %v", got, closeTimeout)
			}
			if _, err := peer.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("peer read = %v, want io.EOF: the socket must be closed", err)
			}
		})
	})
	t.Run("write pending on a peer not reading", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, _ := pipeConn(t)
			start := time.Now()
			werr := make(chan error, 1)
			wend := make(chan time.Duration, 1)
			go func() {
				err := c.WriteMessage(make([]byte, 1000))
				wend <- time.Since(start)
				werr <- err
			}()
			synctest.Wait() // the write is blocked
			c.Close(dialer.CloseNormalClosure, "")
			if got := time.Since(start); got != closeTimeout {
				t.Errorf("Close took %v, want %v", got, closeTimeout)
			}
			if got := <-wend; got != closeTimeout {
				t.Errorf("WriteMessage returned after %v, want %v", got, closeTimeout)
			}
			// Whether the write deadline or the socket's close ends the
			// write first is up to the timers; either way it is closed.
			if err := <-werr; !errors.Is(err, net.ErrClosed) {
				t.Errorf("WriteMessage = %v, want net.ErrClosed", err)
			}
		})
	})
}

func TestCloseDoesNotInterleave(t *testing.T) {
	// A Close during a write waits for the frame to be whole before its
	// close frame goes out.
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipeConn(t)
		received := make(chan []byte, 1)
		go func() {
			var all []byte
			buf := make([]byte, 100)
			for {
				n, err := peer.Read(buf)
				all = append(all, buf[:n]...)
				if err != nil {
					received <- all
					return
				}
				time.Sleep(time.Millisecond) // a slow reader
			}
		}()
		msg := bytes.Repeat([]byte("x"), 10000)
		werr := make(chan error, 1)
		go func() { werr <- c.WriteMessage(msg) }()
		synctest.Wait()
		c.Close(4002, "done")
		if err := <-werr; err != nil {
			t.Errorf("WriteMessage = %v, want nil", err)
		}
		r := bytes.NewReader(<-received)
		f, err := wstest.ReadFrame(r)
		if err != nil || f.Header.OpCode != ws.OpText || !bytes.Equal(f.Payload, msg) {
			t.Fatalf("first frame = %v %d bytes (%v), want the whole message", f.Header.OpCode, len(f.Payload), err)
		}
		code, reason, err := wstest.ReadClose(r)
		if err != nil || code != 4002 || reason != "done" {
			t.Errorf("then %d %q (%v), want close 4002 %q", code, reason, err, "done")
		}
	})
}

func TestCloseUnblocksReadMessage(t *testing.T) {
	type closeFrame struct {
		code   int
		reason string
	}
	got := make(chan closeFrame, 1)
	srv := wstest.ServeSIP(t, func(c net.Conn) {
		code, reason, _ := wstest.ReadClose(c) // no echo: the client must not wait
		got <- closeFrame{code, reason}
		io.Copy(io.Discard, c)
	})
	c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
	read := wstest.ReadAsync(c)
	start := time.Now()
	if err := c.Close(4003, "leaving"); err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	r := wstest.Await(t, read)
	if ce := wstest.CloseErrorOf(t, r.Err); ce.Code != dialer.CloseAbnormal || !errors.Is(r.Err, net.ErrClosed) {
		t.Errorf("ReadMessage = %v, want 1006 wrapping net.ErrClosed", r.Err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ReadMessage returned %v after Close, want promptly", d)
	}
	if g := wstest.Await(t, got); g.code != 4003 || g.reason != "leaving" {
		t.Errorf("server got close %d %q, want 4003 %q", g.code, g.reason, "leaving")
	}
}

func TestCloseIdempotent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipeConn(t)
		frames := make(chan int, 1)
		go func() {
			n := 0
			for {
				f, err := wstest.ReadFrame(peer)
				if err != nil {
					frames <- n
					return
				}
				if f.Header.OpCode == ws.OpClose {
					n++
				}
			}
		}()
		var wg sync.WaitGroup
		errs := make(chan error, 5)
		for range 5 {
			wg.Go(func() { errs <- c.Close(dialer.CloseNormalClosure, "") })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Close = %v, want nil", err)
			}
		}
		if err := c.Close(dialer.CloseGoingAway, "again"); err != nil {
			t.Errorf("Close after Close = %v, want nil", err)
		}
		if n := <-frames; n != 1 {
			t.Errorf("server got %d close frames, want 1", n)
		}
	})
}

func TestAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipeConn(t)
		go io.Copy(io.Discard, peer)
		c.Close(dialer.CloseNormalClosure, "")
		_, err := c.ReadMessage()
		if ce := wstest.CloseErrorOf(t, err); ce.Code != dialer.CloseAbnormal || !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadMessage after Close = %v, want 1006 wrapping net.ErrClosed", err)
		}
		if c.br != nil {
			t.Errorf("read buffer still held after the read side ended")
		}
		if _, again := c.ReadMessage(); again != err {
			t.Errorf("ReadMessage again = %v, want the same %v", again, err)
		}
		if err := c.WriteMessage([]byte("late")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WriteMessage after Close = %v, want net.ErrClosed", err)
		}
	})
}

func TestCloseConcurrentWithReadAndWrite(t *testing.T) {
	srv := wstest.ServeSIP(t, echo)
	for i := range 20 {
		c := dial(t, &Dialer{}, srv.URL(), dialer.Options{})
		var wg sync.WaitGroup
		started := make(chan struct{}, 2)
		wg.Go(func() {
			started <- struct{}{}
			for {
				_, err := c.ReadMessage()
				if err != nil {
					var ce *dialer.CloseError
					if !errors.As(err, &ce) {
						t.Errorf("round %d: ReadMessage = %v, want a *dialer.CloseError", i, err)
					}
					return
				}
			}
		})
		wg.Go(func() {
			started <- struct{}{}
			for range 10000 {
				if c.WriteMessage([]byte("REGISTER sip:example.com SIP/2.0\r\n\r\n")) != nil {
					return
				}
			}
		})
		<-started
		<-started
		for range 2 {
			wg.Go(func() { c.Close(dialer.CloseNormalClosure, "") })
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		wstest.Await(t, done)
	}
}

func TestCloseWakesReadMessageAtOnce(t *testing.T) {
	// A peer that reads nothing holds the close frame for closeTimeout,
	// but not the reader: Close wakes it before sending anything.
	synctest.Test(t, func(t *testing.T) {
		c, _ := pipeConn(t)
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
		c, peer := pipeConn(t)
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
		if d := <-wend; d != closeTimeout {
			t.Errorf("WriteMessage returned after %v, want %v", d, closeTimeout)
		}
		if d := <-closed; d != closeTimeout {
			t.Errorf("Close returned after %v, want %v", d, closeTimeout)
		}
	})
}

func TestCloseConcurrentWaitsForFirst(t *testing.T) {
	// A second Close while the first waits for a peer that does not read
	// returns when the socket is closed, not before, and sends nothing.
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipeConn(t)
		start := time.Now()
		first := make(chan error, 1)
		go func() { first <- c.Close(4000, "first") }()
		synctest.Wait() // the first is writing its close frame
		if err := c.Close(4001, "second"); err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
		if d := time.Since(start); d != closeTimeout {
			t.Errorf("second Close returned after %v, want %v (when the first closed the socket)", d, closeTimeout)
		}
		<-first
		if _, err := peer.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("peer read = %v, want io.EOF: the socket is closed, with no second close frame", err)
		}
	})
}
