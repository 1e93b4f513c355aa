package transport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/sipmsg"
)

// connected returns an OPEN transport and the server side of its connection.
func connected(t *testing.T, cfg Config) (*setup, *dialertest.ServerConn) {
	t.Helper()
	cfg.Servers = servers(t, "ws://a")
	s := newSetup(t, cfg)
	l := s.net.Listen(cfg.Servers[0].URI, func(c *dialertest.ServerConn) { <-c.ClientClosed() })
	if err := s.b.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, l.Conns()[0]
}

// TestReceiveInOrderExactlyOnce: every message that passes the checks is
// delivered once, in arrival order; CRLF keepalive traffic and empty
// messages are not delivered, and the empty ones are reported dropped.
func TestReceiveInOrderExactlyOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, srv := connected(t, Config{})
		var want []string
		for i := range 200 {
			msg := response(200, fmt.Sprintf("call-%d", i), "SIP/2.0/WS x.invalid;branch=z9hG4bK1")
			want = append(want, msg)
			srv.WriteMessage([]byte(msg))
			if i%50 == 0 {
				srv.WriteMessage([]byte("\r\n"))
				srv.WriteMessage(nil)
			}
		}
		synctest.Wait()
		if got := s.log.messages(); !equal(got, want) {
			t.Fatalf("delivered %d messages, want %d in order", len(got), len(want))
		}
		if st := s.b.Stats(); st.MessagesIn != 204 || st.KeepalivesIn != 4 || st.Dropped != 4 {
			t.Errorf("stats = %+v, want 204 messages in, 4 keepalives, 4 dropped", st)
		}
		empty := 0
		for _, e := range s.log.get() {
			if e == "dropped: "+ErrEmptyMessage.Error() {
				empty++
			}
		}
		if empty != 4 {
			t.Errorf("MessageDropped reported %d empty messages, want 4: %q", empty, s.log.get())
		}
	})
}

// TestSanityChecks: the transport's checks (SPEC.md "Receiving"): answers
// 416 and 400 to bad requests, drops bad responses silently, delivers the rest.
func TestSanityChecks(t *testing.T) {
	const via = "Via: SIP/2.0/WS client.invalid;branch=z9hG4bK776asdhds\r\n"
	const rest = "To: <sip:bob@example.com>\r\nFrom: <sip:alice@example.com>;tag=1928301774\r\n" +
		"Call-ID: a84b4c76e66710\r\nCSeq: 314159 MESSAGE\r\n"
	for _, tc := range []struct {
		name      string
		msg       string
		viaHost   string
		delivered bool
		answer    string // status line of the automatic answer, if any
	}{
		{"valid request is delivered", "MESSAGE sip:bob@example.com SIP/2.0\r\n" + via + rest + "Content-Length: 2\r\n\r\nhi", "", true, ""},
		{"request with a tel: URI is answered 416", "MESSAGE tel:+1234 SIP/2.0\r\n" + via + rest + "Content-Length: 0\r\n\r\n", "", false, "SIP/2.0 416 "},
		{"request with a short body is answered 400", "MESSAGE sip:bob@example.com SIP/2.0\r\n" + via + rest + "Content-Length: 10\r\n\r\nhi", "", false, "SIP/2.0 400 "},
		{"request without Call-ID is dropped silently", "MESSAGE sip:bob@example.com SIP/2.0\r\n" + via + strings.Replace(rest, "Call-ID: a84b4c76e66710\r\n", "", 1) + "\r\n", "", false, ""},
		{"response with two Vias is dropped", "SIP/2.0 200 OK\r\n" + via + via + rest + "\r\n", "", false, ""},
		{"response with another Via host is dropped", "SIP/2.0 200 OK\r\n" + via + rest + "\r\n", "me.invalid", false, ""},
		{"response with our Via host is delivered", "SIP/2.0 200 OK\r\n" + via + rest + "\r\n", "client.invalid", true, ""},
		{"request with a sips: URI over ws is answered 416", "MESSAGE sips:bob@example.com SIP/2.0\r\n" + via + rest + "Content-Length: 0\r\n\r\n", "", false, "SIP/2.0 416 "},
		{"garbage is dropped and not answered", "hello, this is not SIP", "", false, ""},
		{"ACK with a tel: URI is dropped and not answered", "ACK tel:+1234 SIP/2.0\r\n" + via + strings.Replace(rest, "MESSAGE", "ACK", 1) + "Content-Length: 0\r\n\r\n", "", false, ""},
		{"ACK with a short body is dropped and not answered", "ACK sip:bob@example.com SIP/2.0\r\n" + via + strings.Replace(rest, "MESSAGE", "ACK", 1) + "Content-Length: 10\r\n\r\nhi", "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, srv := connected(t, Config{ViaHost: tc.viaHost})
				var dropped []error
				ev := s.log.events()
				ev.MessageDropped = func(raw []byte, reason error) { dropped = append(dropped, reason) }
				s.b.SetEvents(ev)
				srv.WriteMessage([]byte(tc.msg))
				synctest.Wait()
				got := len(s.log.messages()) == 1
				if got != tc.delivered {
					t.Fatalf("delivered = %v, want %v (dropped: %v)", got, tc.delivered, dropped)
				}
				if !tc.delivered && len(dropped) != 1 {
					t.Errorf("MessageDropped called %d times, want 1", len(dropped))
				}
				var answer string
				select {
				case p := <-srvIn(srv):
					answer = string(p)
				default:
				}
				if tc.answer == "" && answer != "" {
					t.Errorf("answered %q, want no answer", answer)
				}
				if tc.answer != "" {
					if !strings.HasPrefix(answer, tc.answer) {
						t.Fatalf("answer = %q, want it to start with %q", answer, tc.answer)
					}
					var m sipmsg.Message
					if err := m.Parse([]byte(answer)); err != nil {
						t.Fatalf("answer does not parse: %v", err)
					}
					if !strings.Contains(string(m.Header("To")), ";tag=") {
						t.Errorf("answer To %q has no tag", m.Header("To"))
					}
					var se *SanityError
					if !errors.As(dropped[0], &se) || se.Status == 0 {
						t.Errorf("drop reason = %v, want a *SanityError with the answered status", dropped[0])
					}
				}
			})
		})
	}
}

// TestSIPSOverWSS: on a wss flow a sips: Request-URI passes the scheme
// check (Asterisk), and the checks after it still run.
func TestSIPSOverWSS(t *testing.T) {
	const head = "MESSAGE sips:bob@example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/WSS client.invalid;branch=z9hG4bK776asdhds\r\n" +
		"To: <sips:bob@example.com>\r\nFrom: <sips:alice@example.com>;tag=1928301774\r\n" +
		"Call-ID: a84b4c76e66710\r\nCSeq: 314159 MESSAGE\r\n"
	for _, tc := range []struct {
		name, msg string
		delivered bool
		answer    string
	}{
		{"delivered", head + "Content-Length: 2\r\n\r\nhi", true, ""},
		{"upper-case scheme delivered", strings.Replace(head, "sips:bob", "SIPS:bob", 1) + "Content-Length: 0\r\n\r\n", true, ""},
		{"short body still answered 400", head + "Content-Length: 9\r\n\r\nhi", false, "SIP/2.0 400 "},
		{"tel: still answered 416", strings.Replace(head, "sips:bob", "tel:+1", 1) + "Content-Length: 0\r\n\r\n", false, "SIP/2.0 416 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ss := servers(t, "wss://a")
				s := newSetup(t, Config{Servers: ss})
				l := s.net.Listen(ss[0].URI, func(c *dialertest.ServerConn) { <-c.ClientClosed() })
				if err := s.b.Connect(context.Background()); err != nil {
					t.Fatal(err)
				}
				srv := l.Conns()[0]
				srv.WriteMessage([]byte(tc.msg))
				synctest.Wait()
				if got := len(s.log.messages()) == 1; got != tc.delivered {
					t.Fatalf("delivered = %v, want %v; events %q", got, tc.delivered, s.log.get())
				}
				var answer string
				select {
				case p := <-srvIn(srv):
					answer = string(p)
				default:
				}
				if !strings.HasPrefix(answer, tc.answer) || (tc.answer == "") != (answer == "") {
					t.Errorf("answer %q, want one starting %q", answer, tc.answer)
				}
			})
		})
	}
}

// TestPooledMessageForgetsBuffer: the parsed-message view goes back to its
// pool pointing at nothing, so a pooled view never keeps a connection's
// read buffer reachable.
func TestPooledMessageForgetsBuffer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, srv := connected(t, Config{})
		srv.WriteMessage([]byte(response(200, "c1", "SIP/2.0/WS x.invalid;branch=z9hG4bK1")))
		synctest.Wait()
		if len(s.log.messages()) != 1 {
			t.Fatal("the message was not delivered")
		}
		for range 4 { // whatever the pool hands out: the released view or a new one
			m := messages.Get().(*sipmsg.Message)
			if m.Bytes() != nil {
				t.Errorf("a pooled sipmsg.Message still points at %d bytes of a read buffer", len(m.Bytes()))
			}
			defer messages.Put(m)
		}
	})
}

// srvIn reads one message from the server side without blocking the bubble.
func srvIn(c *dialertest.ServerConn) <-chan []byte {
	ch := make(chan []byte, 1)
	go func() {
		p, err := c.ReadMessage()
		if err == nil {
			ch <- p
		}
		close(ch)
	}()
	synctest.Wait()
	return ch
}
