package transport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
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

// cancelInWrite's connection ends a context in the middle of each write,
// after the frame went out whole, as a timer that fires just as the write
// completes would.
type cancelInWrite struct {
	d      dialer.Dialer
	cancel atomic.Pointer[context.CancelFunc]
}

func (c *cancelInWrite) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	conn, err := c.d.Dial(ctx, url, o)
	if err != nil {
		return nil, err
	}
	return &cancelInWriteConn{Conn: conn, c: c}, nil
}

type cancelInWriteConn struct {
	dialer.Conn
	c *cancelInWrite
}

func (w *cancelInWriteConn) WriteMessage(p []byte) error {
	err := w.Conn.WriteMessage(p)
	if f := w.c.cancel.Load(); f != nil {
		(*f)()
		time.Sleep(time.Millisecond) // the context's AfterFunc runs first
	}
	return err
}

// TestSendContextEndsAsWriteCompletes: a Send whose frame went out whole
// returns nil, even when its context ended while the write was finishing.
func TestSendContextEndsAsWriteCompletes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ciw := &cancelInWrite{}
		ss := servers(t, "ws://a")
		s := newSetupWith(t, Config{Servers: ss}, func(d dialer.Dialer) dialer.Dialer { ciw.d = d; return ciw })
		got := make(chan string, 4)
		s.net.Listen(ss[0].URI, sipServer(false, got))
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ciw.cancel.Store(&cancel)
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
