package ws

import "github.com/sipws/sipws/transport"

// Transport is a SIP-over-WebSocket transport on gorilla/websocket: a
// transport.Base over this package's Dialer. Its methods are Base's.
type Transport struct{ *transport.Base }

// New returns a transport over a Dialer with default settings. The error
// joins one *transport.ConfigError per invalid field.
func New(cfg transport.Config) (*Transport, error) {
	d := &Dialer{}
	if cfg.Logger != nil {
		d.Logger = cfg.Logger.Named("ws")
	}
	return NewWithDialer(cfg, d)
}

// NewWithDialer returns a transport over d, for callers who tune the
// Dialer's buffers or network dial.
func NewWithDialer(cfg transport.Config, d *Dialer) (*Transport, error) {
	b, err := transport.NewBase(cfg, d)
	if err != nil {
		return nil, err
	}
	return &Transport{b}, nil
}
