package dialertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sipws/sipws/dialer"
)

// Mode is what a Listener does with the next dials.
type Mode int

const (
	// Accept accepts and hands the connection to the handler.
	Accept Mode = iota
	// Refuse fails at once with ErrRefused, as a refused TCP connection.
	Refuse
	// Stall never answers: Dial returns only when its ctx ends.
	Stall
	// NoSubprotocol completes the handshake without "sip": Dial fails
	// with dialer.ErrSubprotocol.
	NoSubprotocol
	// RejectHandshake answers the upgrade with HTTP 503: Dial fails with
	// a *dialer.HandshakeError.
	RejectHandshake
)

func (m Mode) String() string {
	switch m {
	case Accept:
		return "Accept"
	case Refuse:
		return "Refuse"
	case Stall:
		return "Stall"
	case NoSubprotocol:
		return "NoSubprotocol"
	case RejectHandshake:
		return "RejectHandshake"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ErrRefused is wrapped by the error of a dial to a refusing or absent
// listener.
var ErrRefused = errors.New("dialertest: connection refused")

// DefaultQueue is how many messages each direction of a connection buffers
// before a writer blocks, unless Listener.SetQueue says otherwise.
const DefaultQueue = 16

// Network is a set of listeners addressed by URL; it implements
// dialer.Dialer. The zero value is ready to use and panics on a contract
// violation; NewNetwork reports violations to a test instead. A Network is
// safe for concurrent use.
type Network struct {
	tb testing.TB

	mu        sync.Mutex
	listeners map[string]*Listener
	dials     []string
}

// NewNetwork returns an empty Network whose connections report a broken
// dialer.Conn contract with tb.Errorf.
func NewNetwork(tb testing.TB) *Network { return &Network{tb: tb} }

// violation reports a broken contract rule.
func (n *Network) violation(format string, args ...any) {
	msg := "dialertest: dialer.Conn contract violated: " + fmt.Sprintf(format, args...)
	if n.tb != nil {
		n.tb.Helper()
		n.tb.Errorf("%s", msg)
		return
	}
	panic(msg)
}

// Listen registers a listener for url, replacing any previous one. Each
// accepted connection is passed to handle on a new goroutine and is
// dropped (1006) when handle returns; a nil handle keeps the connection
// open, unread, until the client closes it.
func (n *Network) Listen(url string, handle func(*ServerConn)) *Listener {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners == nil {
		n.listeners = make(map[string]*Listener)
	}
	l := &Listener{net: n, url: url, handle: handle, queue: DefaultQueue, answerPings: true}
	n.listeners[url] = l
	return l
}

// Dials returns the URLs dialed so far, in order, refused ones included.
func (n *Network) Dials() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.dials...)
}

// Dial implements dialer.Dialer. It checks o (dialer.Options.Check) first,
// as a backend does.
func (n *Network) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	n.mu.Lock()
	n.dials = append(n.dials, url)
	l := n.listeners[url]
	n.mu.Unlock()
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("dialertest: %w", err)
	}
	if l == nil {
		return nil, fmt.Errorf("dialertest: dial %s: %w", url, ErrRefused)
	}
	return l.dial(ctx, o)
}

// Listener is the server side of one URL. Its methods are safe for
// concurrent use; settings apply to the dials that come after.
type Listener struct {
	net    *Network
	url    string
	handle func(*ServerConn)

	mu          sync.Mutex
	mode        Mode
	queue       int
	delay       time.Duration
	answerPings bool
	conns       []*ServerConn
	wg          sync.WaitGroup
}

// URL returns the URL the listener serves.
func (l *Listener) URL() string { return l.url }

// SetMode changes what the next dials get.
func (l *Listener) SetMode(m Mode) {
	l.mu.Lock()
	l.mode = m
	l.mu.Unlock()
}

// SetQueue sets how many messages each direction of the next connections
// buffers before a writer blocks (DefaultQueue at first; 0 makes every
// write wait for the reader, as a peer that stopped reading does).
func (l *Listener) SetQueue(n int) {
	l.mu.Lock()
	l.queue = max(n, 0)
	l.mu.Unlock()
}

// SetHandshakeDelay makes each next accepted dial take d (in virtual time
// inside a synctest bubble) before it returns; a dial whose ctx ends first
// fails with ctx's error.
func (l *Listener) SetHandshakeDelay(d time.Duration) {
	l.mu.Lock()
	l.delay = d
	l.mu.Unlock()
}

// SetAnswerPings says whether the server side of the next connections
// answers the client's WebSocket pings with pongs (true at first), as
// every real server does while it reads.
func (l *Listener) SetAnswerPings(on bool) {
	l.mu.Lock()
	l.answerPings = on
	l.mu.Unlock()
}

// Conns returns the connections accepted so far, in order, closed ones
// included.
func (l *Listener) Conns() []*ServerConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*ServerConn(nil), l.conns...)
}

// Wait waits for every handler goroutine of this listener to return.
func (l *Listener) Wait() { l.wg.Wait() }

// DropAll ends every open connection without a close frame: the client
// reads 1006.
func (l *Listener) DropAll() {
	for _, c := range l.Conns() {
		c.Drop()
	}
}

func (l *Listener) dial(ctx context.Context, o dialer.Options) (dialer.Conn, error) {
	l.mu.Lock()
	mode, queue, delay, pings := l.mode, l.queue, l.delay, l.answerPings
	l.mu.Unlock()
	switch mode {
	case Refuse:
		return nil, fmt.Errorf("dialertest: dial %s: %w", l.url, ErrRefused)
	case Stall:
		<-ctx.Done()
		return nil, fmt.Errorf("dialertest: dial %s: %w", l.url, ctx.Err())
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("dialertest: dial %s: %w", l.url, ctx.Err())
		}
	}
	switch mode {
	case NoSubprotocol:
		return nil, fmt.Errorf("dialertest: dial %s: %w", l.url, dialer.ErrSubprotocol)
	case RejectHandshake:
		return nil, &dialer.HandshakeError{StatusCode: 503, Status: "503 Service Unavailable"}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dialertest: dial %s: %w", l.url, err)
	}
	client, server := newPipe(l.net, queue, o)
	server.answerPings.Store(pings)
	sc := &ServerConn{end: server, url: l.url, opts: o}
	l.mu.Lock()
	l.conns = append(l.conns, sc)
	l.wg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		if l.handle == nil {
			<-client.done
			return
		}
		defer sc.Drop()
		l.handle(sc)
	}()
	return client, nil
}
