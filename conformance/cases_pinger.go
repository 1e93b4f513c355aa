package conformance

import (
	"bytes"
	"fmt"
	"slices"
	"sync"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
)

// pingerCases check dialer.Pinger, the optional ability of native
// WebSocket pings that keepalive.WebSocketPing needs, on a backend that
// has it, in the manner of testing/fstest: a Conn without it skips them,
// saying so.
var pingerCases = []testCase{
	{
		name: "Pinger/PingReachesServer",
		rule: must("Ping(p) writes one final, masked Ping frame carrying exactly p, from 0 to 125 bytes, and returns nil once it is written; p is only read (dialer.Pinger.Ping; RFC 6455 §5.5.2)"),
		run: withPinger(func(e *env, s *sipserver.Server, c dialer.Pinger, sc *sipserver.Conn) {
			pings := [][]byte{[]byte("keepalive 1"), {}, payload(125, 4)}
			for i, p := range pings {
				orig := bytes.Clone(p)
				if err := within(e, "Ping", patience, func() error { return c.Ping(p) }); err != nil {
					e.t.Fatalf("Ping(%s): %v; want nil", size(len(p)), err)
				}
				if !bytes.Equal(p, orig) {
					e.t.Errorf("Ping(%s) modified its argument: %s", size(len(p)), differ(p, orig))
				}
				if !e.waitFor(s, settle, func() bool { return len(framesOf(sc, sipserver.OpPing)) > i }) {
					e.t.Fatalf("Ping(%s) returned nil, but the server got no Ping frame %v later", size(len(p)), settle)
				}
				f := framesOf(sc, sipserver.OpPing)[i]
				if !f.Fin || !f.Masked || !bytes.Equal(f.Payload, p) {
					e.t.Errorf("ping %d went out FIN %v, masked %v, carrying %s; want a final masked Ping frame carrying %s",
						i, f.Fin, f.Masked, differ(f.Payload, p), size(len(p)))
				}
			}
		}),
	},
	{
		name: "Pinger/PongReachesHandler",
		rule: must("the function given to SetPongHandler gets the payload of every Pong frame, the answer to Ping and an unsolicited one alike, from inside ReadMessage, before the message that follows the pong is returned; Pongs are still not messages; the server's Pings are still answered, and never reach the handler (dialer.Pinger.SetPongHandler)"),
		run: func(e *env) {
			s := e.server(sipserver.Options{}) // answers SIP requests, after the pongs it owes
			s.SetAnswerPings(false)
			c, sc := e.open(s, dialer.Options{})
			p, ok := c.(dialer.Pinger)
			if !ok {
				e.t.Skipf("the Conn (%T) is not a dialer.Pinger: the optional ability is not there to test", c)
			}
			var mu sync.Mutex
			var pongs []string
			p.SetPongHandler(func(b []byte) {
				mu.Lock()
				pongs = append(pongs, string(b))
				mu.Unlock()
			})
			seen := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(pongs) }
			r := e.reader(c)

			// The server's pong to a ping, then its 200 to a request sent
			// behind the ping: by the time the 200 is returned, the pong
			// has been handled.
			if err := within(e, "Ping", patience, func() error { return p.Ping([]byte("echo me")) }); err != nil {
				e.t.Fatalf("Ping: %v", err)
			}
			e.mustWrite(c, []byte(optionsRequest(1)))
			r.next(patience, "the answer to the OPTIONS sent after the ping")
			if got := seen(); !slices.Equal(got, []string{"echo me"}) {
				e.t.Errorf("when the message after the server's pong was returned, the pong handler had got %q; want [\"echo me\"]", got)
			}

			// An unsolicited pong.
			serverSend(e, sc, sipserver.OpPong, true, []byte("unsolicited"))
			serverSendText(e, sc, "after the pong")
			if got := r.next(patience, `"after the pong"`); string(got) != "after the pong" {
				e.t.Errorf("ReadMessage returned %q; want %q: a pong is not a message", truncate(got), "after the pong")
			}
			if got := seen(); !slices.Equal(got, []string{"echo me", "unsolicited"}) {
				e.t.Errorf("the pong handler got %q; want [\"echo me\" \"unsolicited\"]", got)
			}

			// A Ping from the server, with the handler set: still answered
			// with a Pong echoing it, and not a pong for the handler.
			serverSend(e, sc, sipserver.OpPing, true, []byte("server ping"))
			serverSendText(e, sc, "after the ping")
			if got := r.next(patience, `"after the ping"`); string(got) != "after the ping" {
				e.t.Errorf("ReadMessage returned %q; want %q: a ping is not a message", truncate(got), "after the ping")
			}
			e.waitFor(s, patience, func() bool { return len(sc.Pongs()) > 0 || ended(sc) })
			if got := sc.Pongs(); len(got) != 1 || string(got[0]) != "server ping" {
				e.t.Errorf("with a pong handler set, the server's Ping was answered with %q; want one Pong echoing \"server ping\"", got)
			}
			if got := seen(); len(got) != 2 {
				e.t.Errorf("the pong handler got %q; want only the two Pongs, not the server's Ping", got)
			}
		},
	},
	{
		name: "Pinger/NeverInsideDataFrame",
		rule: must("Pings and messages written one after the other, as the Base serialises them, reach the server in that order, each frame whole: a ping never lands inside a data frame (dialer.Pinger.Ping: one frame, in one write)"),
		run: withPinger(func(e *env, s *sipserver.Server, c dialer.Pinger, sc *sipserver.Conn) {
			const n = 8
			p := payload(dialer.DefaultMaxSendSize, 6)
			for i := range n {
				e.mustWrite(c, p)
				if err := within(e, "Ping", patience, func() error { return c.Ping([]byte{byte(i)}) }); err != nil {
					e.t.Fatalf("Ping %d: %v", i, err)
				}
			}
			// Every call has returned: every frame is on its way.
			e.waitFor(s, settle, func() bool { return len(sc.Frames()) >= 2*n || ended(sc) })
			frames := sc.Frames()
			if len(frames) < 2*n {
				e.t.Fatalf("the server got %d frames (connection ended: %v); want %d: %d messages and %d pings", len(frames), ended(sc), 2*n, n, n)
			}
			for i := range n {
				data, ping := frames[2*i], frames[2*i+1]
				if data.Op != sipserver.OpText || !data.Fin || !bytes.Equal(data.Payload, p) {
					e.t.Fatalf("frame %d is a %s frame, FIN %v, of %s; want the whole message %d", 2*i, data.Op, data.Fin, size(len(data.Payload)), i)
				}
				if ping.Op != sipserver.OpPing || !bytes.Equal(ping.Payload, []byte{byte(i)}) {
					e.t.Fatalf("frame %d is a %s frame carrying % x; want ping %d", 2*i+1, ping.Op, truncateBytes(ping.Payload), i)
				}
			}
		}),
	},
	{
		name: "Pinger/Over125Refused",
		rule: must("Ping with a payload over 125 bytes returns an error and writes nothing: no control frame carries more (RFC 6455 §5.5; dialer.Pinger.Ping)"),
		run: withPinger(func(e *env, s *sipserver.Server, c dialer.Pinger, sc *sipserver.Conn) {
			if err := within(e, "Ping", patience, func() error { return c.Ping(payload(126, 1)) }); err == nil {
				e.t.Errorf("Ping of 126 bytes returned nil; want an error")
			}
			if err := within(e, "Ping", patience, func() error { return c.Ping([]byte("fits")) }); err != nil {
				e.t.Fatalf("Ping after the refused one: %v; want nil", err)
			}
			e.mustWrite(c, []byte("after"))
			e.received(s, sc, 1)
			frames := sc.Frames()
			if len(frames) != 2 || frames[0].Op != sipserver.OpPing || string(frames[0].Payload) != "fits" {
				var got []string
				for _, f := range frames {
					got = append(got, fmt.Sprintf("%s(%s)", f.Op, size(len(f.Payload))))
				}
				e.t.Errorf("the server got the frames %v; want ping(4 bytes), text(5 bytes): nothing of the refused ping", got)
			}
		}),
	},
}

// withPinger is a case body on a fresh connection that is a dialer.Pinger;
// on a Conn without the ability the case is skipped.
func withPinger(f func(e *env, s *sipserver.Server, c dialer.Pinger, sc *sipserver.Conn)) func(e *env) {
	return func(e *env) {
		s := silentServer(e, sipserver.Options{})
		c, sc := e.open(s, dialer.Options{})
		p, ok := c.(dialer.Pinger)
		if !ok {
			e.t.Skipf("the Conn (%T) is not a dialer.Pinger: the optional ability is not there to test", c)
		}
		e.reader(c) // the reading goroutine, which answers and handles control frames
		f(e, s, p, sc)
	}
}
