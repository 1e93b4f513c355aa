package wsgobwas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/gobwas/ws"
	"github.com/hashicorp/go-hclog"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/idleread"
)

// DefaultReadBufferSize is the read buffer of a connection when
// Dialer.ReadBufferSize is zero.
const DefaultReadBufferSize = 4096

// minReadBufferSize keeps every control frame's payload (at most 125
// bytes) inside the read buffer, where it is read in place.
const minReadBufferSize = 256

// protocols is what every handshake offers; gobwas only reads it.
var protocols = []string{dialer.Subprotocol}

// Dialer opens SIP-over-WebSocket connections with gobwas/ws. The zero
// value is ready to use.
//
// A Dialer is safe for concurrent use by multiple goroutines, provided its
// fields are not changed while a Dial is in progress.
type Dialer struct {
	// ReadBufferSize is the size of each connection's read buffer, which
	// a connection holds only while bytes are in it (see the package doc,
	// Memory). A message that arrives in one frame no larger than this is
	// returned without a copy.
	// Zero means DefaultReadBufferSize (4096); values below 256 are
	// raised to 256 so that any control frame fits.
	ReadBufferSize int

	// Logger, if not nil, receives the backend's logs at Debug level:
	// each handshake's outcome, and how each connection ended (its close
	// code, sent or received). Nothing is logged per message. New names it
	// after the transport's Config.Logger ("wsgobwas").
	Logger hclog.Logger

	// NetDial, if not nil, opens the TCP connection instead of a zero
	// net.Dialer. TLS for wss runs over the connection it returns. It is
	// called from the goroutine of each Dial, so concurrent Dials call it
	// concurrently; it must honour ctx.
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
// URL's host. o.TLSConfig and o.Header are only read. Dial does not retry.
//
// Dial is safe for concurrent use. The connection it returns is safe for
// the concurrent use that dialer.Conn describes, and starts no goroutine.
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
func (d *Dialer) dial(ctx context.Context, url string, o dialer.Options) (*conn, error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("wsgobwas: %w", err)
	}
	header, host := requestHeader(o.HandshakeHeader(url))
	if o.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.HandshakeTimeout)
		defer cancel()
	}
	size := d.readBufferSize()
	var refused *dialer.HandshakeError
	wd := ws.Dialer{
		ReadBufferSize: size,
		Protocols:      protocols,
		Header:         header,
		Host:           host,
		NetDial:        d.NetDial,
		TLSConfig:      o.TLSConfig, // gobwas clones it before setting ServerName
		OnStatusError: func(status int, reason []byte, resp io.Reader) {
			refused = handshakeError(status, reason, resp)
		},
	}
	nc, br, hs, err := wd.Dial(ctx, url)
	if err != nil {
		// gobwas has closed the socket and pooled its reader; both are
		// released again here in case a future version does not.
		if br != nil {
			ws.PutReader(br)
		}
		if nc != nil {
			nc.Close()
		}
		return nil, dialError(ctx, err, refused)
	}
	if hs.Protocol != dialer.Subprotocol {
		if br != nil {
			ws.PutReader(br)
		}
		nc.Close()
		return nil, fmt.Errorf("wsgobwas: %w", dialer.ErrSubprotocol)
	}
	if br != nil {
		// The server's first frames came in with the handshake answer
		// and sit in gobwas's reader: the connection's reader takes them.
		rd := idleread.NewReader(nc, size)
		rd.Adopt(br, ws.PutReader)
		return newConn(nc, rd, o), nil
	}
	return newConn(nc, idleread.NewReader(nc, size), o), nil
}

func (d *Dialer) readBufferSize() int {
	switch n := d.ReadBufferSize; {
	case n == 0:
		return DefaultReadBufferSize
	case n < minReadBufferSize:
		return minReadBufferSize
	default:
		return n
	}
}

// dialError returns the error of a failed handshake in the terms of package
// dialer.
func dialError(ctx context.Context, err error, refused *dialer.HandshakeError) error {
	var status ws.StatusError
	switch {
	case refused != nil:
		return refused
	case errors.As(err, &status):
		return &dialer.HandshakeError{StatusCode: int(status)}
	case errors.Is(err, ws.ErrHandshakeBadSubProtocol):
		return fmt.Errorf("wsgobwas: %w: %w", dialer.ErrSubprotocol, err)
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		// The socket error that ctx's end caused says less than ctx.
		return fmt.Errorf("wsgobwas: %w: %w", cerr, err)
	}
	return fmt.Errorf("wsgobwas: %w", err)
}
