package main

import (
	"context"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/keepalive"
)

// tap wraps a backend and prints every dial and every message that crosses
// the socket, keepalives included: the traffic the transport's events do
// not show. It is a dialer.Dialer like any backend.
type tap struct {
	d dialer.Dialer
	r *report
}

func (t *tap) Dial(ctx context.Context, url string, o dialer.Options) (dialer.Conn, error) {
	t.r.printf("dial       %s", t.r.server(url))
	c, err := t.d.Dial(ctx, url, o)
	if err != nil {
		t.r.failed(url, err)
		t.r.printf("dial       failed: %v", err)
		return nil, err
	}
	return &tapConn{Conn: c, r: t.r}, nil
}

type tapConn struct {
	dialer.Conn
	r *report
}

func (c *tapConn) ReadMessage() ([]byte, error) {
	p, err := c.Conn.ReadMessage()
	if err == nil {
		c.r.printf("<-         %s", wire(p))
		if string(p) == keepalive.CRLFPong {
			offer(c.r.pongs, struct{}{})
		}
	}
	return p, err
}

// WriteMessage prints before it writes: the answer may be read before
// the write returns.
func (c *tapConn) WriteMessage(p []byte) error {
	c.r.printf("->         %s", wire(p))
	err := c.Conn.WriteMessage(p)
	if err != nil {
		c.r.printf("->         failed: %v", err)
	}
	return err
}
