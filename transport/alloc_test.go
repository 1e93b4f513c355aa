package transport

import (
	"context"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/race"
	"github.com/sipws/sipws/keepalive"
	"github.com/sipws/sipws/sipmsg"
)

// nopConn is a dialer.Conn that allocates nothing: writes are discarded,
// and ReadMessage waits for Close. The Base's own cost is what is left.
type nopConn struct {
	once   sync.Once
	closed chan struct{}
}

func (c *nopConn) ReadMessage() ([]byte, error) {
	<-c.closed
	return nil, &dialer.CloseError{Code: dialer.CloseNormalClosure}
}
func (c *nopConn) WriteMessage(p []byte) error { return nil }
func (c *nopConn) Close(int, string) error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

// TestBaseZeroAllocs: the Base adds no allocation per message, either way:
// Send with a context that cannot be cancelled, and a received message
// parsed, checked and delivered (or a keepalive pong consumed). Pools drop
// items under the race detector, so this runs without -race only (the
// project's test script runs it so).
//
// With a real logger below Debug, and TraceSIP on, it is the same: every
// log call on the message path is behind IsTrace or IsDebug (issue 10,
// item 11), since a call made with arguments allocates them.
func TestBaseZeroAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("sync.Pool drops items under -race; run without -race")
	}
	t.Run("null logger", func(t *testing.T) { testBaseZeroAllocs(t, nil, false) })
	t.Run("Info logger, TraceSIP on", func(t *testing.T) {
		testBaseZeroAllocs(t, hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: io.Discard}), true)
	})
}

func testBaseZeroAllocs(t *testing.T, logger hclog.Logger, traceSIP bool) {
	invite, err := os.ReadFile("../sipmsg/testdata/invite-sdp.sip")
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBase(Config{
		Servers:           servers(t, "ws://a"),
		KeepAliveInterval: 30e9, // timers armed, as in production
		Logger:            logger,
		TraceSIP:          traceSIP,
		Events:            Events{Message: func(*sipmsg.Message) {}, StatusChanged: func(Status, Status) {}},
	}, dialFunc(func(context.Context, string, dialer.Options) (dialer.Conn, error) {
		return &nopConn{closed: make(chan struct{})}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer b.Disconnect(context.Background())
	s := b.current.Load()
	crlfPong := []byte(keepalive.CRLFPong)

	var delivered int
	b.SetEvents(Events{Message: func(*sipmsg.Message) { delivered++ }})
	tests := []struct {
		name string
		fn   func()
	}{
		{"Send 700 B", func() { b.Send(context.Background(), invite) }},
		{"receive INVITE to Message", func() { s.received(invite) }},
		{"receive CRLF pong", func() { s.received(crlfPong) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs per message, want 0", tt.name, n)
		}
	}
	if delivered == 0 {
		t.Fatal("the INVITE was never delivered: the receive path was not measured")
	}
	if st := b.Stats(); st.Dropped != 0 {
		t.Fatalf("%d messages dropped: the INVITE fails a check", st.Dropped)
	}
}

// BenchmarkReceived is the Base's own cost per received message, without a
// socket: keepalive classification, counters, parse, sanity checks and the
// Message callback, for a 700-byte INVITE.
func BenchmarkReceived(b *testing.B) {
	invite, err := os.ReadFile("../sipmsg/testdata/invite-sdp.sip")
	if err != nil {
		b.Fatal(err)
	}
	base, err := NewBase(Config{Servers: servers(b, "ws://a"), Events: Events{Message: func(*sipmsg.Message) {}}},
		dialFunc(func(context.Context, string, dialer.Options) (dialer.Conn, error) {
			return &nopConn{closed: make(chan struct{})}, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	if err := base.Connect(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer base.Disconnect(context.Background())
	s := base.current.Load()
	b.SetBytes(int64(len(invite)))
	b.ReportAllocs()
	for b.Loop() {
		s.received(invite)
	}
}
