package idleread

import (
	"io"
	"net"
	"testing"
)

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestReaderHoldsBufferOnlyWithBytes: the read buffer is taken from the
// pool when a read returns bytes and given back at a message boundary with
// nothing unread, so a connection waiting for its next message holds none.
// On a plain socket the poller's callback reads into a pooled buffer, and
// gives it back when the socket has nothing yet.
func TestReaderHoldsBufferOnlyWithBytes(t *testing.T) {
	client, server := tcpPair(t)
	rd := NewReader(client, 4096)
	if rd.rc == nil {
		t.Fatal("no RawConn on a TCP connection")
	}
	var fd uintptr
	rd.rc.Control(func(f uintptr) { fd = f })

	if rd.readFd(fd) || rd.buf != nil {
		t.Fatalf("readFd on an empty socket = true or holds a buffer (%v): it must give it back and wait", rd.buf != nil)
	}
	server.Write([]byte("hello"))
	p, err := rd.Peek(5) // waits in the poller, then reads
	if err != nil || string(p) != "hello" || rd.buf == nil {
		t.Fatalf("Peek = %q, %v; buffer held %v", p, err, rd.buf != nil)
	}
	rd.Discard(3)
	rd.Idle()
	if rd.buf == nil {
		t.Fatal("Idle gave back a buffer with 2 unread bytes")
	}
	rd.Discard(2)
	rd.Idle()
	if rd.buf != nil {
		t.Fatal("Idle kept a buffer with nothing unread")
	}
	server.Close()
	if _, err := rd.Peek(1); err != io.EOF || rd.buf != nil {
		t.Errorf("Peek at the end of the stream = %v, buffer held %v; want io.EOF and none", err, rd.buf != nil)
	}
}

// TestReaderWithoutRawConn: over a connection with no RawConn (TLS, a
// pipe) the wait reads one byte into the reader's own array, then takes
// a buffer for the rest.
func TestReaderWithoutRawConn(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	rd := NewReader(client, 256)
	if rd.rc != nil {
		t.Fatal("a pipe has a RawConn?")
	}
	go server.Write([]byte("abcdef"))
	p, err := rd.Peek(6)
	if err != nil || string(p) != "abcdef" {
		t.Fatalf("Peek = %q, %v", p, err)
	}
	rd.Discard(6)
	rd.Idle()
	if rd.buf != nil {
		t.Fatal("a buffer kept with nothing unread")
	}
	server.Close()
	if _, err := rd.Peek(1); err != io.EOF {
		t.Errorf("Peek after the peer closed = %v, want io.EOF", err)
	}
}

// TestConn: reads through a Conn come in whatever sizes the caller asks
// for, and the Conn holds a buffer only while bytes it read are unread.
func TestConn(t *testing.T) {
	client, server := tcpPair(t)
	c := NewConn(client, 4096)
	go server.Write([]byte("0123456789"))
	p := make([]byte, 4)
	if n, err := io.ReadFull(c, p); n != 4 || err != nil || string(p) != "0123" {
		t.Fatalf("ReadFull = %d %q, %v", n, p, err)
	}
	if !c.Holding() {
		t.Fatal("6 bytes unread and no buffer held")
	}
	rest := make([]byte, 6)
	if n, err := io.ReadFull(c, rest); n != 6 || err != nil || string(rest) != "456789" {
		t.Fatalf("ReadFull = %d %q, %v", n, rest, err)
	}
	if c.Holding() {
		t.Fatal("a buffer held with nothing unread")
	}
}
