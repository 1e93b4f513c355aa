package transport

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/hashicorp/go-hclog"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/sipmsg"
)

// traced returns an OPEN transport with TraceSIP on, logging at Trace into
// the returned buffer, and the server side of its connection.
func traced(t *testing.T, d func(dialer.Dialer) dialer.Dialer) (*setup, *dialertest.ServerConn, func() string) {
	t.Helper()
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: lockedWriter{&mu, &buf}})
	cfg := Config{Servers: servers(t, "ws://a"), TraceSIP: true, Logger: logger}
	s := newSetupWith(t, cfg, d)
	l := s.net.Listen(cfg.Servers[0].URI, func(c *dialertest.ServerConn) { <-c.ClientClosed() })
	if err := s.b.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, l.Conns()[0], func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

// TestTraceRedactsFoldedCredentials: a folded Authorization or
// Proxy-Authorization never reaches the trace, sent or received.
func TestTraceRedactsFoldedCredentials(t *testing.T) {
	const secret = "6629fae49393a05397450978507c4ef1"
	req := strings.Replace(options, "Max-Forwards: 70\r\n", "Max-Forwards: 70\r\n"+
		"Authorization: Digest username=\"alice\",\r\n response=\""+secret+"\"\r\n"+
		"Proxy-Authorization: Digest username=\"alice\",\r\n\tresponse=\""+secret+"\"\r\n", 1)
	synctest.Test(t, func(t *testing.T) {
		s, srv, out := traced(t, nil)
		if err := s.b.Send(context.Background(), []byte(req)); err != nil {
			t.Fatal(err)
		}
		<-srvIn(srv)
		srv.WriteMessage([]byte(req)) // the same credentials, received
		synctest.Wait()
		log := out()
		if strings.Count(log, "SIP sending") != 1 || strings.Count(log, "SIP received") != 1 {
			t.Fatalf("want one sent and one received trace:\n%s", log)
		}
		if strings.Contains(log, secret) {
			t.Errorf("a folded credential reached the trace:\n%s", log)
		}
		if n := strings.Count(log, "Digest <redacted>"); n != 4 {
			t.Errorf("%d redacted credentials in the trace, want 4:\n%s", n, log)
		}
	})
}

// answerFirst makes a connection's WriteMessage return only once the
// server's answer to it has been delivered, which is the order a loaded
// machine can produce at random: the answer is read and traced while the
// sender has not yet been scheduled after its write.
type answerFirst struct {
	d         dialer.Dialer
	delivered chan struct{}
}

func (a *answerFirst) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	c, err := a.d.Dial(ctx, url, o)
	if err != nil {
		return nil, err
	}
	return &answerFirstConn{Conn: c, delivered: a.delivered}, nil
}

type answerFirstConn struct {
	dialer.Conn
	delivered chan struct{}
}

func (c *answerFirstConn) WriteMessage(p []byte) error {
	if err := c.Conn.WriteMessage(p); err != nil {
		return err
	}
	<-c.delivered
	return nil
}

// TestTraceRequestBeforeAnswer: a request is traced before it is written,
// so its answer never appears first, however the goroutines are scheduled.
func TestTraceRequestBeforeAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		af := &answerFirst{delivered: make(chan struct{}, 1)}
		s, srv, out := traced(t, func(d dialer.Dialer) dialer.Dialer { af.d = d; return af })
		s.b.SetEvents(Events{Message: func(*sipmsg.Message) { af.delivered <- struct{}{} }})
		go func() {
			p, err := srv.ReadMessage()
			if err != nil {
				return
			}
			var m sipmsg.Message
			if m.Parse(p) == nil {
				srv.WriteMessage(sipmsg.AppendResponse(nil, &m, 200, "OK", "t"))
			}
		}()
		if err := s.b.Send(context.Background(), []byte(options)); err != nil {
			t.Fatal(err)
		}
		log := out()
		sent, got := strings.Index(log, "SIP sending"), strings.Index(log, "SIP received")
		if sent < 0 || got < 0 || got < sent {
			t.Errorf("the answer was traced before its request (sent at %d, received at %d):\n%s", sent, got, log)
		}
	})
}

// failWrites makes every WriteMessage of its connections fail.
type failWrites struct{ d dialer.Dialer }

func (f *failWrites) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	c, err := f.d.Dial(ctx, url, o)
	if err != nil {
		return nil, err
	}
	return failWritesConn{c}, nil
}

type failWritesConn struct{ dialer.Conn }

var errWriteRefused = errors.New("write refused")

func (failWritesConn) WriteMessage([]byte) error { return errWriteRefused }

// TestTraceSendFailed: a message whose write fails is traced as sending,
// before the write, and then as failed, with the write's error.
func TestTraceSendFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, _, out := traced(t, func(d dialer.Dialer) dialer.Dialer { return &failWrites{d} })
		if err := s.b.Send(context.Background(), []byte(options)); !errors.Is(err, errWriteRefused) {
			t.Fatalf("Send = %v, want the write's error", err)
		}
		log := out()
		sending, failed := strings.Index(log, "SIP sending"), strings.Index(log, "SIP send failed")
		if sending < 0 || failed < sending || !strings.Contains(log[failed:], errWriteRefused.Error()) {
			t.Errorf("want \"SIP sending\", then \"SIP send failed\" with the write's error:\n%s", log)
		}
	})
}
