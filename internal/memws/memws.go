// Package memws is an in-memory dialer.Dialer and its server side, for
// tests: whole messages move over channels, so inside a testing/synctest
// bubble a 30 s timeout passes in microseconds and exactly. It is not part
// of the public contract.
package memws

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/sipws/sipws/dialer"
)

// Mode is what a Listener does with the next dials.
type Mode int

const (
	Accept          Mode = iota // accept and hand the connection to the handler
	Refuse                      // fail at once, as a refused TCP connection
	Stall                       // never answer: Dial returns only when ctx ends
	NoSubprotocol               // complete the handshake without "sip"
	RejectHandshake             // answer the upgrade with HTTP 503
)

// ErrRefused is the error of a dial to a refusing or absent listener.
var ErrRefused = errors.New("memws: connection refused")

// Network is a set of listeners addressed by URL. It implements
// dialer.Dialer. The zero value is ready to use.
type Network struct {
	mu        sync.Mutex
	listeners map[string]*Listener
	dials     []string
}

// Listen registers a listener for url, replacing any previous one. Each
// accepted connection is passed to handle in a new goroutine; the
// connection is closed when handle returns.
func (n *Network) Listen(url string, handle func(*ServerConn)) *Listener {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners == nil {
		n.listeners = make(map[string]*Listener)
	}
	l := &Listener{url: url, handle: handle, queue: 16}
	n.listeners[url] = l
	return l
}

// Dials returns the URLs dialed so far, in order.
func (n *Network) Dials() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.dials...)
}

// Dial implements dialer.Dialer.
func (n *Network) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	n.mu.Lock()
	n.dials = append(n.dials, url)
	l := n.listeners[url]
	n.mu.Unlock()
	if l == nil {
		return nil, fmt.Errorf("memws: dial %s: %w", url, ErrRefused)
	}
	return l.dial(ctx, o)
}

// Listener is the server side of one URL.
type Listener struct {
	url    string
	handle func(*ServerConn)
	queue  int

	mu    sync.Mutex
	mode  Mode
	conns []*ServerConn
	wg    sync.WaitGroup
}

// SetMode changes what the next dials get.
func (l *Listener) SetMode(m Mode) {
	l.mu.Lock()
	l.mode = m
	l.mu.Unlock()
}

// SetQueue sets how many messages each direction of the next connections
// buffers before a writer blocks (default 16; 0 makes every write wait for
// the reader).
func (l *Listener) SetQueue(n int) {
	l.mu.Lock()
	l.queue = n
	l.mu.Unlock()
}

// Conns returns the connections accepted so far, in order.
func (l *Listener) Conns() []*ServerConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*ServerConn(nil), l.conns...)
}

// Wait waits for every handler goroutine to return.
func (l *Listener) Wait() { l.wg.Wait() }

// DropAll ends every open connection without a close frame (1006).
func (l *Listener) DropAll() {
	for _, c := range l.Conns() {
		c.Drop()
	}
}

func (l *Listener) dial(ctx context.Context, o dialer.Options) (dialer.Conn, error) {
	l.mu.Lock()
	mode, queue := l.mode, l.queue
	l.mu.Unlock()
	switch mode {
	case Refuse:
		return nil, fmt.Errorf("memws: dial %s: %w", l.url, ErrRefused)
	case Stall:
		<-ctx.Done()
		return nil, fmt.Errorf("memws: dial %s: %w", l.url, ctx.Err())
	case NoSubprotocol:
		return nil, fmt.Errorf("memws: dial %s: %w", l.url, dialer.ErrSubprotocol)
	case RejectHandshake:
		return nil, &dialer.HandshakeError{StatusCode: 503, Status: "503 Service Unavailable"}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	client, server := pipe(queue, o.ReadLimit())
	sc := &ServerConn{end: server}
	l.mu.Lock()
	l.conns = append(l.conns, sc)
	l.wg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		defer sc.Drop()
		if l.handle != nil {
			l.handle(sc)
		}
	}()
	return client, nil
}
