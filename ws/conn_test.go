package ws

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

// This file holds what is particular to this backend on gorilla/websocket:
// its pooled message buffers, what gorilla lets it report, its knobs. The
// rules every backend keeps are the conformance suite's
// (backend_test.go), the tests shared with wsgobwas are
// wstest.RunBackend's (backend_test.go), and the close-frame tap has its
// own (tap_test.go).

// message returns n bytes of text.
func message(n int) []byte { return bytes.Repeat([]byte("SIP/2.0 200 OK\r\n"), n/16+1)[:n] }

// TestReadBuffers: a message is read into the smallest buffer class that
// holds it, a fragmented one filling its first buffer exactly grows it
// once, and the buffer goes back to the pool when reading ends.
func TestReadBuffers(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	c, sc := dialServer(t, s, &Dialer{})
	for _, n := range []int{1, 700, firstBuf, firstBuf + 1, dialer.DefaultMaxMessageSize} {
		if err := sc.Send(message(n)); err != nil {
			t.Fatal(err)
		}
		got, err := c.ReadMessage()
		if err != nil || len(got) != n {
			t.Fatalf("ReadMessage = %d bytes, %v; want %d", len(got), err, n)
		}
		if want := bufs.ClassSize(max(n, firstBuf)); cap(got) != want {
			t.Errorf("%d bytes read into a buffer of %d, want the smallest class that holds them, %d", n, cap(got), want)
		}
	}
	big := message(firstBuf + 1)
	sc.SendFrame(sipserver.OpText, false, big[:firstBuf])
	sc.SendFrame(sipserver.OpContinuation, true, big[firstBuf:])
	if got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, big) || cap(got) != 2*firstBuf {
		t.Errorf("fragments filling the first buffer exactly: %d bytes in a buffer of %d, %v; want %d bytes in %d", len(got), cap(got), err, len(big), 2*firstBuf)
	}
	sc.Drop()
	if _, err := c.ReadMessage(); err == nil {
		t.Fatal("ReadMessage after a drop = nil error")
	}
	if c.msg != nil {
		t.Errorf("message buffer still held after the read side ended")
	}
}

// TestTooLargeSizeUnknown: gorilla refuses an oversized message from its
// frame header without saying how large it was.
func TestTooLargeSizeUnknown(t *testing.T) {
	const limit = 1000
	s := startServer(t, sipserver.Options{})
	c := dialTo(t, &Dialer{}, s.URL(), dialer.Options{MaxMessageSize: limit})
	conns, err := s.WaitConns(testContext(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	conns[0].SendHeader(sipserver.OpBinary, true, 1<<40)
	_, err = c.ReadMessage()
	if want := dialer.TooLarge(-1, limit); err == nil || err.Error() != want.Error() {
		t.Errorf("ReadMessage = %v, want %v", err, want)
	}
}

// TestSmallReadBuffer: a read buffer below gorilla's minimum is raised so
// that a 125-byte control frame still fits.
func TestSmallReadBuffer(t *testing.T) {
	s := startServer(t, sipserver.Options{})
	c, sc := dialServer(t, s, &Dialer{ReadBufferSize: 16})
	sc.Ping(bytes.Repeat([]byte("p"), 125))
	sc.Send(message(1000))
	if p, err := c.ReadMessage(); err != nil || len(p) != 1000 {
		t.Fatalf("ReadMessage = %d bytes, %v; want 1000 bytes", len(p), err)
	}
	waitFor(t, s, "the pong", func() bool { return len(sc.Pongs()) == 1 })
}

func TestDialNetDialReturnsNothing(t *testing.T) {
	d := &Dialer{NetDial: func(context.Context, string, string) (net.Conn, error) { return nil, nil }}
	if _, err := d.Dial(testContext(t), "ws://127.0.0.1:1/", dialer.Options{}); err == nil {
		t.Fatal("Dial = nil error with a NetDial that returned nothing, want an error")
	}
}

func TestDialBadURL(t *testing.T) {
	for _, url := range []string{"http://127.0.0.1/", "::"} {
		if _, err := new(Dialer).Dial(testContext(t), url, dialer.Options{}); err == nil {
			t.Errorf("Dial(%q) = nil error, want one", url)
		}
	}
}

// TestServerCloseOverTLS: the tap reads the frames above TLS, where they
// are, so a close code gorilla would refuse is reported over wss too.
func TestServerCloseOverTLS(t *testing.T) {
	s := startServer(t, sipserver.Options{TLS: true})
	c, sc := dialServer(t, s, &Dialer{})
	sc.CloseWith(1014, "bad gateway")
	_, err := c.ReadMessage()
	if ce := wstest.CloseErrorOf(t, err); ce.Code != 1014 || ce.Reason != "bad gateway" {
		t.Errorf("ReadMessage = %v, want close 1014 %q", err, "bad gateway")
	}
	var ce *dialer.CloseError
	if errors.As(err, &ce) && ce.Err != nil {
		t.Errorf("a valid close has a cause %v, want none", ce.Err)
	}
}
