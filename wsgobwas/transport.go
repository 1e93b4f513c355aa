package wsgobwas

import "github.com/sipws/sipws/transport"

// Transport is a SIP-over-WebSocket transport on gobwas/ws: a
// transport.Base over this package's Dialer. Its methods are Base's, with
// Base's concurrency contract: Send, Status and SetEvents are safe from any
// number of goroutines, Connect and Disconnect from any goroutine but an
// event callback's.
type Transport struct{ *transport.Base }

// New returns a transport over a Dialer with default settings. The error
// joins one *transport.ConfigError per invalid field. It may be called
// concurrently; each transport is independent.
func New(cfg transport.Config) (*Transport, error) {
	d := &Dialer{}
	if cfg.Logger != nil {
		d.Logger = cfg.Logger.Named("wsgobwas")
	}
	return NewWithDialer(cfg, d)
}

// NewWithDialer returns a transport over d, for callers who tune the
// Dialer's buffers or network dial. d may be shared by several transports;
// its fields must not change once one of them may be dialing.
func NewWithDialer(cfg transport.Config, d *Dialer) (*Transport, error) {
	b, err := transport.NewBase(cfg, d)
	if err != nil {
		return nil, err
	}
	return &Transport{b}, nil
}
