package conformance

import (
	"bytes"
	"net"
	"sync"
	"time"

	"github.com/sipws/sipws/conformance/sipserver"
)

// received waits until sc has received n messages and returns them. It
// fails the case when they have not come within patience, or when the
// connection ended first (none can come then).
func (e *env) received(s *sipserver.Server, sc *sipserver.Conn, n int) [][]byte {
	e.t.Helper()
	e.waitFor(s, patience, func() bool { return len(sc.Received()) >= n || ended(sc) })
	if got := sc.Received(); len(got) >= n {
		return got
	}
	if ended(sc) {
		e.t.Fatalf("the connection ended after the server received %d messages; want %d", len(sc.Received()), n)
	}
	e.t.Fatalf("the server received %d messages within %v; want %d", len(sc.Received()), patience, n)
	return nil
}

// ended reports whether sc's connection is gone.
func ended(sc *sipserver.Conn) bool {
	select {
	case <-sc.Done():
		return true
	default:
		return false
	}
}

// clientClose waits at most d for the client's close frame on sc, or for
// the connection to end without one, and returns its code and reason; ok
// is false when none came. A connection that ended has recorded any close
// frame it read, so the answer is final then.
func (e *env) clientClose(s *sipserver.Server, sc *sipserver.Conn, d time.Duration) (code int, reason string, ok bool) {
	e.waitFor(s, d, func() bool {
		_, _, ok := sc.CloseReceived()
		return ok || ended(sc)
	})
	return sc.CloseReceived()
}

// dataFrames returns the data frames (continuations included) sc received.
func dataFrames(sc *sipserver.Conn) []sipserver.Frame {
	var out []sipserver.Frame
	for _, f := range sc.Frames() {
		if !f.Op.IsControl() {
			out = append(out, f)
		}
	}
	return out
}

// framesOf returns the frames sc received with opcode op.
func framesOf(sc *sipserver.Conn, op sipserver.Opcode) []sipserver.Frame {
	var out []sipserver.Frame
	for _, f := range sc.Frames() {
		if f.Op == op {
			out = append(out, f)
		}
	}
	return out
}

// rawServer listens on 127.0.0.1 for what sipserver will not do (a TLS
// handshake never answered, a 101 with a wrong accept key) and hands each
// TCP connection to handle on a goroutine of its own. The case's cleanup
// closes the listener and the connections and waits for the handlers.
// handle must return once its connection is closed.
func (e *env) rawServer(handle func(c net.Conn)) string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatalf("listening: %v", err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			wg.Add(1)
			mu.Unlock()
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	e.t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(patience):
			e.t.Errorf("the raw test server's handlers still run %v after its connections were closed", patience)
		}
	})
	return ln.Addr().String()
}

// readUntilEOF reads c until it fails, and reports on hungUp when it did.
func readUntilEOF(c net.Conn, hungUp chan<- struct{}) {
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			close(hungUp)
			return
		}
	}
}

// waitClosed waits at most d for ch to be closed.
func waitClosed(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// httpHead returns the head of an HTTP message read from c, up to the blank
// line, or what came before c failed.
func httpHead(c net.Conn) []byte {
	var head []byte
	buf := make([]byte, 1)
	for !bytes.HasSuffix(head, []byte("\r\n\r\n")) {
		if _, err := c.Read(buf); err != nil {
			return head
		}
		head = append(head, buf[0])
	}
	return head
}
