package dialertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
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
		n := NewNetwork(t)
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
			t.Errorf("stalled Dial = %v after %v, want DeadlineExceeded after exactly 3s", err, time.Since(start))
		}
		if _, err := n.Dial(ctx, "ws://nobody:80", dialer.Options{}); !errors.Is(err, ErrRefused) {
			t.Errorf("Dial to no listener = %v, want ErrRefused", err)
		}
		if _, err := n.Dial(ctx, "ws://a:80", dialer.Options{MaxSendSize: -1}); !errors.Is(err, dialer.ErrOptions) {
			t.Errorf("Dial with bad options = %v, want ErrOptions", err)
		}
		if got := len(n.Dials()); got != 6 {
			t.Errorf("%d dials recorded, want 6", got)
		}
	})
}

func TestHandshakeDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(t)
		l := n.Listen("ws://a:80", nil)
		l.SetHandshakeDelay(2 * time.Second)
		start := time.Now()
		c, err := n.Dial(context.Background(), "ws://a:80", dialer.Options{})
		if err != nil || time.Since(start) != 2*time.Second {
			t.Fatalf("Dial = %v after %v, want a connection after exactly 2s", err, time.Since(start))
		}
		c.Close(dialer.CloseNormalClosure, "")
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := n.Dial(ctx, "ws://a:80", dialer.Options{}); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Dial shorter than the delay = %v, want DeadlineExceeded", err)
		}
		l.Wait()
	})
}

func TestMessagesAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(t)
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
		_, err = c.ReadMessage()
		if !errors.As(err, &ce) || ce.Code != dialer.CloseMessageTooBig {
			t.Fatalf("oversized echo: %v, want close 1009", err)
		}
		if _, again := c.ReadMessage(); again != err {
			t.Errorf("ReadMessage after failing = %v, want the same error %v", again, err)
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
		if err := c.WriteMessage(msg); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WriteMessage after Close = %v, want net.ErrClosed", err)
		}
		l.Wait()
	})
}

func TestMaxSendSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(t)
		l := n.Listen("ws://a:80", nil)
		c, err := n.Dial(context.Background(), "ws://a:80", dialer.Options{MaxSendSize: 8})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(dialer.CloseNormalClosure, "")
		if err := c.WriteMessage([]byte("123456789")); !errors.Is(err, dialer.ErrSendTooLarge) {
			t.Errorf("WriteMessage of 9 bytes with MaxSendSize 8 = %v, want ErrSendTooLarge", err)
		}
		if err := c.WriteMessage([]byte("12345678")); err != nil {
			t.Errorf("WriteMessage of 8 bytes = %v", err)
		}
		if got := l.Conns()[0].Options().MaxSendSize; got != 8 {
			t.Errorf("server sees MaxSendSize %d, want the dial's 8", got)
		}
	})
}

func TestPings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := NewNetwork(t)
		got := make(chan []byte, 4)
		l := n.Listen("ws://a:80", func(c *ServerConn) {
			c.Ping([]byte("server"))
			for {
				if _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		})
		conn, err := n.Dial(context.Background(), "ws://a:80", dialer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		p := conn.(dialer.Pinger)
		p.SetPongHandler(func(b []byte) { got <- bytes.Clone(b) })
		if err := p.Ping([]byte("client")); err != nil {
			t.Fatal(err)
		}
		if err := p.Ping(make([]byte, 126)); err == nil {
			t.Error("Ping of 126 bytes = nil, want an error")
		}
		go conn.ReadMessage() // answers the server's ping, hands the pong over
		synctest.Wait()
		select {
		case b := <-got:
			if string(b) != "client" {
				t.Errorf("pong payload %q, want %q", b, "client")
			}
		default:
			t.Error("no pong reached the pong handler")
		}
		sc := l.Conns()[0]
		if pongs := sc.Pongs(); len(pongs) != 1 || string(pongs[0]) != "server" {
			t.Errorf("server got pongs %q, want [server]", pongs)
		}
		if pings := sc.Pings(); len(pings) != 1 || string(pings[0]) != "client" {
			t.Errorf("server got pings %q, want [client]", pings)
		}
		conn.Close(dialer.CloseNormalClosure, "")
		l.Wait()
	})
}

// recorder is a testing.TB that keeps what Errorf reports.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) reported(substr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.errs {
		if strings.Contains(e, substr) {
			return true
		}
	}
	return false
}

// A second write while the first is blocked on a peer that does not read
// is a contract violation, reported to the test.
func TestConcurrentWritesReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{TB: t}
		n := NewNetwork(rec)
		l := n.Listen("ws://a:80", nil) // never reads
		l.SetQueue(0)
		c, err := n.Dial(context.Background(), "ws://a:80", dialer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		go c.WriteMessage([]byte("first"))
		synctest.Wait() // blocked: the peer does not read
		go c.(dialer.Pinger).Ping([]byte("second"))
		synctest.Wait()
		if !rec.reported("another write is running") {
			t.Errorf("overlapping writes not reported; got %q", rec.errs)
		}
		c.Close(dialer.CloseNormalClosure, "")
		l.Wait()
	})
}

func TestConcurrentReadsReported(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{TB: t}
		n := NewNetwork(rec)
		l := n.Listen("ws://a:80", nil)
		c, err := n.Dial(context.Background(), "ws://a:80", dialer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		go c.ReadMessage()
		synctest.Wait() // parked: nothing to read
		go c.ReadMessage()
		synctest.Wait()
		if !rec.reported("another ReadMessage is running") {
			t.Errorf("overlapping reads not reported; got %q", rec.errs)
		}
		c.Close(dialer.CloseNormalClosure, "")
		l.Wait()
	})
}

func TestZeroNetworkPanicsOnViolation(t *testing.T) {
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "contract violated") {
			t.Errorf("recover() = %v, want a contract violation panic", p)
		}
	}()
	var n Network
	n.violation("test")
}

// TestCloseWireRules: what the peer reads of a Close is what a close frame
// carries on the wire.
func TestCloseWireRules(t *testing.T) {
	for _, tt := range []struct {
		code       int
		reason     string
		wantCode   int
		wantReason string
	}{
		{4000, "bye", 4000, "bye"},
		{1006, "x", dialer.CloseNoStatus, ""}, // never on the wire
		{5000, "x", dialer.CloseNoStatus, ""},
		{1000, strings.Repeat("é", 100), 1000, strings.Repeat("é", 61)}, // cut at 123 bytes, on a character
		{1000, "\xff", 1000, ""},
	} {
		synctest.Test(t, func(t *testing.T) {
			n := NewNetwork(t)
			l := n.Listen("ws://a:80", nil)
			c, err := n.Dial(context.Background(), "ws://a:80", dialer.Options{Origin: "https://app"})
			if err != nil {
				t.Fatal(err)
			}
			c.Close(tt.code, tt.reason)
			l.Wait()
			if code, reason := l.Conns()[0].ClientClose(); code != tt.wantCode || reason != tt.wantReason {
				t.Errorf("Close(%d, %q): the server read %d %q, want %d %q", tt.code, tt.reason, code, reason, tt.wantCode, tt.wantReason)
			}
			if o := l.Conns()[0].Header().Get("Origin"); o != "https://app" {
				t.Errorf("Header Origin %q", o)
			}
		})
	}
}
