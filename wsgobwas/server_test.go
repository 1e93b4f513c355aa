package wsgobwas

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/sipws/sipws/dialer"
)

// wait bounds every wait of a real-network test.
const wait = 5 * time.Second

// sipUpgrader is the server side of a handshake that selects "sip".
var sipUpgrader = ws.Upgrader{Protocol: func(p []byte) bool { return string(p) == dialer.Subprotocol }}

// server is a loopback WebSocket server built on gobwas's server API. Each
// accepted connection is upgraded with up (unless raw) and handed to handle
// in its own goroutine; the test's cleanup closes every connection and
// waits for every handler.
type server struct {
	ln  net.Listener
	url string

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

// serve starts a server whose connections are upgraded with up.
func serve(t testing.TB, up ws.Upgrader, handle func(c net.Conn)) *server {
	t.Helper()
	return serveRaw(t, func(c net.Conn) {
		if _, err := up.Upgrade(c); err != nil {
			return
		}
		handle(c)
	})
}

// serveRaw starts a server that hands each TCP connection to handle as it
// is, handshake included.
func serveRaw(t testing.TB, handle func(c net.Conn)) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{ln: ln, url: "ws://" + ln.Addr().String() + "/sip"}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(wait))
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *server) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// dial opens a client connection to s with o, closed at cleanup.
func (s *server) dial(t testing.TB, d *Dialer, o dialer.Options) *conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := d.Dial(ctx, s.url, o)
	if err != nil {
		t.Fatalf("Dial(%s) = %v, want a connection", s.url, err)
	}
	t.Cleanup(func() { c.Close(dialer.CloseNormalClosure, "") })
	return c.(*conn)
}

// frame is one frame as a server reads it, payload unmasked.
type frame struct {
	h ws.Header
	p []byte
}

// readFrame reads one client frame and unmasks its payload.
func readFrame(r io.Reader) (frame, error) {
	h, err := ws.ReadHeader(r)
	if err != nil {
		return frame{}, err
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(r, p); err != nil {
		return frame{}, err
	}
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	return frame{h, p}, nil
}

// readClose reads frames until a close frame and returns its code (1005
// for none) and reason; pongs and data before it are skipped.
func readClose(r io.Reader) (code int, reason string, err error) {
	for {
		f, err := readFrame(r)
		if err != nil {
			return 0, "", err
		}
		if f.h.OpCode != ws.OpClose {
			continue
		}
		if len(f.p) < 2 {
			return dialer.CloseNoStatus, "", nil
		}
		return int(binary.BigEndian.Uint16(f.p)), string(f.p[2:]), nil
	}
}

// writeFrame writes one unmasked server frame.
func writeFrame(w io.Writer, op ws.OpCode, fin bool, p []byte) error {
	return ws.WriteFrame(w, ws.NewFrame(op, fin, p))
}

// closeBody is the payload of a close frame.
func closeBody(code int, reason string) []byte {
	return ws.NewCloseFrameBody(ws.StatusCode(code), reason)
}

// echo answers every data frame with the same payload and opcode and
// echoes a close frame, as a server does.
func echo(c net.Conn) { echoRW(c) }

func echoRW(c io.ReadWriter) {
	for {
		f, err := readFrame(c)
		if err != nil {
			return
		}
		switch f.h.OpCode {
		case ws.OpClose:
			writeFrame(c, ws.OpClose, true, f.p)
			return
		case ws.OpText, ws.OpBinary:
			if writeFrame(c, f.h.OpCode, true, f.p) != nil {
				return
			}
		}
	}
}

// result is what a ReadMessage in a goroutine returned.
type result struct {
	p   []byte
	err error
}

// readAsync calls ReadMessage in a goroutine; the message is copied.
func readAsync(c dialer.Conn) <-chan result {
	ch := make(chan result, 1)
	go func() {
		p, err := c.ReadMessage()
		ch <- result{append([]byte(nil), p...), err}
	}()
	return ch
}

// await returns the next value of ch, failing the test after wait.
func await[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

// closeCode returns the code of err's *dialer.CloseError, or fails.
func closeCode(t *testing.T, err error) *dialer.CloseError {
	t.Helper()
	var ce *dialer.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v (%T), want a *dialer.CloseError", err, err)
	}
	return ce
}
