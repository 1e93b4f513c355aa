package sipserver

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gorilla/websocket"
)

func TestDropIsAbnormalClosure(t *testing.T) {
	tests := []struct {
		name string
		tls  bool
		drop func(s *Server, c *Conn)
	}{
		{"Drop", false, func(_ *Server, c *Conn) { c.Drop() }},
		{"DropAll", false, func(s *Server, _ *Conn) { s.DropAll() }},
		{"Drop/wss", true, func(_ *Server, c *Conn) { c.Drop() }},
		{"DropAll/wss", true, func(s *Server, _ *Conn) { s.DropAll() }},
		{"SendRaw half a frame then Drop", false, func(_ *Server, c *Conn) {
			c.SendRaw([]byte{0x81, 10, 'h', 'a', 'l'})
			c.Drop()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{TLS: tt.tls})
			client := mustDial(t, s)
			conns, err := s.WaitConns(testContext(t), 1)
			if err != nil {
				t.Fatal(err)
			}
			tt.drop(s, conns[0])
			var ce *websocket.CloseError
			if err := readErr(t, client); !errors.As(err, &ce) || ce.Code != 1006 {
				t.Fatalf("client read error %v, want close 1006", err)
			}
			select {
			case <-conns[0].Done():
			case <-testContext(t).Done():
				t.Fatal("Done not closed after a drop")
			}
			if _, _, ok := conns[0].CloseReceived(); ok {
				t.Fatal("CloseReceived ok after a drop, want no close frame")
			}
		})
	}
}

func TestServerClose(t *testing.T) {
	tests := []struct {
		name       string
		close      func(s *Server, c *Conn)
		wantCode   int
		wantReason string
	}{
		{"CloseAll", func(s *Server, _ *Conn) { s.CloseAll(4000, "bye") }, 4000, "bye"},
		{"CloseWith", func(_ *Server, c *Conn) { c.CloseWith(1001, "going") }, 1001, "going"},
		{"CloseWith without status", func(_ *Server, c *Conn) { c.CloseWith(1005, "") }, 1005, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{})
			client := mustDial(t, s)
			conns, err := s.WaitConns(testContext(t), 1)
			if err != nil {
				t.Fatal(err)
			}
			tt.close(s, conns[0])
			var ce *websocket.CloseError
			if err := readErr(t, client); !errors.As(err, &ce) || ce.Code != tt.wantCode || ce.Text != tt.wantReason {
				t.Fatalf("client read error %v, want close %d %q", err, tt.wantCode, tt.wantReason)
			}
			// gorilla echoes the code: the closing handshake completes.
			<-conns[0].Done()
			if code, _, ok := conns[0].CloseReceived(); !ok || code != tt.wantCode {
				t.Fatalf("CloseReceived = %d, %v; want the echo %d", code, ok, tt.wantCode)
			}
			if err := conns[0].CloseWith(1000, ""); err == nil {
				t.Fatal("second CloseWith succeeded, want an error")
			}
		})
	}
}

func TestClientCloseIsEchoed(t *testing.T) {
	s := start(t, Options{})
	client := mustDial(t, s)
	conns, err := s.WaitConns(testContext(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	msg := websocket.FormatCloseMessage(1000, "done")
	if err := client.WriteControl(websocket.CloseMessage, msg, time.Now().Add(timeout)); err != nil {
		t.Fatal(err)
	}
	var ce *websocket.CloseError
	if err := readErr(t, client); !errors.As(err, &ce) || ce.Code != 1000 {
		t.Fatalf("client read error %v, want the echoed close 1000", err)
	}
	<-conns[0].Done()
	if code, reason, ok := conns[0].CloseReceived(); !ok || code != 1000 || reason != "done" {
		t.Fatalf("CloseReceived = %d %q %v, want 1000 \"done\" true", code, reason, ok)
	}
}

func TestFragmentedMessageReassembles(t *testing.T) {
	s := start(t, Options{})
	client := mustDial(t, s)
	conns, err := s.WaitConns(testContext(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	c := conns[0]
	for _, f := range []struct {
		op  Opcode
		fin bool
		p   string
	}{
		{OpText, false, "OPTIONS "},
		{OpPing, true, "mid"}, // control frames may come between fragments
		{OpContinuation, false, "sip:a@b "},
		{OpContinuation, true, "SIP/2.0\r\n\r\n"},
	} {
		if err := c.SendFrame(f.op, f.fin, []byte(f.p)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := read(t, client), "OPTIONS sip:a@b SIP/2.0\r\n\r\n"; got != want {
		t.Fatalf("client read %q, want %q", got, want)
	}
	// gorilla's default ping handler answered the ping between fragments.
	if err := s.Wait(testContext(t), func() bool { return len(c.Pongs()) == 1 }); err != nil || string(c.Pongs()[0]) != "mid" {
		t.Fatalf("Pongs = %q, %v; want [mid]", c.Pongs(), err)
	}
}

func TestPingReachesClient(t *testing.T) {
	s := start(t, Options{})
	client := mustDial(t, s)
	pings := make(chan string, 1)
	client.SetPingHandler(func(p string) error {
		pings <- p
		return client.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(timeout))
	})
	readDone := make(chan error, 1)
	go func() { _, _, err := client.ReadMessage(); readDone <- err }()
	defer func() { client.Close(); <-readDone }()

	conns, err := s.WaitConns(testContext(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := conns[0].Ping([]byte("p1")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-pings:
		if got != "p1" {
			t.Fatalf("client got ping %q, want p1", got)
		}
	case <-testContext(t).Done():
		t.Fatal("no ping reached the client")
	}
	if err := s.Wait(testContext(t), func() bool { return len(conns[0].Pongs()) == 1 }); err != nil {
		t.Fatalf("waiting for the pong: %v", err)
	}
}

func TestFramesMaskedWithFreshKeys(t *testing.T) {
	s := start(t, Options{})
	client := mustDial(t, s)
	write(t, client, "a")
	write(t, client, "b")
	if err := client.WriteMessage(websocket.BinaryMessage, []byte{0xff}); err != nil {
		t.Fatal(err)
	}
	conns, err := s.WaitConns(testContext(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	c := conns[0]
	if err := s.Wait(testContext(t), func() bool { return len(c.Frames()) == 3 }); err != nil {
		t.Fatal(err)
	}
	frames := c.Frames()
	keys := map[[4]byte]bool{}
	for i, want := range []struct {
		op Opcode
		p  string
	}{{OpText, "a"}, {OpText, "b"}, {OpBinary, "\xff"}} {
		f := frames[i]
		if f.Op != want.op || !f.Fin || !f.Masked || string(f.Payload) != want.p {
			t.Errorf("frame %d = %+v, want a masked final %v frame %q", i, f, want.op, want.p)
		}
		keys[f.Key] = true
	}
	if len(keys) != 3 {
		t.Errorf("mask keys %v, want 3 different ones", keys)
	}
}

// TestProtocolErrors drives the server with a raw client: frames gorilla
// would never send.
func TestProtocolErrors(t *testing.T) {
	tests := []struct {
		name     string
		frames   []Frame
		wantCode int  // 0: no close, the server answers "\r\n" to the final CRLF ping
		hangsUp  bool // the client's close ended the connection: no handshake to complete
	}{
		{"unmasked frame is recorded and tolerated", []Frame{{Op: OpText, Fin: true, Payload: []byte("\r\n\r\n")}}, 0, false},
		{"continuation without a message", []Frame{masked(OpContinuation, true, "x")}, 1002, false},
		{"data frame inside a fragmented message", []Frame{masked(OpText, false, "x"), masked(OpText, true, "y")}, 1002, false},
		{"reserved opcode", []Frame{masked(Opcode(3), true, "x")}, 1002, false},
		{"fragmented control frame", []Frame{masked(OpPing, false, "x")}, 1002, false},
		{"control frame over 125 bytes", []Frame{masked(OpPing, true, string(make([]byte, 126)))}, 1002, false},
		{"fragments over the read limit", []Frame{masked(OpText, false, string(make([]byte, 60))), masked(OpContinuation, true, string(make([]byte, 41)))}, 1009, false},
		{"RSV bit without an extension", []Frame{{Op: OpText, Fin: true, Rsv: 4, Masked: true, Key: [4]byte{1, 2, 3, 4}, Payload: []byte("x")}}, 1002, false},
		{"64-bit length with the top bit set", nil, 1002, true},
		{"close payload of one byte", []Frame{masked(OpClose, true, "x")}, 1002, true},
		{"close with an invalid UTF-8 reason", []Frame{masked(OpClose, true, "\x03\xe8\xff")}, 1002, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{ReadLimit: 100})
			nc, r := rawDial(t, s)
			for _, f := range tt.frames {
				writeFrame(t, nc, f)
			}
			if tt.frames == nil { // a header no frame may have
				writeRaw(t, nc, []byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4})
			}
			if tt.wantCode == 0 {
				if h, p := readFrame(t, r); h.op != OpText || string(p) != "\r\n" {
					t.Fatalf("server sent %v %q, want the text \"\\r\\n\"", h.op, p)
				}
				frames := s.Conns()[0].Frames()
				if len(frames) != 1 || frames[0].Masked {
					t.Fatalf("frames %+v, want one unmasked", frames)
				}
				return
			}
			h, p := readFrame(t, r)
			if h.op != OpClose || len(p) < 2 || int(binary.BigEndian.Uint16(p)) != tt.wantCode {
				t.Fatalf("server sent %v %q, want close %d", h.op, p, tt.wantCode)
			}
			// Complete the closing handshake: the server then hangs up.
			if !tt.hangsUp {
				writeFrame(t, nc, masked(OpClose, true, string(p[:2])))
			}
			if _, err := readHeader(r); !errors.Is(err, io.EOF) {
				t.Fatalf("after the closing handshake: %v, want EOF", err)
			}
		})
	}
}

func TestSendPicksTheOpcode(t *testing.T) {
	s := start(t, Options{})
	client := mustDial(t, s)
	conns, err := s.WaitConns(testContext(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		p    string
		want int
	}{{"SIP/2.0 200 OK\r\n\r\n", websocket.TextMessage}, {"\xff\xfe", websocket.BinaryMessage}} {
		if err := conns[0].Send([]byte(tt.p)); err != nil {
			t.Fatal(err)
		}
		client.SetReadDeadline(time.Now().Add(timeout))
		typ, p, err := client.ReadMessage()
		if err != nil || typ != tt.want || string(p) != tt.p {
			t.Fatalf("client read %d %q %v, want %d %q", typ, p, err, tt.want, tt.p)
		}
	}
}

func TestSendHeader(t *testing.T) {
	s := start(t, Options{})
	nc, r := rawDial(t, s)
	c := s.Conns()[0]
	// A header announcing 5 bytes, then the payload in two writes: one frame.
	if err := c.SendHeader(OpBinary, true, 5); err != nil {
		t.Fatal(err)
	}
	if err := c.SendRaw([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendRaw([]byte("cde")); err != nil {
		t.Fatal(err)
	}
	if h, p := readFrame(t, r); h.op != OpBinary || !h.fin || h.masked || string(p) != "abcde" {
		t.Fatalf("client read %+v %q, want one unmasked final binary frame \"abcde\"", h, p)
	}
	// A header alone announces any length, however large.
	if err := c.SendHeader(OpText, false, 1<<40); err != nil {
		t.Fatal(err)
	}
	h, err := readHeader(r)
	if err != nil || h.op != OpText || h.fin || h.length != 1<<40 {
		t.Fatalf("client read header %+v, %v; want a non-final text header of 1<<40 bytes", h, err)
	}
	nc.Close()
}

// masked returns a frame as a client sends it: masked, with a fixed key.
func masked(op Opcode, fin bool, p string) Frame {
	return Frame{Op: op, Fin: fin, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Payload: []byte(p)}
}

// writeFrame writes f exactly as it describes it, as a client would.
func writeFrame(t *testing.T, nc net.Conn, f Frame) {
	t.Helper()
	writeRaw(t, nc, appendFrame(nil, f))
}

func writeRaw(t *testing.T, nc net.Conn, b []byte) {
	t.Helper()
	nc.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := nc.Write(b); err != nil {
		t.Fatal(err)
	}
}

func rawDial(t *testing.T, s *Server) (net.Conn, io.Reader) {
	t.Helper()
	d := ws.Dialer{Protocols: []string{"sip"}}
	nc, br, _, err := d.Dial(testContext(t), s.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := s.WaitConns(testContext(t), 1); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(timeout))
	if br != nil {
		return nc, br
	}
	return nc, bufio.NewReader(nc)
}

func readFrame(t *testing.T, r io.Reader) (header, []byte) {
	t.Helper()
	h, err := readHeader(r)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, h.length)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatal(err)
	}
	return h, p
}

// TestPauseReading: a paused connection stops reading, so a client's
// writes eventually block; resumed, it reads everything that waited.
func TestPauseReading(t *testing.T) {
	s := start(t, Options{})
	client := mustDial(t, s)
	conns, err := s.WaitConns(testContext(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	c := conns[0]
	write(t, client, "before")
	if _, err := s.WaitReceived(testContext(t), 1); err != nil {
		t.Fatal(err)
	}
	c.PauseReading()
	msg := strings.Repeat("x", 64<<10)
	written := 0
	client.SetWriteDeadline(time.Now().Add(timeout))
	for {
		// Blocked writes end with the deadline: the server reads no more.
		client.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		if err := client.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("write %d: %v, want a timeout once the buffers are full", written, err)
			}
			break
		}
		written++
		if written > 10000 {
			t.Fatal("640 MB written to a paused server")
		}
	}
	if n := len(c.Received()); n > 2 { // "before", and at most one frame read on the way
		t.Errorf("the paused connection received %d messages, want at most 2", n)
	}
	c.ResumeReading()
	// The timed-out write may have left half a frame: the server then
	// fails the connection, which is fine; what matters is that it reads.
	if err := s.Wait(testContext(t), func() bool { return len(c.Received()) >= written || isDone(c) }); err != nil {
		t.Fatalf("after ResumeReading: %d of %d messages received: %v", len(c.Received()), written, err)
	}
}

func isDone(c *Conn) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

// TestDropEndsPausedConnection: a paused connection still ends when it is
// cut.
func TestDropEndsPausedConnection(t *testing.T) {
	for _, tt := range []struct {
		name string
		cut  func(s *Server, c *Conn)
	}{
		{"Drop", func(_ *Server, c *Conn) { c.Drop() }},
		{"Reset", func(_ *Server, c *Conn) { c.Reset() }},
		{"DropAll", func(s *Server, _ *Conn) { s.DropAll() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{})
			client := mustDial(t, s)
			conns, err := s.WaitConns(testContext(t), 1)
			if err != nil {
				t.Fatal(err)
			}
			conns[0].PauseReading()
			tt.cut(s, conns[0])
			select {
			case <-conns[0].Done():
			case <-testContext(t).Done():
				t.Fatal("a paused connection did not end when cut")
			}
			if err := readErr(t, client); err == nil {
				t.Fatal("the client read no error")
			}
		})
	}
}

// TestResetSendsRST: the client reads a reset, not the end of the stream.
func TestResetSendsRST(t *testing.T) {
	s := start(t, Options{})
	nc, r := rawDial(t, s)
	defer nc.Close()
	s.Conns()[0].Reset()
	_, err := io.ReadAll(r)
	if err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("client read %v, want a connection reset", err)
	}
}
