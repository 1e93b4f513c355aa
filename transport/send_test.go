package transport

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipws/sipws/dialer/dialertest"
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
