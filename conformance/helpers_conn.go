package conformance

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/dialer"
)

// dialResult is what one Dial call gave.
type dialResult struct {
	conn dialer.Conn
	err  error
	took time.Duration
}

// String describes the result for failure messages.
func (r dialResult) String() string {
	switch {
	case r.conn != nil && r.err != nil:
		return fmt.Sprintf("a Conn and the error %v", r.err)
	case r.conn != nil:
		return "a Conn"
	case r.err != nil:
		return fmt.Sprintf("the error %v", r.err)
	}
	return "neither a Conn nor an error"
}

// tryDial calls Dial(ctx, url, o) on the case's Dialer and returns what it
// gave, failing the case if it does not return within bound. A Conn it
// returns is closed by the case's cleanup.
func (e *env) tryDial(ctx context.Context, url string, o dialer.Options, bound time.Duration) dialResult {
	e.t.Helper()
	d := e.dialer()
	r := within(e, "Dial("+url+")", bound, func() dialResult {
		began := time.Now()
		c, err := d.Dial(ctx, url, o)
		return dialResult{c, err, time.Since(began)}
	})
	if r.conn != nil {
		e.closeAtCleanup(r.conn)
	}
	return r
}

// dial dials url and fails the case unless it succeeds.
func (e *env) dial(url string, o dialer.Options) dialer.Conn {
	e.t.Helper()
	r := e.tryDial(e.ctx, url, o, patience)
	if r.err != nil || r.conn == nil {
		e.t.Fatalf("Dial(%s): got %v; want a connection", url, r)
	}
	return r.conn
}

// open dials s and returns both ends of the new connection.
func (e *env) open(s *sipserver.Server, o dialer.Options) (dialer.Conn, *sipserver.Conn) {
	e.t.Helper()
	c := e.dial(s.URL(), o)
	// The server counts the attempt before answering it, and the suite
	// dials one at a time: the newest attempt is this connection.
	id := s.Handshakes()
	var sc *sipserver.Conn
	ok := e.waitFor(s, patience, func() bool {
		for _, x := range s.Conns() {
			if x.ID() == id {
				sc = x
				return true
			}
		}
		return false
	})
	if !ok {
		e.t.Fatalf("Dial returned a connection but the server has no open connection %d", id)
	}
	return c, sc
}

// closeAtCleanup closes c when the case ends, as every Conn must be; Close
// is idempotent, so a case may have closed it already.
func (e *env) closeAtCleanup(c dialer.Conn) {
	e.t.Cleanup(func() {
		start(e, "Close at the end of the case", func() error {
			return c.Close(dialer.CloseNormalClosure, "")
		}).settle(patience)
	})
}

// write calls WriteMessage(p), bounded.
func (e *env) write(c dialer.Conn, p []byte) error {
	e.t.Helper()
	return within(e, "WriteMessage("+size(len(p))+")", patience, func() error { return c.WriteMessage(p) })
}

// mustWrite writes p and fails the case on an error.
func (e *env) mustWrite(c dialer.Conn, p []byte) {
	e.t.Helper()
	if err := e.write(c, p); err != nil {
		e.t.Fatalf("WriteMessage(%s): %v; want nil", size(len(p)), err)
	}
}

// close calls Close(code, reason), bounded.
func (e *env) close(c dialer.Conn, code int, reason string) error {
	e.t.Helper()
	return within(e, fmt.Sprintf("Close(%d, %q)", code, reason), patience, func() error {
		return c.Close(code, reason)
	})
}

// A reader is a goroutine calling ReadMessage in a loop, so that the
// backend answers pings while the case does something else, and so that a
// ReadMessage that never returns fails the case instead of hanging it.
type reader struct {
	e    *env
	msgs chan []byte   // copies: a message is valid only until the next read
	done chan struct{} // closed when the loop has ended, after err is set
	err  error         // what ended the loop: ReadMessage's error or a *panicError
}

// panicError carries a panic of ReadMessage out of the reader.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v\n%s", p.value, p.stack) }

// reader starts reading c. The loop ends when ReadMessage returns an
// error; the case's cleanup closes c, which ends it.
func (e *env) reader(c dialer.Conn) *reader {
	r := &reader{e: e, msgs: make(chan []byte, 1<<14), done: make(chan struct{})}
	started := make(chan struct{})
	start(e, "ReadMessage", func() struct{} {
		defer close(r.done)
		defer func() {
			if p := recover(); p != nil {
				r.err = &panicError{p, debug.Stack()}
			}
		}()
		close(started)
		for {
			p, err := c.ReadMessage()
			if err != nil {
				r.err = err
				return struct{}{}
			}
			select {
			case r.msgs <- bytes.Clone(p):
			case <-e.ctx.Done(): // nobody will read more: the case is over
				r.err = e.ctx.Err()
				return struct{}{}
			}
		}
	})
	<-started
	return r
}

// next returns the next message, failing the case if the connection ends
// first or nothing arrives within d. want describes the expected message.
func (r *reader) next(d time.Duration, want string) []byte {
	r.e.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case p := <-r.msgs:
		return p
	case <-r.done:
		select {
		case p := <-r.msgs: // messages are queued before the loop ends
			return p
		default:
		}
		r.failPanic()
		r.e.t.Fatalf("ReadMessage returned error %v; want %s", r.err, want)
	case <-timer.C:
		r.e.t.Fatalf("ReadMessage returned nothing within %v; want %s", d, want)
	case <-r.e.ctx.Done():
		r.e.t.Fatalf("ReadMessage returned nothing by the case's deadline; want %s", want)
	}
	return nil
}

// closed waits at most d for the loop to end and returns its error and
// the messages read before it. It fails the case if the loop does not end
// in time (want describes the expected end) or ReadMessage panicked. With
// noMessage set it fails at once when a message arrives instead, since
// none may come before the end.
func (r *reader) closed(d time.Duration, want string, noMessage bool) ([][]byte, error) {
	r.e.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	var msgs [][]byte
	if noMessage {
		select {
		case <-r.done:
		case p := <-r.msgs:
			r.e.t.Fatalf("ReadMessage returned a message of %s (%q); want %s and no message", size(len(p)), truncate(p), want)
		case <-timer.C:
			r.e.t.Fatalf("ReadMessage still blocked %v later; want %s", d, want)
		case <-r.e.ctx.Done():
			r.e.t.Fatalf("ReadMessage still blocked at the case's deadline; want %s", want)
		}
		r.failPanic()
	} else if !r.wait(d) {
		r.e.t.Fatalf("ReadMessage still blocked %v later; want %s", d, want)
	}
	for {
		select {
		case p := <-r.msgs:
			msgs = append(msgs, p)
		default:
			return msgs, r.err
		}
	}
}

// wait waits at most d for the loop to end and reports whether it did.
func (r *reader) wait(d time.Duration) bool {
	r.e.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-r.done:
		r.failPanic()
		return true
	case <-timer.C:
		return false
	case <-r.e.ctx.Done():
		r.e.t.Fatalf("ReadMessage still blocked at the case's deadline")
		return false
	}
}

func (r *reader) failPanic() {
	r.e.t.Helper()
	if p, ok := r.err.(*panicError); ok {
		r.e.t.Fatalf("ReadMessage panicked: %v\n%s", p.value, p.stack)
	}
}

// payload returns n bytes of printable ASCII, different for each seed, so
// that a message mixed up with another does not compare equal.
func payload(n int, seed byte) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	p := make([]byte, n)
	for i := range p {
		p[i] = alphabet[(i+int(seed)*7)%len(alphabet)]
	}
	return p
}

// allBytes returns n bytes cycling through every byte value: not UTF-8.
func allBytes(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(255 - i%256)
	}
	return p
}

// size formats a message length for messages.
func size(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.Itoa(n) + " bytes"
}

// differ describes how got differs from want, for got/want messages
// about payloads too long to print.
func differ(got, want []byte) string {
	if len(got) <= 64 && len(want) <= 64 {
		return fmt.Sprintf("got %q, want %q", got, want)
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("got %s, want %s; first difference at byte %d", size(len(got)), size(len(want)), i)
}
