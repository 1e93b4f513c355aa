package ws

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hashicorp/go-hclog"
	"github.com/sipws/sipws/dialer"
)

// DefaultReadBufferSize is the read buffer of a connection when
// Dialer.ReadBufferSize is zero.
const DefaultReadBufferSize = 4096

// gorillaReadBuffer is the buffer gorilla's own reader keeps for the
// connection's life: a frame header and a control frame fit, a message is
// read through it from the pooled read buffer below (idleread.Conn), which
// an idle connection does not hold.
const gorillaReadBuffer = 256

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
	// ReadBufferSize is the size of each connection's read buffer, taken
	// from a pool when bytes arrive and given back once they are read, so
	// that an idle connection holds none (gorilla's own reader keeps 256
	// bytes). Zero means DefaultReadBufferSize (4096); values below 256
	// are raised to 256. It does not limit message sizes.
	ReadBufferSize int

	// Logger, if not nil, receives the backend's logs at Debug level:
	// each handshake's outcome, and how each connection ended (its close
	// code, sent or received). Nothing is logged per message. New names it
	// after the transport's Config.Logger ("ws").
	Logger hclog.Logger

	// NetDial, if not nil, opens the TCP connection instead of a zero
	// net.Dialer. TLS for wss runs over the connection it returns. It is
	// called from the goroutine of each Dial; it must honour ctx.
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
// dialer.ErrSubprotocol, one that answers with another HTTP status (a
// redirect included: none is followed) a *dialer.HandshakeError, and one
// that selects an extension an error (none is offered). The request carries
// the headers of o.HandshakeHeader(url): o.Header, with the Origin that
// o.Origin, o.NoOrigin or the URL gives; a Host in o.Header replaces the
// URL's host. o.TLSConfig is cloned, o.Header copied: both are only read.
// wss verifies the server's certificate against o.TLSConfig's roots (the
// system's when nil) and its ServerName, or the URL's host. Dial does not
// retry, and uses no proxy.
func (d *Dialer) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	c, err := d.dial(ctx, url, o)
	if log := d.Logger; log != nil && log.IsDebug() {
		if err != nil {
			log.Debug("handshake failed", "url", url, "error", err)
		} else {
			log.Debug("handshake done", "url", url)
		}
	}
	if err != nil {
		return nil, err
	}
	c.log = d.Logger
	return c, nil
}

// dial is Dial without the logging.
// readBufferSize is ReadBufferSize with its default and minimum applied.
func (d *Dialer) readBufferSize() int {
	switch n := d.ReadBufferSize; {
	case n == 0:
		return DefaultReadBufferSize
	case n < gorillaReadBuffer:
		return gorillaReadBuffer
	default:
		return n
	}
}

func (d *Dialer) dial(ctx context.Context, url string, o dialer.Options) (*conn, error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("ws: %w", err)
	}
	if o.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.HandshakeTimeout)
		defer cancel()
	}
	// The write buffer holds the largest message gorilla may send, so
	// that every message goes out as one frame in one write: gorilla
	// fragments a message that does not fit. The buffers are pooled.
	size := o.SendLimit()
	w := watch{netDial: d.NetDial, tlsConfig: o.TLSConfig, readBuffer: d.readBufferSize()}
	gd := websocket.Dialer{
		NetDialContext:    w.dialTCP,
		NetDialTLSContext: w.dialTLS,
		ReadBufferSize:    gorillaReadBuffer,
		WriteBufferSize:   size,
		WriteBufferPool:   writePool(size),
		Subprotocols:      protocols,
	}
	wc, resp, err := gd.DialContext(ctx, url, o.HandshakeHeader(url))
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
	return newConn(wc, w.tap, o), nil
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

// watch makes the end of a dial's context interrupt the upgrade, and
// opens the dial's socket under a tap. gorilla bounds its HTTP exchange by
// the context's deadline alone (TCP and TLS do honour the context), so a
// cancelled dial would otherwise wait for a stalled server for ever: once
// the socket is open, the context's end sets a past deadline on it, which
// fails the pending read or write, and gorilla then closes the socket.
type watch struct {
	netDial    func(ctx context.Context, network, addr string) (net.Conn, error)
	tlsConfig  *tls.Config // Options.TLSConfig, only read
	stopFn     func() bool
	fired      chan struct{} // closed once the deadline has been set
	tap        *tap          // the dial's socket, once open
	readBuffer int           // Dialer.ReadBufferSize, defaults applied
}

// dialTCP is gorilla's NetDialContext: a ws connection, under a tap.
// gorilla calls it, or dialTLS, at most once per Dial, on Dial's goroutine.
func (w *watch) dialTCP(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := w.open(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	w.tap = newTap(nc, nil, w.readBuffer)
	return w.tap, nil
}

// dialTLS is gorilla's NetDialTLSContext: the TLS handshake of a wss
// connection, as gorilla would do it (a clone of the config, ServerName
// set to the host when empty), with the tap above TLS, where the frames
// are.
func (w *watch) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := w.open(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := w.tlsConfig.Clone()
	if cfg == nil {
		cfg = new(tls.Config)
	}
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	w.tap = newTap(nc, tc, w.readBuffer)
	return w.tap, nil
}

// open opens the TCP connection and starts watching ctx.
func (w *watch) open(ctx context.Context, network, addr string) (net.Conn, error) {
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
