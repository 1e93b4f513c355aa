package transport

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/keepalive"
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

// TestKeepaliveThroughBase: interval 5 s, debounce 10 s: with a drawn
// period p, pings at p, 2p, 3p... for a server that answers, and with a
// silent server every due ping skipped while the last is younger than 10 s
// (a period of 4 s: 4 s, 16 s, 28 s; SPEC.md "Keepalive"), each on the
// keepalive clock (the first multiple of keepalive.DefaultTick at or after
// its instant).
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
				nominal := s.b.current.Load().keeper.Period()
				const horizon = 41*time.Second + 50*time.Millisecond // off the 100 ms clock
				time.Sleep(horizon)
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
				// The keepalive clock: a ping goes out at the first multiple
				// of keepalive.DefaultTick at or after it falls due, and the
				// bubble starts on a whole second.
				onClock := func(d time.Duration) time.Duration {
					return (d + keepalive.DefaultTick - 1) / keepalive.DefaultTick * keepalive.DefaultTick
				}
				period := got[0]
				if nominal < 4*time.Second || nominal >= 5*time.Second {
					t.Fatalf("period %v, want in [4s, 5s)", nominal)
				}
				var want []time.Duration
				var last time.Duration
				for k := time.Duration(1); onClock(k*nominal) <= horizon; k++ {
					at := onClock(k * nominal)
					// Skipped while unanswered and younger than 10 s.
					if silent && len(want) > 0 && at-last < 10*time.Second {
						continue
					}
					want, last = append(want, at), at
				}
				if !equalDurations(got, want) {
					t.Errorf("pings at %v, want %v (first at %v)", got, want, period)
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
