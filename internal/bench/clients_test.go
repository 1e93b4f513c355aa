package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gorilla/websocket"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
	sipwsws "github.com/sipws/sipws/ws"
	"github.com/sipws/sipws/wsgobwas"
)

// A client is one connection of one variant, used from one goroutine.
type client interface {
	send(p []byte) error
	recv(n int) error     // wait until n more messages have been delivered
	pingPong(n int) error // n round trips: request out, response in
	close()
}

// variant is one way of moving SIP messages, with how to dial it.
type variant struct {
	name string
	ws   bool // talks WebSocket (else the raw-TCP floor)
	dial func(url string, keepAlive time.Duration) (client, error)
}

var variants = []variant{
	{"tcp", false, dialTCP},
	{"gorilla", true, dialGorilla},
	{"gobwas", true, dialGobwas},
	{"sipws-ws", true, dialSipws(func() dialer.Dialer { return &sipwsws.Dialer{} })},
	{"sipws-gobwas", true, dialSipws(func() dialer.Dialer { return &wsgobwas.Dialer{} })},
}

// tcpClient is the floor: a 4-byte length prefix per message, one Write
// per message, a 4 KiB bufio.Reader.
type tcpClient struct {
	c    net.Conn
	br   *bufio.Reader
	wbuf []byte
	rbuf []byte
}

func dialTCP(addr string, _ time.Duration) (client, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &tcpClient{c: c, br: bufio.NewReaderSize(c, 4096)}, nil
}

func (t *tcpClient) send(p []byte) error {
	t.wbuf = binary.BigEndian.AppendUint32(t.wbuf[:0], uint32(len(p)))
	t.wbuf = append(t.wbuf, p...)
	_, err := t.c.Write(t.wbuf)
	return err
}

func (t *tcpClient) recv(n int) error {
	var hdr [4]byte
	for range n {
		if _, err := io.ReadFull(t.br, hdr[:]); err != nil {
			return err
		}
		t.rbuf = grow(t.rbuf, int(binary.BigEndian.Uint32(hdr[:])))
		if _, err := io.ReadFull(t.br, t.rbuf); err != nil {
			return err
		}
	}
	return nil
}

func (t *tcpClient) pingPong(n int) error { return roundTrips(t, n) }

func (t *tcpClient) close() { t.c.Close() }

// roundTrips is pingPong for the plain clients, which send and read on the
// caller's goroutine.
func roundTrips(c client, n int) error {
	for range n {
		if err := c.send(request); err != nil {
			return err
		}
		if err := c.recv(1); err != nil {
			return err
		}
	}
	return nil
}

// grow returns b resized to n bytes, reallocated only when too small: the
// plain clients hold no buffer until their first message, as an idle
// connection should not.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// gorillaClient is plain gorilla/websocket with its defaults, through
// NextWriter and NextReader (its fastest API).
type gorillaClient struct {
	c    *websocket.Conn
	rbuf []byte
}

func dialGorilla(url string, _ time.Duration) (client, error) {
	d := websocket.Dialer{Subprotocols: []string{"sip"}}
	c, _, err := d.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	return &gorillaClient{c: c}, nil
}

func (g *gorillaClient) send(p []byte) error {
	w, err := g.c.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	if _, err := w.Write(p); err != nil {
		return err
	}
	return w.Close()
}

func (g *gorillaClient) recv(n int) error {
	for range n {
		_, r, err := g.c.NextReader()
		if err != nil {
			return err
		}
		for off := 0; ; {
			if off == len(g.rbuf) {
				g.rbuf = append(g.rbuf, make([]byte, max(512, len(g.rbuf)))...)
			}
			k, err := r.Read(g.rbuf[off:])
			off += k
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func (g *gorillaClient) pingPong(n int) error { return roundTrips(g, n) }

func (g *gorillaClient) close() { g.c.Close() }

// gobwasClient is plain gobwas/ws at its low level: headers written and
// read with caller-held scratch buffers, the payload masked into a reused
// buffer, header and payload in one Write.
type gobwasClient struct {
	c    net.Conn
	br   *bufio.Reader
	hdr  [ws.MaxHeaderSize]byte
	wbuf []byte
	rbuf []byte
}

func dialGobwas(url string, _ time.Duration) (client, error) {
	d := ws.Dialer{Protocols: []string{"sip"}}
	c, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(c, 4096)
	}
	return &gobwasClient{c: c, br: br}, nil
}

// appender collects what WriteHeaderBuffer writes into the frame buffer.
type appender struct{ b *[]byte }

func (a appender) Write(p []byte) (int, error) { *a.b = append(*a.b, p...); return len(p), nil }

func (g *gobwasClient) send(p []byte) error {
	h := ws.Header{Fin: true, OpCode: ws.OpText, Masked: true, Mask: ws.NewMask(), Length: int64(len(p))}
	g.wbuf = g.wbuf[:0]
	if err := ws.WriteHeaderBuffer(appender{&g.wbuf}, h, g.hdr[:]); err != nil {
		return err
	}
	n := len(g.wbuf)
	g.wbuf = append(g.wbuf, p...)
	ws.Cipher(g.wbuf[n:], h.Mask, 0)
	_, err := g.c.Write(g.wbuf)
	return err
}

func (g *gobwasClient) recv(n int) error {
	for range n {
		h, err := ws.ReadHeaderBuffer(g.br, g.hdr[:])
		if err != nil {
			return err
		}
		g.rbuf = grow(g.rbuf, int(h.Length))
		if _, err := io.ReadFull(g.br, g.rbuf); err != nil {
			return err
		}
	}
	return nil
}

func (g *gobwasClient) pingPong(n int) error { return roundTrips(g, n) }

func (g *gobwasClient) close() { g.c.Close() }

// sipwsClient is the whole sipws Transport: every received message is
// parsed, sanity-checked and delivered to the Message callback.
type sipwsClient struct {
	tr        *transport.Base
	delivered atomic.Int64
	target    atomic.Int64 // recv: signal done once delivered reaches it
	left      atomic.Int64 // pingPong: round trips still to go
	done      chan error
}

func dialSipws(newDialer func() dialer.Dialer) func(string, time.Duration) (client, error) {
	return func(url string, keepAlive time.Duration) (client, error) {
		servers, err := selector.Parse(url)
		if err != nil {
			return nil, err
		}
		c := &sipwsClient{done: make(chan error, 1)}
		tr, err := transport.NewBase(transport.Config{
			Servers:           servers,
			KeepAliveInterval: keepAlive,
			Events:            transport.Events{Message: c.message},
		}, newDialer())
		if err != nil {
			return nil, err
		}
		c.tr = tr
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tr.Connect(ctx); err != nil {
			tr.Disconnect(context.Background())
			return nil, err
		}
		return c, nil
	}
}

// message runs on the transport's goroutine for each delivered message.
func (c *sipwsClient) message(*sipmsg.Message) {
	n := c.delivered.Add(1)
	if c.left.Load() > 0 {
		if c.left.Add(-1) == 0 {
			c.done <- nil
		} else if err := c.tr.Send(context.Background(), request); err != nil {
			c.left.Store(0)
			c.done <- err
		}
		return
	}
	if t := c.target.Load(); t != 0 && n >= t && c.target.CompareAndSwap(t, 0) {
		c.done <- nil
	}
}

func (c *sipwsClient) send(p []byte) error { return c.tr.Send(context.Background(), p) }

func (c *sipwsClient) recv(n int) error {
	c.target.Store(c.delivered.Load() + int64(n))
	return c.wait()
}

func (c *sipwsClient) pingPong(n int) error {
	c.left.Store(int64(n))
	if err := c.tr.Send(context.Background(), request); err != nil {
		return err
	}
	return c.wait()
}

func (c *sipwsClient) wait() error {
	select {
	case err := <-c.done:
		return err
	case <-time.After(time.Minute):
		return errors.New("bench: no progress within a minute: " + fmt.Sprint(c.tr.Stats()))
	}
}

func (c *sipwsClient) close() { c.tr.Disconnect(context.Background()) }
