package bench

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gobwas/ws"
)

// mode is what the server does with each connection.
type mode int

const (
	sink   mode = iota // read and discard every message
	flood              // push the response, again and again
	answer             // answer every message with the response
)

// server is a loopback server that allocates nothing per message: a
// WebSocket server (gobwas low-level, selecting "sip") or a raw-TCP one
// whose messages carry a 4-byte big-endian length prefix.
type server struct {
	ln       net.Listener
	ws       bool
	mode     mode
	received atomic.Int64 // whole messages read

	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func startServer(tb testing.TB, isWS bool, m mode) *server {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &server{ln: ln, ws: isWS, mode: m, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.accept()
	tb.Cleanup(s.close)
	return s
}

// url is what a client dials: ws://127.0.0.1:PORT/ or 127.0.0.1:PORT.
func (s *server) url() string {
	if s.ws {
		return "ws://" + s.ln.Addr().String() + "/"
	}
	return s.ln.Addr().String()
}

func (s *server) close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serve(c)
		}()
	}
}

var upgrader = ws.Upgrader{Protocol: func(p []byte) bool { return string(p) == "sip" }}

func (s *server) serve(c net.Conn) {
	if s.ws {
		if _, err := upgrader.Upgrade(c); err != nil {
			return
		}
	}
	var out []byte // what the server writes: one response, or a batch
	if s.ws {
		out = ws.MustCompileFrame(ws.NewTextFrame(response))
	} else {
		out = binary.BigEndian.AppendUint32(nil, uint32(len(response)))
		out = append(out, response...)
	}
	if s.mode == flood {
		one := out
		for len(out) < 32<<10 {
			out = append(out, one...)
		}
		for {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}
	r := messageReader{br: bufio.NewReaderSize(c, 64<<10), ws: s.ws}
	for {
		if err := r.next(); err != nil {
			return
		}
		s.received.Add(1)
		if s.mode == answer {
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}
}

// messageReader skips whole client messages without allocating: frames
// (masked, never unmasked, since the payload is discarded) or
// length-prefixed chunks.
type messageReader struct {
	br  *bufio.Reader
	ws  bool
	hdr [ws.MaxHeaderSize]byte
}

func (r *messageReader) next() error {
	if !r.ws {
		if _, err := io.ReadFull(r.br, r.hdr[:4]); err != nil {
			return err
		}
		_, err := r.br.Discard(int(binary.BigEndian.Uint32(r.hdr[:4])))
		return err
	}
	for {
		h, err := ws.ReadHeaderBuffer(r.br, r.hdr[:])
		if err != nil {
			return err
		}
		if _, err := r.br.Discard(int(h.Length)); err != nil {
			return err
		}
		if h.OpCode == ws.OpClose {
			return io.EOF
		}
		if h.Fin && !h.OpCode.IsControl() {
			return nil
		}
	}
}
