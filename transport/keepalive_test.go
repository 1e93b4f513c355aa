package transport

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipws/sipws/dialer/dialertest"
)

// pingTimes records, in virtual time since start, each CRLF CRLF the server
// receives, answering it unless silent.
func pingTimes(start time.Time, silent bool, out chan<- time.Duration) func(*dialertest.ServerConn) {
	return func(c *dialertest.ServerConn) {
		for {
			p, err := c.ReadMessage()
			if err != nil {
				return
			}
			if string(p) == "\r\n\r\n" {
				out <- time.Since(start)
				if !silent {
					c.WriteMessage([]byte("\r\n"))
				}
			}
		}
	}
}

// TestKeepaliveSilentServer: interval 5 s, debounce 10 s, a silent server:
// with a drawn period of 4 s, pings at 4 s, 16 s, 28 s (SPEC.md
// "Keepalive"). The period is drawn in [0.8, 1.0) x interval, so this test
// checks the sequence relative to the first ping.
func TestKeepaliveThroughBase(t *testing.T) {
	for _, silent := range []bool{false, true} {
		t.Run(fmt.Sprintf("silent=%v", silent), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ss := servers(t, "ws://a")
				s := newSetup(t, Config{Servers: ss, KeepAliveInterval: 5 * time.Second})
				pings := make(chan time.Duration, 100)
				l := s.net.Listen(ss[0].URI, pingTimes(time.Now(), silent, pings))
				if err := s.b.Connect(context.Background()); err != nil {
					t.Fatal(err)
				}
				time.Sleep(41 * time.Second)
				s.b.Disconnect(context.Background())
				l.Wait() // the server's handler may still be recording a ping
				close(pings)
				var got []time.Duration
				for p := range pings {
					got = append(got, p)
				}
				if len(got) == 0 {
					t.Fatal("no ping")
				}
				period := got[0]
				if period < 4*time.Second || period >= 5*time.Second {
					t.Fatalf("first ping at %v, want in [4s, 5s)", period)
				}
				step := period
				if silent {
					// Skipped while unanswered and younger than 10 s.
					step = period * time.Duration((10*time.Second+period-1)/period)
				}
				for i, p := range got {
					if want := period + time.Duration(i)*step; p != want {
						t.Errorf("ping %d at %v, want %v (period %v)", i, p, want, period)
					}
				}
				if st := s.b.Stats(); !silent && st.LastKeepaliveRTT != 0 {
					t.Errorf("RTT = %v, want 0 in virtual time", st.LastKeepaliveRTT)
				}
			})
		})
	}
}

// TestPongTimeoutReconnects: a half-open flow (no pongs) is found by the
// pong timeout: the socket is closed with 1001 and the transport reconnects.
func TestPongTimeoutReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ss := servers(t, "ws://a")
		s := newSetup(t, Config{Servers: ss, KeepAliveInterval: 5 * time.Second,
			KeepAlivePongTimeout: 2 * time.Second})
		pings := make(chan time.Duration, 100)
		l := s.net.Listen(ss[0].URI, pingTimes(time.Now(), true, pings))
		if err := s.b.Connect(context.Background()); err != nil {
			t.Fatal(err)
		}
		first := <-pings
		time.Sleep(2 * time.Second)
		synctest.Wait()
		conns := l.Conns()
		if len(conns) != 2 {
			t.Fatalf("%d connections after the pong timeout, want 2", len(conns))
		}
		code, reason := conns[0].ClientClose()
		if code != 1001 {
			t.Errorf("closed with %d %q, want 1001", code, reason)
		}
		var disconnected string
		for _, e := range s.log.get() {
			if strings.HasPrefix(e, "disconnected ") {
				disconnected = e
			}
		}
		if want := "disconnected ws://a:80: " + ErrPongTimeout.Error(); disconnected != want {
			t.Errorf("event %q, want %q", disconnected, want)
		}
		if got, want := s.rec.dials(), []string{"a:80@0s", fmt.Sprintf("a:80@%v", first+2*time.Second)}; !equal(got, want) {
			t.Errorf("dials = %q, want %q", got, want)
		}
		if st := s.b.Stats(); st.PongTimeouts != 1 {
			t.Errorf("PongTimeouts = %d, want 1", st.PongTimeouts)
		}
	})
}

// TestServerPingAnswered: a CRLF CRLF from the server is answered with one
// CRLF, even with keepalives off.
func TestServerPingAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, srv := connected(t, Config{})
		srv.WriteMessage([]byte("\r\n\r\n"))
		p := <-srvIn(srv)
		if string(p) != "\r\n" {
			t.Errorf("answer %q, want CRLF", p)
		}
		if len(s.log.messages()) != 0 {
			t.Error("a keepalive was delivered as a message")
		}
	})
}
