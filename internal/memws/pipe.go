package memws

import (
	"errors"
	"sync"

	"github.com/sipws/sipws/dialer"
)

// ErrClosed is returned by a write on a closed end.
var ErrClosed = errors.New("memws: use of closed connection")

// end is one side of an in-memory WebSocket connection.
type end struct {
	in    chan []byte // messages for this side
	peer  *end
	done  chan struct{} // closed when this side closes
	once  sync.Once
	limit int64 // read limit of this side (client only; 0 = none)

	mu     sync.Mutex
	code   int // the close code this side sent (1006: dropped)
	reason string
}

func pipe(queue int, clientLimit int64) (client, server *end) {
	client = &end{in: make(chan []byte, queue), done: make(chan struct{}), limit: clientLimit}
	server = &end{in: make(chan []byte, queue), done: make(chan struct{})}
	client.peer, server.peer = server, client
	return client, server
}

// ReadMessage returns the next message, or the peer's close as a
// *dialer.CloseError once every message it sent before closing was read.
func (e *end) ReadMessage() ([]byte, error) {
	select {
	case p := <-e.in:
		return e.check(p)
	case <-e.done:
		return nil, &dialer.CloseError{Code: dialer.CloseAbnormal, Err: ErrClosed}
	case <-e.peer.done:
		select {
		case p := <-e.in:
			return e.check(p)
		default:
		}
		e.peer.mu.Lock()
		code, reason := e.peer.code, e.peer.reason
		e.peer.mu.Unlock()
		e.close(code, reason)
		return nil, &dialer.CloseError{Code: code, Reason: reason}
	}
}

func (e *end) check(p []byte) ([]byte, error) {
	if e.limit > 0 && int64(len(p)) > e.limit {
		err := dialer.TooLarge(int64(len(p)), e.limit)
		e.close(dialer.CloseMessageTooBig, err.Reason)
		return nil, err
	}
	return p, nil
}

// WriteMessage queues a copy of p for the peer.
func (e *end) WriteMessage(p []byte) error {
	cp := append([]byte(nil), p...)
	select {
	case <-e.done:
		return ErrClosed
	case <-e.peer.done:
		return dialer.Abnormal(ErrClosed)
	default:
	}
	select {
	case e.peer.in <- cp:
		return nil
	case <-e.done:
		return ErrClosed
	case <-e.peer.done:
		return dialer.Abnormal(ErrClosed)
	}
}

// Close closes this side; the peer reads a *dialer.CloseError with code and
// reason after the messages already queued.
func (e *end) Close(code int, reason string) error {
	e.close(code, reason)
	return nil
}

func (e *end) close(code int, reason string) {
	e.once.Do(func() {
		e.mu.Lock()
		e.code, e.reason = code, reason
		e.mu.Unlock()
		close(e.done)
	})
}

// ServerConn is the server side of an accepted connection.
type ServerConn struct{ *end }

// Drop ends the connection without a close frame: the client reads 1006.
func (c *ServerConn) Drop() { c.close(dialer.CloseAbnormal, "") }

// Done is closed when this side has closed.
func (c *ServerConn) Done() <-chan struct{} { return c.done }

// ClientClosed is closed when the client side has closed.
func (c *ServerConn) ClientClosed() <-chan struct{} { return c.peer.done }

// ClientClose returns the code and reason the client closed with.
func (c *ServerConn) ClientClose() (int, string) {
	c.peer.mu.Lock()
	defer c.peer.mu.Unlock()
	return c.peer.code, c.peer.reason
}
