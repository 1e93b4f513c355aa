package sipserver

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gorilla/websocket"
)

// origin is what a browser-like client sends; OpenSIPS needs one.
var origin = http.Header{"Origin": {"http://127.0.0.1"}}

func startPersona(t *testing.T, p Persona, po PersonaOptions) *Server {
	t.Helper()
	return start(t, Options{Persona: p, PersonaOptions: po})
}

// options returns an OPTIONS request of exactly n bytes (at least 200):
// its body pads it.
func optionsOfSize(n int) []byte {
	head := func(body int) string {
		return "OPTIONS sip:127.0.0.1 SIP/2.0\r\n" +
			"Via: SIP/2.0/WS client.invalid;branch=z9hG4bKpersona\r\n" +
			"From: <sip:alice@127.0.0.1>;tag=1\r\n" +
			"To: <sip:127.0.0.1>\r\n" +
			"Call-ID: persona-test\r\n" +
			"CSeq: 1 OPTIONS\r\n" +
			fmt.Sprintf("Content-Length: %d\r\n\r\n", body)
	}
	body := n - len(head(0))
	for len(head(body))+body != n {
		body = n - len(head(body))
	}
	return []byte(head(body) + strings.Repeat("x", body))
}

// rawUpgrade sends an upgrade request with the extra header lines and
// returns the server's answer.
func rawUpgrade(t *testing.T, s *Server, lines ...string) *http.Response {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(timeout))
	req := "GET / HTTP/1.1\r\nHost: " + s.Addr() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	for _, l := range lines {
		req += l + "\r\n"
	}
	if _, err := io.WriteString(nc, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// rawClient opens a frame-level client offering "sip" with hdr; nd, if
// set, opens its TCP connection.
func rawClient(t *testing.T, s *Server, hdr http.Header, nd func(ctx context.Context, network, addr string) (net.Conn, error)) (net.Conn, io.Reader, *Conn) {
	t.Helper()
	d := ws.Dialer{Protocols: []string{"sip"}, NetDial: nd, TLSConfig: s.ClientTLSConfig()}
	if hdr != nil {
		d.Header = ws.HandshakeHeaderHTTP(hdr)
	}
	n := len(s.Conns())
	nc, br, _, err := d.Dial(testContext(t), s.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	conns, err := s.WaitConns(testContext(t), n+1)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(timeout))
	if br == nil {
		return nc, bufio.NewReader(nc), conns[n]
	}
	return nc, br, conns[n]
}

// readToEnd reads frames until the stream fails, and returns the close
// frame's code (0 when none came) and the error that ended the stream.
func readToEnd(t *testing.T, r io.Reader) (closeCode int, err error) {
	t.Helper()
	for {
		h, err := readHeader(r)
		if err != nil {
			return closeCode, err
		}
		p := make([]byte, h.length)
		if _, err := io.ReadFull(r, p); err != nil {
			return closeCode, err
		}
		if h.op == OpClose {
			closeCode = 1005
			if len(p) >= 2 {
				closeCode = int(binary.BigEndian.Uint16(p))
			}
		}
	}
}

// wantDropped fails t unless the stream ended without a close frame.
func wantDropped(t *testing.T, r io.Reader) {
	t.Helper()
	code, err := readToEnd(t, r)
	if code != 0 {
		t.Fatalf("the server sent close %d, want the connection cut without a close frame", code)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection is still open after %v", timeout)
	}
}

// wantClosed fails t unless the server sent a close frame with code.
func wantClosed(t *testing.T, r io.Reader, code int) {
	t.Helper()
	if got, err := readToEnd(t, r); got != code {
		t.Fatalf("close frame %d (stream ended with %v), want %d", got, err, code)
	}
}

func connEnded(c *Conn) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

func waitDone(t *testing.T, c *Conn) {
	t.Helper()
	select {
	case <-c.Done():
	case <-testContext(t).Done():
		t.Fatal("the connection is still open")
	}
}

func wantReason(t *testing.T, c *Conn, sub string) {
	t.Helper()
	if r := c.EndReason(); !strings.Contains(r, sub) {
		t.Errorf("EndReason %q, want it to mention %q", r, sub)
	}
}

// firstNonPing reads until a message other than a server's CRLF ping.
func firstNonPing(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	for {
		if m := read(t, c); m != "\r\n\r\n" {
			return m
		}
	}
}

func TestPersonaString(t *testing.T) {
	for p, want := range map[Persona]string{Neutral: "Neutral", Kamailio: "Kamailio", Asterisk: "Asterisk",
		FreeSWITCH: "FreeSWITCH", OpenSIPS: "OpenSIPS", 9: "Persona(9)"} {
		if got := p.String(); got != want {
			t.Errorf("Persona(%d).String() = %q, want %q", int(p), got, want)
		}
	}
}

func TestPersonaOptionsChecked(t *testing.T) {
	for _, o := range []Options{
		{Persona: 9},
		{Persona: Asterisk, PersonaOptions: PersonaOptions{WriteTimeout: -1}},
		{Persona: Kamailio, PersonaOptions: PersonaOptions{MaxFrame: -1}},
		{Persona: OpenSIPS, PersonaOptions: PersonaOptions{MaxReadChunks: -1}},
	} {
		if s, err := Start(o); err == nil {
			s.Close()
			t.Errorf("Start(%+v) succeeded, want an error", o)
		}
	}
}

// TestPersonasAnswerOptions: every persona answers a SIP request with 200,
// OPTIONS included (the keepalive.Options pong), and a WebSocket ping with
// a pong carrying its payload.
func TestPersonasAnswerOptions(t *testing.T) {
	for _, p := range []Persona{Neutral, Kamailio, Asterisk, FreeSWITCH, OpenSIPS} {
		t.Run(p.String(), func(t *testing.T) {
			s := startPersona(t, p, PersonaOptions{KeepAlive: -1})
			client, _, err := dial(t, s, s.URL(), origin)
			if err != nil {
				t.Fatal(err)
			}
			write(t, client, string(optionsOfSize(300)))
			if got := read(t, client); !strings.HasPrefix(got, "SIP/2.0 200 OK\r\n") {
				t.Fatalf("OPTIONS answered %q, want 200", got)
			}
			pong := make(chan string, 1)
			client.SetPongHandler(func(p string) error { pong <- p; return nil })
			client.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(timeout))
			go client.ReadMessage() // runs the pong handler; ends with the test's cleanup
			select {
			case p := <-pong:
				if p != "are you there" {
					t.Fatalf("pong %q, want the ping's payload", p)
				}
			case <-testContext(t).Done():
				t.Fatal("no pong")
			}
		})
	}
}

// TestPersonasCRLF: Kamailio answers "\r\n\r\n" and "\r\n" with "\r\n" in
// the ping's opcode; Asterisk, FreeSWITCH and OpenSIPS never answer a CRLF
// over WebSocket, so the next thing the client reads is the answer to the
// OPTIONS that follows.
func TestPersonasCRLF(t *testing.T) {
	t.Run("Kamailio", func(t *testing.T) {
		s := startPersona(t, Kamailio, PersonaOptions{KeepAlive: -1})
		client := mustDial(t, s)
		for _, tt := range []struct {
			op   int
			ping string
		}{{websocket.TextMessage, "\r\n\r\n"}, {websocket.TextMessage, "\r\n"}, {websocket.BinaryMessage, "\r\n\r\n"}} {
			client.SetWriteDeadline(time.Now().Add(timeout))
			if err := client.WriteMessage(tt.op, []byte(tt.ping)); err != nil {
				t.Fatal(err)
			}
			client.SetReadDeadline(time.Now().Add(timeout))
			op, p, err := client.ReadMessage()
			if err != nil || op != tt.op || string(p) != "\r\n" {
				t.Fatalf("%q (opcode %d) answered %q opcode %d (%v), want \"\\r\\n\" opcode %d", tt.ping, tt.op, p, op, err, tt.op)
			}
		}
	})
	for _, p := range []Persona{Asterisk, FreeSWITCH, OpenSIPS} {
		t.Run(p.String(), func(t *testing.T) {
			s := startPersona(t, p, PersonaOptions{KeepAlive: -1})
			client, _, err := dial(t, s, s.URL(), origin)
			if err != nil {
				t.Fatal(err)
			}
			write(t, client, "\r\n\r\n")
			write(t, client, string(optionsOfSize(300)))
			if got := read(t, client); !strings.HasPrefix(got, "SIP/2.0 200") {
				t.Fatalf("after a CRLF ping and an OPTIONS the client read %q first, want the 200 (no CRLF pong)", got)
			}
		})
	}
}

func TestKamailioHandshake(t *testing.T) {
	s := startPersona(t, Kamailio, PersonaOptions{KeepAlive: -1})
	resp := rawUpgrade(t, s)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Server") != kamailioServer {
		t.Fatalf("upgrade without sip: %s Server %q, want 400 with Kamailio's Server header", resp.Status, resp.Header.Get("Server"))
	}
	resp = rawUpgrade(t, s, "Sec-WebSocket-Protocol: sip")
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "sip" ||
		resp.Header.Get("Server") != kamailioServer {
		t.Fatalf("upgrade with sip: %s %v, want 101 selecting sip with a Server header", resp.Status, resp.Header)
	}
}

// TestKamailioDropsNonSIP: anything but SIP (whitespace-only frames
// included) ends the connection without a close frame; SIP does not.
func TestKamailioDropsNonSIP(t *testing.T) {
	for _, msg := range []string{"\r\n\r\n\r\n", "\n\n", " ", "hello kamailio, this is not SIP",
		strings.Replace(string(optionsOfSize(300)), "Call-ID: persona-test\r\n", "", 1)} {
		t.Run(fmt.Sprintf("%.12q", msg), func(t *testing.T) {
			s := startPersona(t, Kamailio, PersonaOptions{KeepAlive: -1})
			nc, r, c := rawClient(t, s, nil, nil)
			writeFrame(t, nc, masked(OpText, true, msg))
			wantDropped(t, r)
			waitDone(t, c)
			wantReason(t, c, "not a SIP message")
		})
	}
	s := startPersona(t, Kamailio, PersonaOptions{KeepAlive: -1})
	client := mustDial(t, s)
	write(t, client, string(optionsOfSize(300)))
	write(t, client, string(optionsOfSize(300)))
	for range 2 {
		if got := read(t, client); !strings.HasPrefix(got, "SIP/2.0 200") {
			t.Fatalf("OPTIONS answered %q, want 200 and the connection kept", got)
		}
	}
}

// TestPersonaFrameLimits: each persona's largest frame passes; one byte
// more is dropped (Kamailio) or closed (Asterisk 1009, OpenSIPS 1009).
func TestPersonaFrameLimits(t *testing.T) {
	for _, tt := range []struct {
		name   string
		p      Persona
		po     PersonaOptions
		max    int // largest SIP message that passes
		closed int // close code for one byte more; 0: dropped without one
		reason string
	}{
		// Header included: 16383 - 8 (2 + 2 extended length + 4 mask), as
		// the real Kamailio measured (integration, StockReadBuffer).
		{"Kamailio", Kamailio, PersonaOptions{}, 16383 - 8, 0, "frame of 16384 bytes"},
		// Header included: 32768 - 8 (2 + 2 extended length + 4 mask).
		{"Asterisk", Asterisk, PersonaOptions{}, 32768 - 8, 1009, "1009"},
		{"Asterisk/LowMemory", Asterisk, PersonaOptions{LowMemory: true}, 8192 - 8, 1009, "1009"},
		// 65535 - 8 (the 16-bit length form up to 65535).
		{"OpenSIPS", OpenSIPS, PersonaOptions{}, 65535 - 8, 1009, "1009"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.po.KeepAlive = -1
			s := startPersona(t, tt.p, tt.po)
			nc, r, c := rawClient(t, s, origin, nil)
			writeFrame(t, nc, masked(OpText, true, string(optionsOfSize(tt.max))))
			if h, p := readFrame(t, r); h.op != OpText || !strings.HasPrefix(string(p), "SIP/2.0 200") {
				t.Fatalf("%d-byte OPTIONS answered %v %q, want 200", tt.max, h.op, p)
			}
			writeFrame(t, nc, masked(OpText, true, string(optionsOfSize(tt.max+1))))
			if tt.closed == 0 {
				wantDropped(t, r)
			} else {
				wantClosed(t, r, tt.closed)
			}
			waitDone(t, c)
			wantReason(t, c, tt.reason)
			if n := len(c.Received()); n != 1 {
				t.Errorf("%d messages received, want only the first (the larger one refused)", n)
			}
		})
	}
}

// TestKamailioKeepalive: after KeepAlive idle, a Ping carrying the Server
// header; answered, the next comes after another idle period and the
// connection stays; unanswered, the connection is dropped at the next
// check, without a close frame.
func TestKamailioKeepalive(t *testing.T) {
	const idle = 100 * time.Millisecond
	t.Run("answered", func(t *testing.T) {
		s := startPersona(t, Kamailio, PersonaOptions{KeepAlive: idle})
		client := mustDial(t, s)
		pings := make(chan string, 10)
		client.SetPingHandler(func(p string) error {
			pings <- p
			return client.WriteControl(websocket.PongMessage, []byte(p), time.Now().Add(timeout))
		})
		go client.ReadMessage() // runs the ping handler
		for i := range 3 {
			select {
			case p := <-pings:
				if p != kamailioServer {
					t.Fatalf("ping payload %q, want the Server header %q", p, kamailioServer)
				}
			case <-testContext(t).Done():
				t.Fatalf("%d pings, want 3", i)
			}
		}
		if c := s.Conns(); len(c) != 1 || c[0].EndReason() != "" {
			t.Fatalf("after 3 answered pings: %d connections, want the one still open", len(c))
		}
	})
	t.Run("unanswered", func(t *testing.T) {
		s := startPersona(t, Kamailio, PersonaOptions{KeepAlive: idle})
		_, r, c := rawClient(t, s, nil, nil)
		if h, p := readFrame(t, r); h.op != OpPing || string(p) != kamailioServer {
			t.Fatalf("read %v %q, want a ping with the Server header", h.op, p)
		}
		// No pong: the next frame is none, the stream just ends.
		wantDropped(t, r)
		waitDone(t, c)
		wantReason(t, c, "no Pong")
	})
	for _, dir := range []string{"client frames", "server frames"} {
		t.Run("activity/"+dir, func(t *testing.T) {
			// Frames either way count as activity (wsconn_update): a
			// connection with a frame every tenth of the idle time is
			// never pinged. An unsolicited Pong or a server's frame gets
			// no answer, so each direction is seen alone.
			s := startPersona(t, Kamailio, PersonaOptions{KeepAlive: 10 * idle})
			client := mustDial(t, s)
			c := s.Conns()[0]
			client.SetPingHandler(func(string) error { t.Error("pinged while active"); return nil })
			go client.ReadMessage() // runs the ping handler
			tick := time.NewTicker(idle)
			defer tick.Stop()
			for range 25 { // 2.5 idle periods
				if dir == "client frames" {
					client.WriteControl(websocket.PongMessage, []byte("unsolicited"), time.Now().Add(timeout))
				} else if err := c.Send([]byte("SIP/2.0 200 OK\r\n\r\n")); err != nil {
					t.Fatal(err)
				}
				<-tick.C
			}
			if r := c.EndReason(); r != "" || connEnded(c) {
				t.Fatalf("the active connection ended: %q", r)
			}
		})
	}
}

func TestPersonaCloseEcho(t *testing.T) {
	for _, tt := range []struct {
		p          Persona
		wantCode   int
		wantReason string
	}{
		{Kamailio, 1000, "Normal closure"},
		{Asterisk, 1000, ""},
		{FreeSWITCH, 1000, ""},
		{OpenSIPS, 4000, ""},
		{Neutral, 4000, ""},
	} {
		t.Run(tt.p.String(), func(t *testing.T) {
			s := startPersona(t, tt.p, PersonaOptions{KeepAlive: -1})
			client, _, err := dial(t, s, s.URL(), origin)
			if err != nil {
				t.Fatal(err)
			}
			client.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4000, "bye"), time.Now().Add(timeout))
			var ce *websocket.CloseError
			if err := readErr(t, client); !errors.As(err, &ce) || ce.Code != tt.wantCode || ce.Text != tt.wantReason {
				t.Fatalf("close 4000 answered %v, want %d %q", err, tt.wantCode, tt.wantReason)
			}
		})
	}
}

func TestSendRequest(t *testing.T) {
	for _, tt := range []struct {
		p       Persona
		tls     bool
		wantURI string
		wantVia string
	}{
		{Asterisk, true, "sips:alice@a.invalid", "Via: SIP/2.0/WSS 127.0.0.1:"},
		{Asterisk, false, "sip:alice@a.invalid", "Via: SIP/2.0/WS 127.0.0.1:"},
		{Kamailio, false, "sip:alice@a.invalid", "Via: SIP/2.0/WS  127.0.0.1:"},
		{Kamailio, true, "sip:alice@a.invalid", "Via: SIP/2.0/WSS 127.0.0.1:"},
		{Neutral, true, "sip:alice@a.invalid", "Via: SIP/2.0/WSS 127.0.0.1:"},
	} {
		t.Run(fmt.Sprintf("%v/tls=%v", tt.p, tt.tls), func(t *testing.T) {
			s := start(t, Options{Persona: tt.p, TLS: tt.tls, PersonaOptions: PersonaOptions{KeepAlive: -1}})
			client := mustDial(t, s)
			callID, err := s.Conns()[0].SendRequest("MESSAGE", "sip:alice@a.invalid", "hello")
			if err != nil {
				t.Fatal(err)
			}
			got := read(t, client)
			if !strings.HasPrefix(got, "MESSAGE "+tt.wantURI+" SIP/2.0\r\n") || !strings.Contains(got, tt.wantVia) ||
				!strings.Contains(got, "\r\nTo: <"+tt.wantURI+">\r\n") || !strings.Contains(got, "Call-ID: "+callID+"\r\n") ||
				!strings.HasSuffix(got, "Content-Length: 5\r\n\r\nhello") || !sipParses([]byte(got)) {
				t.Fatalf("request:\n%s\nwant Request-URI and To %s, %q, Call-ID %s", got, tt.wantURI, tt.wantVia, callID)
			}
		})
	}
}

func TestAsteriskKeepalive(t *testing.T) {
	s := startPersona(t, Asterisk, PersonaOptions{KeepAlive: 30 * time.Millisecond})
	client := mustDial(t, s)
	for range 3 {
		client.SetReadDeadline(time.Now().Add(timeout))
		op, p, err := client.ReadMessage()
		if err != nil || op != websocket.TextMessage || string(p) != "\r\n\r\n" {
			t.Fatalf("read %q opcode %d (%v), want Asterisk's \"\\r\\n\\r\\n\" keepalive in a text frame", p, op, err)
		}
	}
	// Unanswered pings do not end anything: the connection serves on.
	write(t, client, string(optionsOfSize(300)))
	if got := firstNonPing(t, client); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("read %q, want 200", got)
	}
}

// TestAsteriskWriteTimeout: a client that stops reading blocks Asterisk's
// writes once the socket buffers are full; the first write that blocks
// longer than the write timeout closes with 1011 (or cuts the socket when
// even the close frame cannot go out). A client that reads gets the same
// writes without trouble.
func TestAsteriskWriteTimeout(t *testing.T) {
	small := func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			nc.(*net.TCPConn).SetReadBuffer(4096)
		}
		return nc, err
	}
	msg := optionsOfSize(32 << 10)
	for _, reading := range []bool{true, false} {
		t.Run(fmt.Sprintf("reading=%v", reading), func(t *testing.T) {
			// Small socket buffers fill at once; a reading client keeps
			// the system's (tiny windows with delayed ACKs would be slow).
			po, nd := PersonaOptions{KeepAlive: -1, WriteTimeout: 100 * time.Millisecond, SendBuffer: 4096}, small
			if reading {
				po.SendBuffer, nd = 0, nil
			}
			s := startPersona(t, Asterisk, po)
			_, r, c := rawClient(t, s, nil, nd)
			if reading {
				go io.Copy(io.Discard, r) // ends when the test closes the client
			}
			sent, start := 0, time.Now()
			var err error
			var took time.Duration     // of the last Send
			for ; sent < 100; sent++ { // 3.2 MB
				t0 := time.Now()
				err = c.Send(msg)
				took = time.Since(t0)
				if err != nil {
					break
				}
			}
			if reading {
				if err != nil {
					t.Fatalf("send %d to a reading client: %v (after %v)", sent, err, took)
				}
				if r := c.EndReason(); r != "" {
					t.Fatalf("EndReason %q for a reading client", r)
				}
				return
			}
			if err == nil {
				t.Fatalf("%d writes of %d bytes to a client that does not read all succeeded", sent, len(msg))
			}
			t.Logf("write %d failed after %v (%v after the first): %v", sent, took.Round(time.Millisecond),
				time.Since(start).Round(time.Millisecond), err)
			// The write timeout, then as much for the close frame: well
			// under the neutral server's 5 s.
			if took > time.Second {
				t.Errorf("the blocked write failed after %v, want about 2 x 100 ms", took)
			}
			waitDone(t, c)
			wantReason(t, c, "1011")
		})
	}
}

func TestFreeSWITCHEchoesSubprotocol(t *testing.T) {
	s := startPersona(t, FreeSWITCH, PersonaOptions{})
	for _, offer := range []string{"sip", "sip, foo", "foo"} {
		resp := rawUpgrade(t, s, "Sec-WebSocket-Protocol: "+offer)
		if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != offer {
			t.Errorf("offer %q answered %s, protocol %q; want 101 echoing the offer verbatim",
				offer, resp.Status, resp.Header.Get("Sec-WebSocket-Protocol"))
		}
	}
}

// TestFreeSWITCHErrorsDrop: where the neutral server closes with a code,
// FreeSWITCH cuts the socket without a close frame, except for an unknown
// opcode (1002).
func TestFreeSWITCHErrorsDrop(t *testing.T) {
	for _, tt := range []struct {
		name   string
		frame  Frame
		closed int
	}{
		{"RSV bits", Frame{Op: OpText, Fin: true, Rsv: 4, Masked: true, Payload: []byte("x")}, 0},
		{"oversized", masked(OpText, true, strings.Repeat("x", 200)), 0},
		{"control frame fragmented", masked(OpPing, false, "x"), 0},
		{"reserved opcode", masked(0x3, true, "x"), 1002},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, Options{Persona: FreeSWITCH, ReadLimit: 100})
			nc, r, c := rawClient(t, s, nil, nil)
			writeFrame(t, nc, tt.frame)
			if tt.closed == 0 {
				wantDropped(t, r)
				waitDone(t, c)
				wantReason(t, c, "freeswitch")
				return
			}
			wantClosed(t, r, tt.closed)
		})
	}
}

func TestOpenSIPSHandshake(t *testing.T) {
	s := startPersona(t, OpenSIPS, PersonaOptions{})
	for _, tt := range []struct {
		name  string
		lines []string
		want  int
	}{
		{"no Origin", []string{"Sec-WebSocket-Protocol: sip"}, http.StatusBadRequest},
		{"no sip", []string{"Origin: http://127.0.0.1"}, http.StatusBadRequest},
		{"Origin and sip", []string{"Origin: http://127.0.0.1", "Sec-WebSocket-Protocol: sip"}, http.StatusSwitchingProtocols},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := rawUpgrade(t, s, tt.lines...)
			if resp.StatusCode != tt.want {
				t.Fatalf("answered %s, want %d", resp.Status, tt.want)
			}
			if tt.want == http.StatusBadRequest && resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Errorf("400 without Sec-WebSocket-Version: 13 (WS_HTTP_BAD_REQ): %v", resp.Header)
			}
			if tt.want == http.StatusSwitchingProtocols && resp.Header.Get("Sec-WebSocket-Protocol") != "sip" {
				t.Errorf("101 without Sec-WebSocket-Protocol: sip: %v", resp.Header)
			}
		})
	}
}

func TestOpenSIPSRefusesFragments(t *testing.T) {
	s := startPersona(t, OpenSIPS, PersonaOptions{})
	nc, r, c := rawClient(t, s, origin, nil)
	msg := string(optionsOfSize(300))
	writeFrame(t, nc, masked(OpText, false, msg[:100]))
	writeFrame(t, nc, masked(OpContinuation, true, msg[100:]))
	wantClosed(t, r, 1008)
	waitDone(t, c)
	wantReason(t, c, "fragment")
	if n := len(c.Received()); n != 0 {
		t.Errorf("%d messages received, want none", n)
	}
}

// TestOpenSIPSPartialReads: a message may take 4 socket reads; the
// connection is released when a fifth would be needed.
func TestOpenSIPSPartialReads(t *testing.T) {
	for _, pieces := range []int{1, 4, 5} {
		t.Run(fmt.Sprint(pieces), func(t *testing.T) {
			s := startPersona(t, OpenSIPS, PersonaOptions{})
			nc, r, c := rawClient(t, s, origin, nil)
			frame := appendFrame(nil, masked(OpText, true, string(optionsOfSize(300))))
			size := len(frame) / pieces
			for i := range pieces {
				piece := frame[i*size : (i+1)*size]
				if i == pieces-1 {
					piece = frame[i*size:]
				}
				if pieces > 4 && i == 4 {
					break // the server gave up after the fourth
				}
				writeRaw(t, nc, piece)
				if i < pieces-1 && i < 4 {
					// One socket read per piece: wait until the server read it.
					if err := s.Wait(testContext(t), func() bool { return int(c.rc.reads.Load()) >= i+1 || connEnded(c) }); err != nil {
						t.Fatalf("piece %d of %d: server reads %d: %v", i+1, pieces, c.rc.reads.Load(), err)
					}
				}
			}
			if pieces <= 4 {
				if h, p := readFrame(t, r); h.op != OpText || !strings.HasPrefix(string(p), "SIP/2.0 200") {
					t.Fatalf("message in %d reads answered %v %q, want 200", pieces, h.op, p)
				}
				return
			}
			wantDropped(t, r)
			waitDone(t, c)
			wantReason(t, c, "after 4 reads")
		})
	}
}
