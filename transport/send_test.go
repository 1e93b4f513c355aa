package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
)

// TestSend covers the Send contract in virtual time.
func TestSend(t *testing.T) {
	t.Run("not connected", func(t *testing.T) {
		s := newSetup(t, Config{Servers: servers(t, "ws://a")})
		if err := s.b.Send(context.Background(), []byte(options)); !errors.Is(err, ErrNotConnected) {
			t.Errorf("Send = %v, want ErrNotConnected", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, _ := connected(t, Config{})
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if err := s.b.Send(ctx, []byte(options)); !errors.Is(err, context.Canceled) {
				t.Errorf("Send = %v, want context.Canceled", err)
			}
		})
	})
	t.Run("blocked write ends with the context and the connection", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ss := servers(t, "ws://a")
			s := newSetup(t, Config{Servers: ss})
			l := s.net.Listen(ss[0].URI, func(c *dialertest.ServerConn) { <-c.ClientClosed() }) // never reads
			l.SetQueue(0)
			if err := s.b.Connect(context.Background()); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			err := s.b.Send(ctx, []byte(options))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Send = %v, want DeadlineExceeded", err)
			}
			if got := time.Since(s.rec.start); got != 3*time.Second {
				t.Errorf("Send returned after %v, want 3s", got)
			}
			synctest.Wait()
			if n := len(l.Conns()); n != 2 {
				t.Errorf("%d connections, want a reconnection after the interrupted write", n)
			}
		})
	})
	t.Run("message arrives whole and unmodified", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, srv := connected(t, Config{})
			msg := []byte(options)
			if err := s.b.Send(context.Background(), msg); err != nil {
				t.Fatal(err)
			}
			if got := <-srvIn(srv); string(got) != options {
				t.Errorf("server got %q", got)
			}
			if string(msg) != options {
				t.Error("Send modified the caller's slice")
			}
			if st := s.b.Stats(); st.MessagesOut != 1 || st.BytesOut != uint64(len(options)) {
				t.Errorf("stats = %+v", st)
			}
		})
	})
	t.Run("concurrent senders are serialised", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, srv := connected(t, Config{})
			const senders, each = 8, 50
			got := make(chan string, senders*each)
			go func() {
				for range senders * each {
					p, err := srv.ReadMessage()
					if err != nil {
						return
					}
					got <- string(p)
				}
			}()
			errs := make(chan error, senders)
			for i := range senders {
				go func() {
					for j := range each {
						if err := s.b.Send(context.Background(), []byte(fmt.Sprintf("%d/%d", i, j))); err != nil {
							errs <- err
							return
						}
					}
					errs <- nil
				}()
			}
			for range senders {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]bool{}
			for range senders * each {
				seen[<-got] = true
			}
			if len(seen) != senders*each {
				t.Errorf("%d distinct messages, want %d", len(seen), senders*each)
			}
		})
	})
}

// hookedWrites wraps a dialer: every write of its connections goes through
// write, which gets the wrapped connection.
type hookedWrites struct {
	d     dialer.Dialer
	write func(c dialer.Conn, p []byte) error
}

func (h *hookedWrites) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	conn, err := h.d.Dial(ctx, url, o)
	if err != nil {
		return nil, err
	}
	return &hookedWritesConn{Conn: conn, h: h}, nil
}

type hookedWritesConn struct {
	dialer.Conn
	h *hookedWrites
}

func (w *hookedWritesConn) WriteMessage(p []byte) error { return w.h.write(w.Conn, p) }

// withWrites returns a newSetupWith wrapper whose connections write
// through write.
func withWrites(write func(c dialer.Conn, p []byte) error) func(dialer.Dialer) dialer.Dialer {
	return func(d dialer.Dialer) dialer.Dialer { return &hookedWrites{d: d, write: write} }
}

// TestSendContextEndsAsWriteCompletes: a Send whose frame went out whole
// returns nil, even when its context ended while the write was finishing.
func TestSendContextEndsAsWriteCompletes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Each write ends the context in its middle, after the frame went
		// out whole, as a timer that fires just as the write completes
		// would.
		var cancelIt atomic.Pointer[context.CancelFunc]
		ss := servers(t, "ws://a")
		s := newSetupWith(t, Config{Servers: ss}, withWrites(func(c dialer.Conn, p []byte) error {
			err := c.WriteMessage(p)
			if f := cancelIt.Load(); f != nil {
				(*f)()
				time.Sleep(time.Millisecond) // the context's AfterFunc runs first
			}
			return err
		}))
		got := make(chan string, 4)
		s.net.Listen(ss[0].URI, sipServer(false, got))
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cancelIt.Store(&cancel)
		msg := strings.Replace(options, "OPTIONS ", "MESSAGE ", 1)
		if err := s.b.Send(ctx, []byte(msg)); err != nil {
			t.Errorf("Send = %v, want nil: the frame was written whole", err)
		}
		synctest.Wait()
		if p := <-got; p != msg {
			t.Errorf("server got %q, want the message", p)
		}
	})
}

// TestServerErrorNilCause: a hand-built error without a cause does not
// panic when printed.
func TestServerErrorNilCause(t *testing.T) {
	e := &ServerError{Server: selector.Server{URI: "ws://a:80"}}
	if got := e.Error(); got != "transport: ws://a:80: unknown error" {
		t.Errorf("Error() = %q", got)
	}
	ce := &ConnectError{Servers: []*ServerError{e, nil}}
	if got := ce.Error(); !strings.Contains(got, "ws://a:80: unknown error") {
		t.Errorf("ConnectError.Error() = %q", got)
	}
}

// TestSendTooLarge: a message over Dial.MaxSendSize fails at Send with an
// error wrapping dialer.ErrSendTooLarge; nothing is written, and the flow
// stays OPEN for the next message.
func TestSendTooLarge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Servers: servers(t, "ws://a")}
		cfg.Dial.MaxSendSize = len(options)
		s := newSetup(t, cfg)
		got := make(chan string, 4)
		s.net.Listen(cfg.Servers[0].URI, sipServer(false, got))
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		big := strings.Replace(options, "OPTIONS ", "MESSAGE ", 1) + "x"
		if err := s.b.Send(context.Background(), []byte(big)); !errors.Is(err, dialer.ErrSendTooLarge) {
			t.Fatalf("Send of %d bytes with MaxSendSize %d = %v, want dialer.ErrSendTooLarge", len(big), len(options), err)
		}
		msg := big[:len(big)-1]
		if err := s.b.Send(context.Background(), []byte(msg)); err != nil {
			t.Fatalf("Send of a message within the limit after it: %v", err)
		}
		synctest.Wait()
		if p := <-got; p != msg {
			t.Errorf("server got %q first, want only the message within the limit", p)
		}
		if st := s.b.Status(); st != StatusOpen || s.b.Stats().Dials != 1 {
			t.Errorf("status %v after %d dials, want OPEN after 1", st, s.b.Stats().Dials)
		}
	})
}

// causes records the errors Disconnected reports, in order.
type causes struct {
	mu   sync.Mutex
	errs []error
}

func (c *causes) events() Events {
	return Events{Disconnected: func(_ selector.Server, err error) {
		c.mu.Lock()
		c.errs = append(c.errs, err)
		c.mu.Unlock()
	}}
}

func (c *causes) first(t *testing.T) error {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) == 0 {
		t.Fatal("no Disconnected")
	}
	return c.errs[0]
}

// TestWriteFailureCause: the cause Disconnected reports for a connection a
// write failed on is what ended the connection first.
func TestWriteFailureCause(t *testing.T) {
	t.Run("the server's close, when the write failed on the socket the backend closed", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, srv := connected(t, Config{})
			var got causes
			ev := got.events()
			sendErr := make(chan error, 1)
			// The read loop holds the server's close back while Message
			// runs: the write there fails on the closed connection before
			// the read loop has seen the close frame.
			serverClosed := make(chan struct{})
			ev.Message = func(*sipmsg.Message) {
				<-serverClosed
				sendErr <- s.b.Send(context.Background(), []byte(options))
			}
			s.b.SetEvents(ev)
			srv.WriteMessage([]byte(response(200, "c1", "SIP/2.0/WS x.invalid;branch=z9hG4bK1")))
			srv.Close(4000, "bye")
			close(serverClosed)
			synctest.Wait()
			if err := <-sendErr; !errors.Is(err, net.ErrClosed) {
				t.Fatalf("Send = %v, want the backend's error wrapping net.ErrClosed", err)
			}
			err := got.first(t)
			if ce, ok := errors.AsType[*dialer.CloseError](err); !ok || ce.Code != 4000 || ce.Reason != "bye" {
				t.Errorf("Disconnected %v, want the server's close 4000 \"bye\"", err)
			}
			if errors.Is(err, errWriteFailed) {
				t.Errorf("Disconnected %v names the write that lost the race", err)
			}
		})
	})
	t.Run("the write's error, when the write failed by itself", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// Once armed, every write fails with a reset and leaves the
			// socket open, as a reset seen by the write side only would.
			var armed atomic.Bool
			reset := fmt.Errorf("write: %w", syscall.ECONNRESET)
			ss := servers(t, "ws://a")
			s := newSetupWith(t, Config{Servers: ss}, withWrites(func(c dialer.Conn, p []byte) error {
				if armed.Load() {
					return reset
				}
				return c.WriteMessage(p)
			}))
			var got causes
			s.b.SetEvents(got.events())
			s.net.Listen(ss[0].URI, func(c *dialertest.ServerConn) { <-c.ClientClosed() })
			if err := s.b.Connect(context.Background()); err != nil {
				t.Fatal(err)
			}
			armed.Store(true)
			if err := s.b.Send(context.Background(), []byte(options)); !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("Send = %v, want the write's ECONNRESET", err)
			}
			synctest.Wait()
			if err := got.first(t); !errors.Is(err, errWriteFailed) || !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("Disconnected %v, want the write failure, wrapping ECONNRESET", err)
			}
		})
	})
}
