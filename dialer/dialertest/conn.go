package dialertest

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/sipws/sipws/dialer"
)

// ErrClosed is wrapped by the error of a read or write on a side that has
// closed; it wraps net.ErrClosed, as the shipped backends' errors do.
var ErrClosed = fmt.Errorf("dialertest: use of closed connection: %w", net.ErrClosed)

// errOverlap is returned by a call that broke the rule of one reader and
// one writer at a time, after the violation was reported.
var errOverlap = fmt.Errorf("dialertest: overlapping calls (dialer.Conn contract violated)")

// opcode says what a queued frame is.
type opcode uint8

const (
	opData opcode = iota
	opPing
	opPong
)

// frame is one message, ping or pong in flight.
type frame struct {
	op opcode
	p  []byte
}

// end is one side of an in-memory WebSocket connection. The client side is
// the dialer.Conn (and dialer.Pinger) a Dial returns; the server side is a
// ServerConn.
type end struct {
	net    *Network
	client bool
	opts   dialer.Options // the dial's options (client side)
	in     chan frame     // frames for this side
	peer   *end
	done   chan struct{} // closed when this side closes
	once   sync.Once

	answerPings atomic.Bool // answer the peer's pings while reading
	onPong      atomic.Pointer[func([]byte)]

	// Contract enforcement (client side). The counters catch calls that
	// overlap; the plain sequence numbers are touched without
	// synchronisation on purpose, so that the race detector reports
	// calls that are not ordered even when they did not overlap.
	reading, writing atomic.Int32
	readSeq          uint64
	writeSeq         uint64
	rerr             error // the error that ended reading; read goroutine only

	mu     sync.Mutex
	code   int // the close code this side sent (1006: dropped)
	reason string
	pings  [][]byte // payloads of the pings this side received
	pongs  [][]byte // payloads of the pongs this side received
}

func newPipe(n *Network, queue int, o dialer.Options) (client, server *end) {
	client = &end{net: n, client: true, opts: o, in: make(chan frame, queue), done: make(chan struct{})}
	client.answerPings.Store(true)
	server = &end{net: n, in: make(chan frame, queue), done: make(chan struct{})}
	client.peer, server.peer = server, client
	return client, server
}

// ReadMessage implements dialer.Conn: it returns the next data message,
// answering pings and handing pongs to the pong handler on the way, or the
// peer's close as a *dialer.CloseError once every message the peer sent
// before closing has been read. Once it has failed it returns the same
// error again.
func (e *end) ReadMessage() ([]byte, error) {
	if e.client {
		defer e.reading.Add(-1)
		if e.reading.Add(1) != 1 {
			e.net.violation("ReadMessage called while another ReadMessage is running")
			return nil, errOverlap // touching nothing the running call owns
		}
		e.readSeq++
	}
	if e.rerr != nil {
		return nil, e.rerr
	}
	for {
		f, err := e.next()
		if err != nil {
			e.rerr = err
			return nil, err
		}
		switch f.op {
		case opPing:
			e.record(&e.pings, f.p)
			if e.answerPings.Load() {
				e.send(frame{opPong, f.p})
			}
		case opPong:
			e.record(&e.pongs, f.p)
			if h := e.onPong.Load(); h != nil {
				(*h)(f.p)
			}
		default:
			if limit := e.opts.ReadLimit(); e.client && int64(len(f.p)) > limit {
				tl := dialer.TooLarge(int64(len(f.p)), limit)
				e.close(dialer.CloseMessageTooBig, tl.Reason)
				e.rerr = tl
				return nil, tl
			}
			return f.p, nil
		}
	}
}

// next waits for the next frame or the end of the connection.
func (e *end) next() (frame, error) {
	select {
	case f := <-e.in:
		return f, nil
	case <-e.done:
		return frame{}, dialer.Abnormal(ErrClosed)
	case <-e.peer.done:
		select {
		case f := <-e.in:
			return f, nil // what the peer sent before closing comes first
		default:
		}
		code, reason := e.peer.closeCode()
		e.close(code, reason)
		return frame{}, &dialer.CloseError{Code: code, Reason: reason}
	}
}

func (e *end) record(list *[][]byte, p []byte) {
	e.mu.Lock()
	*list = append(*list, p)
	e.mu.Unlock()
}

// WriteMessage implements dialer.Conn: it queues a copy of p for the peer,
// waiting while the peer's queue is full. A message above
// Options.MaxSendSize is refused with an error wrapping
// dialer.ErrSendTooLarge.
func (e *end) WriteMessage(p []byte) error {
	if e.client {
		defer e.writing.Add(-1)
		if !e.enterWrite("WriteMessage") {
			return errOverlap
		}
		if err := e.opts.CheckSend(p); err != nil {
			return err
		}
	}
	return e.send(frame{opData, append([]byte{}, p...)})
}

// Ping implements dialer.Pinger: it queues a ping carrying a copy of p.
func (e *end) Ping(p []byte) error {
	if e.client {
		defer e.writing.Add(-1)
		if !e.enterWrite("Ping") {
			return errOverlap
		}
	}
	if len(p) > 125 {
		return fmt.Errorf("dialertest: ping payload of %d bytes is over 125", len(p))
	}
	return e.send(frame{opPing, append([]byte{}, p...)})
}

// SetPongHandler implements dialer.Pinger.
func (e *end) SetPongHandler(f func(payload []byte)) {
	if f == nil {
		e.onPong.Store(nil)
		return
	}
	e.onPong.Store(&f)
}

// enterWrite counts a write in and reports whether it is the only one
// running; the caller counts it out when it returns.
func (e *end) enterWrite(what string) bool {
	if e.writing.Add(1) != 1 {
		e.net.violation("%s called while another write is running (the caller must serialise writers)", what)
		return false
	}
	e.writeSeq++
	return true
}

// send queues f for the peer.
func (e *end) send(f frame) error {
	select {
	case <-e.done:
		return ErrClosed
	case <-e.peer.done:
		return dialer.Abnormal(ErrClosed)
	default:
	}
	select {
	case e.peer.in <- f:
		return nil
	case <-e.done:
		return ErrClosed
	case <-e.peer.done:
		return dialer.Abnormal(ErrClosed)
	}
}

// Close implements dialer.Conn: the peer reads a *dialer.CloseError after
// the messages already queued, with the code and reason a real close frame
// would carry (dialer.AppendCloseBody's wire rules): a code that may not be
// sent arrives as 1005 without a reason, a reason is cut to
// dialer.MaxCloseReason bytes, and one that is not UTF-8 is left out. It is
// idempotent and unblocks a pending read or write of this side.
func (e *end) Close(code int, reason string) error {
	e.close(onTheWire(code, reason))
	return nil
}

// onTheWire returns what the peer reads of a close frame sent with code
// and reason.
func onTheWire(code int, reason string) (int, string) {
	var buf [125]byte
	body := dialer.AppendCloseBody(buf[:0], code, reason)
	if len(body) == 0 {
		return dialer.CloseNoStatus, ""
	}
	c, r, _ := dialer.ParseCloseBody(body)
	return c, r
}

func (e *end) close(code int, reason string) {
	e.once.Do(func() {
		e.mu.Lock()
		e.code, e.reason = code, reason
		e.mu.Unlock()
		close(e.done)
	})
}

func (e *end) closeCode() (int, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.code, e.reason
}

// ServerConn is the server side of an accepted connection. Its methods are
// safe for concurrent use, except ReadMessage, which one goroutine calls at
// a time (the handler's).
type ServerConn struct {
	*end
	url  string
	opts dialer.Options
}

// URL returns the URL the client dialed.
func (c *ServerConn) URL() string { return c.url }

// Options returns the options the client dialed with.
func (c *ServerConn) Options() dialer.Options { return c.opts }

// Header returns the extra headers the upgrade request carried, as a
// backend sends them: dialer.Options.HandshakeHeader of the dial, with the
// Origin derived from the URL unless the options say otherwise.
func (c *ServerConn) Header() http.Header { return c.opts.HandshakeHeader(c.url) }

// Drop ends the connection without a close frame: the client reads 1006.
func (c *ServerConn) Drop() { c.close(dialer.CloseAbnormal, "") }

// Done is closed when this side has closed.
func (c *ServerConn) Done() <-chan struct{} { return c.done }

// ClientClosed is closed when the client side has closed.
func (c *ServerConn) ClientClosed() <-chan struct{} { return c.peer.done }

// ClientClose returns the code and reason the client closed with; the code
// is 0 while the client has not closed.
func (c *ServerConn) ClientClose() (int, string) { return c.peer.closeCode() }

// Pings returns the payloads of the client's pings the server has read.
func (c *ServerConn) Pings() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.pings...)
}

// Pongs returns the payloads of the client's pongs the server has read.
func (c *ServerConn) Pongs() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.pongs...)
}

// Pong sends the client an unsolicited Pong frame carrying p: the case of
// a pong that answers no ping, or the wrong one.
func (c *ServerConn) Pong(p []byte) error {
	return c.send(frame{opPong, append([]byte{}, p...)})
}

// SetAnswerPings says whether this connection answers the client's pings
// from now on.
func (c *ServerConn) SetAnswerPings(on bool) {
	c.answerPings.Store(on)
}
