package ws

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/sipws/sipws/dialer"
)

// DefaultReadBufferSize is the read buffer of a connection when
// Dialer.ReadBufferSize is zero: gorilla's own default.
const DefaultReadBufferSize = 4096

// DefaultWriteBufferSize is the write buffer when Dialer.WriteBufferSize is
// zero: 64 KiB, so that every message up to dialer.DefaultMaxMessageSize
// goes out in one frame. The buffer is pooled, so it costs nothing while a
// connection is idle.
const DefaultWriteBufferSize = dialer.DefaultMaxMessageSize

// protocols is what every handshake offers; gorilla only reads it.
var protocols = []string{dialer.Subprotocol}

// errExtension reports a server that answered with an extension the
// handshake did not offer (RFC 6455 §4.1 makes that a failed connection).
var errExtension = errors.New("ws: server selected an extension that was not offered")

// aLongTimeAgo is the deadline that wakes every pending I/O of a socket.
var aLongTimeAgo = time.Unix(1, 0)

// Dialer opens SIP-over-WebSocket connections with gorilla/websocket. The
// zero value is ready to use.
//
// A Dialer is safe for concurrent use by multiple goroutines, provided its
// fields are not changed while a Dial is in progress.
type Dialer struct {
	// ReadBufferSize is the size of each connection's read buffer, which
	// gorilla keeps for the connection's life. Zero means
	// DefaultReadBufferSize (4096); values below 125 are raised to 125 so
	// that any control frame fits. It does not limit message sizes.
	ReadBufferSize int

	// WriteBufferSize is the size of the buffer a message is copied and
	// masked into. A message up to this size goes out in one frame; a
	// larger one is sent as a fragmented message of frames of this size
	// (still one WebSocket message, RFC 6455 §5.4). Zero or less means
	// DefaultWriteBufferSize (64 KiB). Buffers come from a pool shared by
	// every connection with the same size and go back to it after each
	// message.
	WriteBufferSize int

	// NetDial, if not nil, opens the TCP connection instead of a zero
	// net.Dialer. TLS for wss runs over the connection it returns.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Dial implements dialer.Dialer: it connects to url (ws or wss), upgrades
// offering "sip", and returns the connection once the server has selected
// it.
//
// ctx, shortened by o.HandshakeTimeout when that is set, bounds TCP, TLS and
// the upgrade; when it ends Dial closes the socket and returns an error
// that wraps ctx.Err() (context.DeadlineExceeded for HandshakeTimeout). A
// server that does not select "sip" gives an error wrapping
// dialer.ErrSubprotocol, and one that answers with another HTTP status a
// *dialer.HandshakeError. o.Header must not set the headers the handshake
// itself writes (Upgrade, Connection, Sec-WebSocket-*); a Host in it
// replaces the URL's host in the request. o.TLSConfig and o.Header are only
// read. Dial does not retry, and uses no proxy.
func (d *Dialer) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("ws: %w", err)
	}
	header := requestHeader(o.Header)
	if o.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.HandshakeTimeout)
		defer cancel()
	}
	size := d.writeBufferSize()
	w := watch{netDial: d.NetDial}
	gd := websocket.Dialer{
		NetDialContext:  w.dial,
		TLSClientConfig: o.TLSConfig, // gorilla clones it before setting ServerName
		ReadBufferSize:  d.ReadBufferSize,
		WriteBufferSize: size,
		WriteBufferPool: writePool(size),
		Subprotocols:    protocols,
	}
	wc, resp, err := gd.DialContext(ctx, url, header)
	if w.stop() && err == nil {
		// ctx ended just as the handshake finished: the socket may have
		// been given a past deadline, and the caller has given up.
		wc.Close()
		err = ctx.Err()
	}
	if err != nil {
		return nil, dialError(ctx, err, resp)
	}
	if p := wc.Subprotocol(); p != dialer.Subprotocol {
		wc.Close()
		return nil, fmt.Errorf("ws: %w (selected %q)", dialer.ErrSubprotocol, p)
	}
	if ext := resp.Header.Values("Sec-Websocket-Extensions"); len(ext) > 0 {
		// gorilla would turn permessage-deflate on for writes although
		// it was never offered.
		wc.Close()
		return nil, fmt.Errorf("%w: %q", errExtension, ext)
	}
	return newConn(wc, o.ReadLimit()), nil
}

func (d *Dialer) writeBufferSize() int {
	if d.WriteBufferSize <= 0 {
		return DefaultWriteBufferSize
	}
	return d.WriteBufferSize
}

// dialError returns the error of a failed handshake in the terms of package
// dialer.
func dialError(ctx context.Context, err error, resp *http.Response) error {
	if resp != nil {
		resp.Body.Close() // gorilla has read what it keeps of it
		if errors.Is(err, websocket.ErrBadHandshake) && resp.StatusCode != http.StatusSwitchingProtocols {
			return &dialer.HandshakeError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header}
		}
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		// gorilla gives the socket ctx's deadline, which can fire a hair
		// before ctx's own timer: wait for the timer, so that the error
		// says DeadlineExceeded rather than a bare i/o timeout.
		<-ctx.Done()
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		// The socket error that ctx's end caused says less than ctx.
		return fmt.Errorf("ws: %w: %w", cerr, err)
	}
	return fmt.Errorf("ws: %w", err)
}

// watch makes the end of a dial's context interrupt the upgrade. gorilla
// bounds its HTTP exchange by the context's deadline alone (TCP and TLS
// do honour the context), so a cancelled dial would otherwise wait for a
// stalled server for ever: once the socket is open, the context's end sets
// a past deadline on it, which fails the pending read or write, and
// gorilla then closes the socket.
type watch struct {
	netDial func(ctx context.Context, network, addr string) (net.Conn, error)
	stopFn  func() bool
	fired   chan struct{} // closed once the deadline has been set
}

// dial opens the TCP connection and starts watching ctx. gorilla calls it
// at most once per Dial, on Dial's goroutine.
func (w *watch) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	dial := w.netDial
	if dial == nil {
		var nd net.Dialer
		dial = nd.DialContext
	}
	nc, err := dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if nc == nil {
		return nil, errors.New("ws: Dialer.NetDial returned neither a connection nor an error")
	}
	w.fired = make(chan struct{})
	w.stopFn = context.AfterFunc(ctx, func() {
		defer close(w.fired)
		nc.SetDeadline(aLongTimeAgo)
	})
	return nc, nil
}

// stop ends the watch and reports whether ctx ended while it ran. It
// returns only once the deadline, if any, has been set, so no goroutine
// outlives Dial.
func (w *watch) stop() bool {
	if w.stopFn == nil || w.stopFn() {
		return false
	}
	<-w.fired
	return true
}
