package coderws

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/coder/websocket"

	"github.com/sipws/sipws/dialer"
)

// Dialer opens SIP-over-WebSocket connections with coder/websocket. The
// zero value is ready to use and safe for concurrent use.
type Dialer struct{}

// Dial implements dialer.Dialer. ctx, shortened by o.HandshakeTimeout,
// bounds TCP, TLS and the upgrade; o is only read; Dial does not retry.
func (Dialer) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	if err := o.Check(); err != nil {
		return nil, fmt.Errorf("coderws: %w", err)
	}
	if o.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.HandshakeTimeout)
		defer cancel()
	}
	limit := o.ReadLimit()
	var g *guard // the socket of this dial, once opened
	netDial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		return new(net.Dialer).DialContext(ctx, network, addr)
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := netDial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			g = &guard{Conn: nc}
			return g, nil
		},
		// TLS is done here rather than by the Transport so that the guard
		// reads the plaintext frames.
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			raw, err := netDial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			cfg := new(tls.Config)
			if o.TLSConfig != nil {
				cfg = o.TLSConfig.Clone()
			}
			if cfg.ServerName == "" {
				host, _, _ := net.SplitHostPort(addr)
				cfg.ServerName = host
			}
			tc := tls.Client(raw, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			g = &guard{Conn: tc}
			return g, nil
		},
	}
	defer tr.CloseIdleConnections()
	header := o.HandshakeHeader(url) // with the Origin; names canonical
	host := header.Get("Host")
	header.Del("Host")
	opts := &websocket.DialOptions{
		HTTPClient: &http.Client{
			Transport: tr,
			// A redirect is an answer other than 101, not a new dial.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		HTTPHeader:   header,
		Host:         host,
		Subprotocols: []string{dialer.Subprotocol},
	}
	ws, resp, err := websocket.Dial(ctx, url, opts)
	if err != nil && resp != nil && resp.StatusCode == http.StatusSwitchingProtocols &&
		resp.Header.Get("Sec-WebSocket-Protocol") != dialer.Subprotocol {
		return nil, fmt.Errorf("coderws: %w: %w", dialer.ErrSubprotocol, err)
	}
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, &dialer.HandshakeError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header}
		}
		if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			return nil, fmt.Errorf("coderws: %w: %w", cerr, err)
		}
		return nil, fmt.Errorf("coderws: %w", err)
	}
	if ws.Subprotocol() != dialer.Subprotocol {
		ws.CloseNow()
		return nil, fmt.Errorf("coderws: %w", dialer.ErrSubprotocol)
	}
	ws.SetReadLimit(limit)
	return &conn{ws: ws, guard: g, limit: limit, send: dialer.Options{MaxSendSize: o.SendLimit()}}, nil
}
