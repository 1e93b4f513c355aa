package wstest

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
	"sync"
	"time"
)

// ScriptedDial returns a NetDial function for a backend's Dialer whose
// connection is a server that accepts the upgrade with "sip" and then
// sends stream, byte for byte, and ends: the way a fuzz target feeds a
// backend's frame reader whatever a lying server could send, with no
// socket and no goroutine. What the client writes after the handshake is
// discarded.
func ScriptedDial(stream []byte) NetDial {
	return func(context.Context, string, string) (net.Conn, error) {
		return &scriptedConn{stream: stream}, nil
	}
}

// scriptedConn answers the upgrade request written to it, then reads out
// the stream. It is safe for the concurrent Read, Write and Close of one
// client connection.
type scriptedConn struct {
	mu     sync.Mutex
	stream []byte
	req    bytes.Buffer  // the upgrade request, until it is whole
	out    *bytes.Reader // the 101 answer and the stream, once it is
	closed bool
}

var errScriptedClosed = errors.New("wstest: scripted connection closed")

func (c *scriptedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, errScriptedClosed
	}
	if c.out == nil {
		c.req.Write(p)
		if key, ok := upgradeKey(c.req.Bytes()); ok {
			answer := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: " + acceptKey(key) + "\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
			c.out = bytes.NewReader(append([]byte(answer), c.stream...))
		}
	}
	return len(p), nil
}

func (c *scriptedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return 0, errScriptedClosed
	case c.out == nil:
		return 0, errors.New("wstest: read before the upgrade request was written")
	}
	return c.out.Read(p) // io.EOF once the stream is out: the server hung up
}

func (c *scriptedConn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	return nil
}

func (c *scriptedConn) LocalAddr() net.Addr                { return scriptedAddr{} }
func (c *scriptedConn) RemoteAddr() net.Addr               { return scriptedAddr{} }
func (c *scriptedConn) SetDeadline(t time.Time) error      { return nil }
func (c *scriptedConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *scriptedConn) SetWriteDeadline(t time.Time) error { return nil }

type scriptedAddr struct{}

func (scriptedAddr) Network() string { return "scripted" }
func (scriptedAddr) String() string  { return "scripted" }

// upgradeKey returns the Sec-WebSocket-Key of a whole request head.
func upgradeKey(req []byte) (string, bool) {
	head, _, whole := bytes.Cut(req, []byte("\r\n\r\n"))
	if !whole {
		return "", false
	}
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("Sec-WebSocket-Key")) {
			return string(bytes.TrimSpace(value)), true
		}
	}
	return "", true // no key: the backend's own check rejects the answer
}

// acceptKey is the Sec-WebSocket-Accept for key (RFC 6455 §4.2.2).
// gobwas computes it only inside its upgrader, which does not export it.
func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}
