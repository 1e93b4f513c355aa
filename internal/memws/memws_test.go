package memws

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/sipws/sipws/dialer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echo sends every message back until the client closes.
func echo(c *ServerConn) {
	for {
		p, err := c.ReadMessage()
		if err != nil {
			return
		}
		c.WriteMessage(p)
	}
}

func TestModes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n Network
		l := n.Listen("ws://a:80", echo)
		ctx := context.Background()
		for _, tt := range []struct {
			mode Mode
			want func(error) bool
		}{
			{Refuse, func(err error) bool { return errors.Is(err, ErrRefused) }},
			{NoSubprotocol, func(err error) bool { return errors.Is(err, dialer.ErrSubprotocol) }},
			{RejectHandshake, func(err error) bool {
				var he *dialer.HandshakeError
				return errors.As(err, &he) && he.StatusCode == 503
			}},
		} {
			l.SetMode(tt.mode)
			if _, err := n.Dial(ctx, "ws://a:80", dialer.Options{}); !tt.want(err) {
				t.Errorf("mode %v: Dial = %v", tt.mode, err)
			}
		}
		l.SetMode(Stall)
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		start := time.Now()
		if _, err := n.Dial(sctx, "ws://a:80", dialer.Options{}); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 3*time.Second {
			t.Errorf("stalled Dial = %v after %v, want DeadlineExceeded after 3s", err, time.Since(start))
		}
		if _, err := n.Dial(ctx, "ws://nobody:80", dialer.Options{}); !errors.Is(err, ErrRefused) {
			t.Errorf("Dial to no listener = %v, want ErrRefused", err)
		}
		if got := len(n.Dials()); got != 5 {
			t.Errorf("%d dials recorded, want 5", got)
		}
	})
}

func TestMessagesAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n Network
		l := n.Listen("ws://a:80", echo)
		c, err := n.Dial(context.Background(), "ws://a:80", dialer.Options{MaxMessageSize: 10})
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte("hello")
		for range 3 {
			if err := c.WriteMessage(msg); err != nil {
				t.Fatal(err)
			}
		}
		msg[0] = 'X' // the pipe holds a copy
		for range 3 {
			if p, err := c.ReadMessage(); err != nil || string(p) != "hello" {
				t.Fatalf("ReadMessage = %q, %v", p, err)
			}
		}
		c.WriteMessage([]byte("more than ten bytes"))
		var ce *dialer.CloseError
		if _, err := c.ReadMessage(); !errors.As(err, &ce) || ce.Code != dialer.CloseMessageTooBig {
			t.Fatalf("oversized echo: %v, want close 1009", err)
		}
		l.Wait()
		if code, _ := l.Conns()[0].ClientClose(); code != dialer.CloseMessageTooBig {
			t.Errorf("server saw close %d, want 1009", code)
		}

		c, err = n.Dial(context.Background(), "ws://a:80", dialer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		l.DropAll()
		if _, err := c.ReadMessage(); !errors.As(err, &ce) || ce.Code != dialer.CloseAbnormal {
			t.Errorf("after Drop: %v, want 1006", err)
		}
		if err := c.WriteMessage(msg); err == nil {
			t.Error("WriteMessage after the peer dropped = nil")
		}
		c.Close(dialer.CloseNormalClosure, "")
		l.Wait()
	})
}
