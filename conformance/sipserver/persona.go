package sipserver

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sipws/sipws/dialer"
)

// A Persona makes a Server behave as one real SIP WebSocket server does,
// in what matters to a client: its handshake rules, its keepalives and
// which of the client's it answers, how it closes, its size, fragment and
// read limits, and its URI habits. Each rule below is taken from the
// server's own source (file and function named) or from what the real
// server did in integration/kamailio (Kamailio 5.6.3). Everything else
// stays the neutral server's: recording, Wait, the SIP answers, and every
// knob (SetHandshake, SetAnswerSIP...). SetAnswerPings(false) silences a
// persona's CRLF answer too.
//
// The zero value, Neutral, is the scriptable server of the package
// documentation.
type Persona int

const (
	// Neutral is the plain server: it answers "\r\n\r\n" with "\r\n",
	// closes with a close frame, and has no limit but Options.ReadLimit.
	Neutral Persona = iota

	// Kamailio 5.6 with the websocket module's defaults (src/modules/
	// websocket):
	//   - Handshake: 400 without the "sip" subprotocol (sub_protocols),
	//     101 with a Server header.
	//   - Keepalive: after PersonaOptions.KeepAlive idle (keepalive_timeout,
	//     180 s), a WS Ping whose payload is its Server header (ws_frame.c
	//     ws_keepalive, ping_application_data); a connection still idle
	//     with that Ping unanswered at the next check is dropped without a
	//     close frame ("forcibly closing connection"). Any frame in either
	//     direction counts as activity (wsconn_update).
	//   - It answers a WS Ping with a Pong, and a frame that is exactly
	//     "\r\n" or "\r\n\r\n" with "\r\n" in a frame of the same opcode
	//     (ws_frame_receive, ws_send_crlf).
	//   - A frame over PersonaOptions.MaxFrame bytes, its header included
	//     (16383: the stock tcp_rd_buf_size of 16384, less one), is dropped
	//     with the connection, without a close frame (core tcp_read_ws:
	//     "advertised length greater than buffer size"). Measured on the real
	//     Kamailio 5.6.3 with that buffer (integration, StockReadBuffer): a
	//     client's 16375-byte message passes, 16376 bytes (a frame of 16384)
	//     is dropped.
	//   - Any other message that is not SIP with Via, From, To, Call-ID and
	//     CSeq, whitespace-only frames included, ends the connection without
	//     a close frame (receive_msg fails; kamailio/README.md, "Malformed
	//     SIP").
	//   - A client's close frame is answered with 1000 "Normal closure"
	//     (handle_close).
	//   - Requests it sends have a Via with two spaces after SIP/2.0/WS
	//     over ws (kamailio/README.md, quirk 1).
	Kamailio

	// Asterisk, res_http_websocket with chan_pjsip:
	//   - Keepalive: "\r\n\r\n" in a text frame every
	//     PersonaOptions.KeepAlive (pjsip.conf keep_alive_interval, 90 s:
	//     res_pjsip/config_global.c; pjsip_transport_management.c
	//     keepalive_transport_thread), whether answered or not.
	//   - It answers a WS Ping with a Pong (ast_websocket_read) but never a
	//     client's CRLF: pjproject's pjsip_tpmgr_receive_packet skips
	//     leading newlines ("Skip leading newlines", PJ_EIGNORED); the CRLF
	//     pong of pjproject #5059 is only in its TCP and TLS transports.
	//   - A frame over PersonaOptions.MaxFrame bytes, header included
	//     (MAXIMUM_FRAME_SIZE: 32768, 8192 with LOW_MEMORY), is closed with
	//     1009 ("Cannot fit huge websocket frame").
	//   - Every write is bounded by PersonaOptions.WriteTimeout
	//     (AST_DEFAULT_WEBSOCKET_WRITE_TIMEOUT, 100 ms, ast_careful_fwrite);
	//     a write that cannot finish in time closes with 1011
	//     (ast_websocket_write: "Closing WS with 1011 because we can't
	//     fulfill a write request"), and the socket is cut when even the
	//     close frame cannot be written.
	//   - Over wss, requests it sends (Conn.SendRequest) use sips:
	//     Request-URIs (JsSIP #704).
	//   - A client's close frame is answered with 1000 (session_destroy_fn).
	Asterisk

	// FreeSWITCH, sofia-sip's WebSocket code (libsofia-sip-ua/tport,
	// the file named after ws with a C suffix):
	//   - Handshake: the offered Sec-WebSocket-Protocol value is echoed
	//     verbatim, whatever it is (ws_handshake).
	//   - It answers a WS Ping with a Pong (ws_read_frame), never a CRLF: a
	//     data frame goes to the SIP parser (tport_recv_stream_ws), and
	//     its WebSocket transport type (tport_type_ws) registers no
	//     keepalive or pong handler.
	//   - Errors close the socket without a close frame, so the client sees
	//     1006 (ws_close(wsh, WS_NONE)); only an unknown opcode gets a
	//     close frame, 1002 (WS_PROTO_ERR).
	//   - A client's close frame is answered with 1000 (WS_NORMAL).
	FreeSWITCH

	// OpenSIPS, modules/proto_ws:
	//   - Handshake: 400 without Origin, Host or the "sip" subprotocol:
	//     WS_ALL_REQ_F includes WS_ORIGIN_F (ws_handshake_common.h,
	//     ws_parse_req_handshake, WS_HTTP_BAD_REQ).
	//   - It answers a WS Ping with a Pong; a CRLF goes to its SIP parser
	//     (receive_msg) and is never answered.
	//   - Any frame without FIN is closed with 1008 ("We do not support
	//     fragmentation yet", ws_common.h ws_parse), and a frame over
	//     PersonaOptions.MaxFrame bytes, header included (TCP_BUF_SIZE,
	//     65535), with 1009.
	//   - A message still incomplete after PersonaOptions.MaxReadChunks
	//     socket reads (ws_max_msg_chunks, 4) ends the connection ("Made %u
	//     read attempts but message is not complete yet - closing
	//     connection", ws_process); the connection is released as broken,
	//     without a close frame. Its reads take whatever has arrived, up to
	//     64 KiB.
	//   - A client's close frame is answered with the client's code.
	OpenSIPS
)

// String returns the persona's name, e.g. "Kamailio".
func (p Persona) String() string {
	switch p {
	case Neutral:
		return "Neutral"
	case Kamailio:
		return "Kamailio"
	case Asterisk:
		return "Asterisk"
	case FreeSWITCH:
		return "FreeSWITCH"
	case OpenSIPS:
		return "OpenSIPS"
	}
	return "Persona(" + strconv.Itoa(int(p)) + ")"
}

// PersonaOptions are the thresholds of a persona, so that a test need not
// wait 180 s for Kamailio's ping. Zero means the real server's default;
// each field applies only to the personas named.
type PersonaOptions struct {
	// KeepAlive is Kamailio's idle time before its WS Ping (180 s) and
	// Asterisk's period of "\r\n\r\n" (90 s). Negative: no server
	// keepalive.
	KeepAlive time.Duration

	// WriteTimeout bounds each of Asterisk's writes (100 ms).
	WriteTimeout time.Duration

	// MaxFrame is the largest frame, its header included: Kamailio's
	// (16383), Asterisk's (32768, or 8192 with LowMemory), OpenSIPS's
	// (65535).
	MaxFrame int

	// LowMemory makes Asterisk's default MaxFrame 8192 (LOW_MEMORY build).
	LowMemory bool

	// MaxReadChunks is how many socket reads OpenSIPS lets one message
	// take (4).
	MaxReadChunks int

	// ServerHeader is Kamailio's Server header, and so its ping payload
	// ("kamailio (5.6.3 (x86_64/linux))").
	ServerHeader string

	// SendBuffer, for any persona, sets the send buffer (SO_SNDBUF) of each
	// accepted connection; zero leaves the system's. A small one makes a
	// client that reads slowly block the server's writes soon: the case
	// for Asterisk's write timeout.
	SendBuffer int
}

// The real servers' defaults.
const (
	kamailioKeepAlive    = 180 * time.Second
	kamailioMaxFrame     = 16384 - 1
	kamailioServer       = "kamailio (5.6.3 (x86_64/linux))"
	asteriskKeepAlive    = 90 * time.Second
	asteriskWriteTimeout = 100 * time.Millisecond
	asteriskMaxFrame     = 32768
	asteriskLowMemFrame  = 8192
	opensipsMaxFrame     = 65535
	opensipsReadChunks   = 4
	opensipsReadBuffer   = 64 << 10
)

// withDefaults checks o for persona p and fills its zero fields.
func (p Persona) withDefaults(o PersonaOptions) (PersonaOptions, error) {
	if p < Neutral || p > OpenSIPS {
		return o, fmt.Errorf("sipserver: unknown persona %v", p)
	}
	if o.WriteTimeout < 0 || o.MaxFrame < 0 || o.MaxReadChunks < 0 || o.SendBuffer < 0 {
		return o, fmt.Errorf("sipserver: negative PersonaOptions %+v", o)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	switch p {
	case Kamailio:
		def(&o.KeepAlive, kamailioKeepAlive)
		defInt(&o.MaxFrame, kamailioMaxFrame)
		if o.ServerHeader == "" {
			o.ServerHeader = kamailioServer
		}
	case Asterisk:
		def(&o.KeepAlive, asteriskKeepAlive)
		def(&o.WriteTimeout, asteriskWriteTimeout)
		if o.LowMemory {
			defInt(&o.MaxFrame, asteriskLowMemFrame)
		}
		defInt(&o.MaxFrame, asteriskMaxFrame)
	case OpenSIPS:
		defInt(&o.MaxFrame, opensipsMaxFrame)
		defInt(&o.MaxReadChunks, opensipsReadChunks)
	}
	return o, nil
}

// EndReason tells why the server's persona ended the connection (a frame
// too big, a Pong missing, a write that blocked...), or "" while it did
// not: the connection is open, the client closed it, or a test did.
func (c *Conn) EndReason() string {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.endReason
}

// setEndReason records why the persona ends the connection; the first
// reason wins.
func (c *Conn) setEndReason(r string) {
	c.s.mu.Lock()
	if c.endReason == "" {
		c.endReason = r
		c.s.notify()
	}
	c.s.mu.Unlock()
	c.s.logf("conn %d: %s", c.id, r)
}

// dropFor cuts the connection without a close frame, for reason r.
func (c *Conn) dropFor(r string) {
	c.setEndReason(r)
	c.Drop()
}

// personaAnswer is the persona's answer to an upgrade request read whole,
// in HandshakeAccept mode; false for the neutral server.
func (s *Server) personaAnswer(req *Request) (answer, bool) {
	switch s.opts.Persona {
	case Kamailio:
		h := http.Header{"Server": {s.opts.PersonaOptions.ServerHeader}}
		if !req.Offers(dialer.Subprotocol) {
			// kamailio/README.md, "Handshake": 400 with these headers.
			h["Sec-WebSocket-Protocol"] = []string{"sip"}
			h["Sec-WebSocket-Version"] = []string{"13"}
			return answer{status: http.StatusBadRequest, header: h}, true
		}
		return answer{status: http.StatusSwitchingProtocols, protocol: dialer.Subprotocol, header: h}, true
	case Asterisk:
		a := answer{status: http.StatusSwitchingProtocols}
		if len(req.Header.Values("Sec-WebSocket-Protocol")) > 0 {
			if !req.Offers(dialer.Subprotocol) {
				// websocket_bad_request.
				return answer{status: http.StatusBadRequest,
					header: http.Header{"Sec-WebSocket-Version": {"7, 8, 13"}}}, true
			}
			a.protocol = dialer.Subprotocol
		} // else one_protocol: accepted, without a subprotocol.
		return a, true
	case FreeSWITCH:
		a := answer{status: http.StatusSwitchingProtocols}
		if v := req.Header.Values("Sec-WebSocket-Protocol"); len(v) > 0 {
			a.protocol = v[0] // cheezy_get_var: the first line, verbatim
		}
		return a, true
	case OpenSIPS:
		if req.Header.Get("Origin") == "" || req.Header.Get("Host") == "" || !req.Offers(dialer.Subprotocol) {
			return answer{status: http.StatusBadRequest,
				header: http.Header{"Sec-WebSocket-Version": {"13"}}}, true
		}
		return answer{status: http.StatusSwitchingProtocols, protocol: dialer.Subprotocol}, true
	}
	return answer{}, false
}

// frameReader returns the reader of a connection's upgrade request and
// frames, over a counter of socket reads: bufio's default size, or for
// OpenSIPS its 64 KiB buffer (a read takes whatever has arrived).
func (s *Server) frameReader(nc net.Conn) (*bufio.Reader, *readCounter) {
	rc := &readCounter{r: nc}
	if s.opts.Persona == OpenSIPS {
		return bufio.NewReaderSize(rc, opensipsReadBuffer), rc
	}
	return bufio.NewReader(rc), rc
}

// errPartialReads fails the read of a message that took too many reads.
var errPartialReads = errors.New("sipserver: message incomplete after the persona's read limit")

// A readCounter counts the socket reads one message takes, for OpenSIPS's
// rule. Only the connection's goroutine reads and resets it.
type readCounter struct {
	r       io.Reader
	limit   int          // reads a message may take; 0: no limit
	reads   atomic.Int32 // socket reads since the last frame boundary
	onRead  func()       // after each read that returned bytes
	tripped func()       // when a read would exceed limit
}

func (rc *readCounter) Read(p []byte) (int, error) {
	if rc.limit > 0 && int(rc.reads.Load()) >= rc.limit {
		if rc.tripped != nil {
			rc.tripped()
		}
		return 0, errPartialReads
	}
	n, err := rc.r.Read(p)
	if n > 0 && rc.limit > 0 { // armed after the handshake
		rc.reads.Add(1)
		if rc.onRead != nil {
			rc.onRead()
		}
	}
	return n, err
}

// boundary marks the end of a frame: the next message starts its count.
func (rc *readCounter) boundary() { rc.reads.Store(0) }

// startPersona runs after the handshake, on the connection's goroutine,
// before its read loop: it arms the persona's read counter and starts its
// keepalive goroutine, which ends with the connection.
func (c *Conn) startPersona() {
	po := c.s.opts.PersonaOptions
	c.rc.boundary()
	if po.SendBuffer > 0 {
		if tc, ok := c.raw.(*net.TCPConn); ok {
			tc.SetWriteBuffer(po.SendBuffer)
		}
	}
	var run func()
	switch c.s.opts.Persona {
	case Kamailio:
		if po.KeepAlive > 0 {
			run = func() { c.kamailioKeepalive(po.KeepAlive) }
		}
	case Asterisk:
		if po.KeepAlive > 0 {
			run = func() { c.asteriskKeepalive(po.KeepAlive) }
		}
	case OpenSIPS:
		c.rc.limit = po.MaxReadChunks
		c.rc.onRead = func() { c.s.mu.Lock(); c.s.notify(); c.s.mu.Unlock() }
		c.rc.tripped = func() {
			c.setEndReason(fmt.Sprintf("opensips: message incomplete after %d reads: connection released without a close frame (ws_process)", po.MaxReadChunks))
		}
	}
	if run == nil {
		return
	}
	c.s.wg.Add(1) // the connection's goroutine holds the group: no Add after Wait
	go func() {
		defer c.s.wg.Done()
		run()
	}()
}

// kamailioKeepalive is ws_keepalive for one connection: after idle
// without a frame either way, a Ping carrying the Server header; if the
// connection is idle that long again with the Ping unanswered, it is
// dropped without a close frame.
func (c *Conn) kamailioKeepalive(idle time.Duration) {
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-c.activity:
			t.Reset(idle)
		case <-t.C:
			if c.awaitingPong.Load() {
				c.dropFor(fmt.Sprintf("kamailio: no Pong to its keepalive Ping within %v idle: forcibly closing connection (ws_keepalive)", idle))
				return
			}
			c.awaitingPong.Store(true)
			c.reply(OpPing, []byte(c.s.opts.PersonaOptions.ServerHeader))
			t.Reset(idle)
		}
	}
}

// asteriskKeepalive sends "\r\n\r\n" every period, answered or not.
func (c *Conn) asteriskKeepalive(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			c.reply(OpText, crlfPing)
		}
	}
}

// touch reports activity to Kamailio's keepalive.
func (c *Conn) touch() {
	select {
	case c.activity <- struct{}{}:
	default:
	}
}

// A frameVerdict is what a persona does with a frame whose header arrived.
type frameVerdict int

const (
	frameOK      frameVerdict = iota // read it as the neutral server does
	frameDropped                     // the connection was cut: stop reading
	frameRefused                     // a close frame was sent: skip the payload
)

// personaFrame applies the persona's size and fragment rules to a frame
// header, before its payload is read.
func (c *Conn) personaFrame(h header) frameVerdict {
	po := c.s.opts.PersonaOptions
	switch c.s.opts.Persona {
	case Kamailio:
		if headerLen(h)+h.length > int64(po.MaxFrame) {
			c.dropFor(fmt.Sprintf("kamailio: frame of %d bytes, header included, over its read buffer (%d): dropped without a close frame (tcp_read_ws)", headerLen(h)+h.length, po.MaxFrame))
			return frameDropped
		}
	case Asterisk:
		if h.op != OpClose && headerLen(h)+h.length > int64(po.MaxFrame) {
			c.refuse(dialer.CloseMessageTooBig, fmt.Sprintf("asterisk: cannot fit huge websocket frame of %d bytes (over %d): close 1009 (ast_websocket_read)", headerLen(h)+h.length, po.MaxFrame))
			return frameRefused
		}
	case OpenSIPS:
		if !h.fin {
			c.refuse(dialer.ClosePolicyViolation, "opensips: fragmented frame: close 1008, we do not support fragmentation (ws_parse)")
			return frameRefused
		}
		if headerLen(h)+h.length > int64(po.MaxFrame) {
			c.refuse(dialer.CloseMessageTooBig, fmt.Sprintf("opensips: packet too large, can't fit: %d bytes (over %d): close 1009 (ws_parse)", headerLen(h)+h.length, po.MaxFrame))
			return frameRefused
		}
	}
	return frameOK
}

// refuse sends the persona's close frame: a code without a reason, as
// Asterisk and OpenSIPS send it.
func (c *Conn) refuse(code int, why string) {
	c.setEndReason(why)
	if err := c.CloseWith(code, ""); err != nil && !errors.Is(err, errCloseSent) {
		c.s.logf("conn %d: close: %v", c.id, err)
	}
}

// headerLen is the length of the header h was read from, as its length
// field's form follows from the length (RFC 6455 §5.2).
func headerLen(h header) int64 {
	n := int64(2)
	switch {
	case h.length > 0xFFFF:
		n += 8
	case h.length >= 126:
		n += 2
	}
	if h.masked {
		n += 4
	}
	return n
}

// frameRead runs after each whole frame: the end of a message for the
// read counter, activity for Kamailio's keepalive, and Kamailio's Pong.
func (c *Conn) frameRead(op Opcode, payload []byte) {
	c.rc.boundary()
	c.touch()
	if op == OpPong && c.s.opts.Persona == Kamailio &&
		bytes.HasPrefix(payload, []byte(c.s.opts.PersonaOptions.ServerHeader)) {
		c.awaitingPong.Store(false) // handle_pong
	}
}

// personaFail replaces the neutral close frame of a failed connection:
// FreeSWITCH cuts the socket instead, except for an unknown opcode. It
// reports whether it handled the failure.
func (c *Conn) personaFail(reason string) bool {
	if c.s.opts.Persona != FreeSWITCH || strings.HasPrefix(reason, "reserved opcode") {
		return false
	}
	c.dropFor("freeswitch: " + reason + ": socket closed without a close frame (ws_close(wsh, WS_NONE))")
	return true
}

// personaEcho is the close frame a persona answers the client's with;
// false: the neutral echo of the client's code.
func (c *Conn) personaEcho() (code int, reason string, ok bool) {
	switch c.s.opts.Persona {
	case Kamailio:
		return dialer.CloseNormalClosure, "Normal closure", true
	case Asterisk, FreeSWITCH:
		return dialer.CloseNormalClosure, "", true
	}
	return 0, "", false
}

var crlf = crlfPing[:2]

// personaDeliver handles a whole data message as the persona does, and
// reports whether it did; false leaves it to the neutral server (the
// stateless 200 to a request).
func (c *Conn) personaDeliver(op Opcode, msg []byte, answerPings bool) bool {
	switch c.s.opts.Persona {
	case Neutral:
		return false
	case Kamailio:
		if bytes.Equal(msg, crlfPing) || bytes.Equal(msg, crlf) {
			if answerPings {
				c.reply(op, crlf) // ws_send_crlf, same opcode
			}
			return true
		}
		if !sipParses(msg) {
			c.dropFor(fmt.Sprintf("kamailio: not a SIP message (%d bytes): core parsing failed, connection closed without a close frame", len(msg)))
			return true
		}
		return false
	}
	// Asterisk, FreeSWITCH and OpenSIPS hand CRLFs to their SIP parsers,
	// which skip them: never answered.
	return onlyCRLF(msg)
}

// onlyCRLF reports whether p is made only of CR and LF bytes.
func onlyCRLF(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	for _, b := range p {
		if b != '\r' && b != '\n' {
			return false
		}
	}
	return true
}

// sipParses reports whether msg would pass Kamailio's parser: a request
// or status line, header lines, and Via, From, To, Call-ID and CSeq.
func sipParses(msg []byte) bool {
	head := msg
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		head = msg[:i]
	}
	lines := splitLines(head)
	for i, l := range lines {
		if len(l) == 0 {
			lines = lines[:i]
			break
		}
	}
	if len(lines) == 0 {
		return false
	}
	if _, ok := requestMethod(lines[0]); !ok && !isStatusLine(lines[0]) {
		return false
	}
	have := map[string]bool{}
	for _, h := range unfold(lines[1:]) {
		name, _, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return false
		}
		have[canonical(bytes.TrimSpace(name))] = true
	}
	return have["Via"] && have["From"] && have["To"] && have["Call-ID"] && have["CSeq"]
}

// isStatusLine reports whether line is "SIP/2.0 NNN reason".
func isStatusLine(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("SIP/2.0 "))
	if !ok || len(rest) < 3 {
		return false
	}
	for _, b := range rest[:3] {
		if b < '0' || b > '9' {
			return false
		}
	}
	return len(rest) == 3 || rest[3] == ' '
}

// writeDeadline is the bound of the next write: Asterisk's write timeout,
// or the neutral server's generous one.
func (c *Conn) writeDeadline() time.Time {
	if c.s.opts.Persona == Asterisk {
		return time.Now().Add(c.s.opts.PersonaOptions.WriteTimeout)
	}
	return time.Now().Add(writeTimeout)
}

// wrote runs after each write, with c.wmu held: activity, or Asterisk's
// close 1011 when the write did not finish within its timeout.
func (c *Conn) wrote(err error) {
	if err == nil {
		c.touch()
		return
	}
	if c.s.opts.Persona != Asterisk || !errors.Is(err, os.ErrDeadlineExceeded) || c.closeSent {
		return
	}
	c.closeSent = true
	c.setEndReason(fmt.Sprintf("asterisk: a write blocked over %v: close 1011, can't fulfill a write request (ast_websocket_write)", c.s.opts.PersonaOptions.WriteTimeout))
	b := appendFrame(nil, Frame{Op: OpClose, Fin: true, Payload: dialer.AppendCloseBody(nil, dialer.CloseInternalError, "")})
	c.nc.SetWriteDeadline(c.writeDeadline())
	if _, err := c.nc.Write(b); err != nil {
		// ast_websocket_close: "forcefully closed due to fatal write error".
		c.Drop()
		return
	}
	c.nc.SetReadDeadline(time.Now().Add(closeWait))
}

// SendRequest sends the client a SIP request with a fresh branch, From
// tag and Call-ID, To and Request-URI uri, and body as text/plain, and
// returns its Call-ID; the client's answer is in Received. The persona
// shapes it: over wss Asterisk turns a sip: uri into sips:, and Kamailio's
// Via has two spaces after SIP/2.0/WS on a ws (not wss) flow.
func (c *Conn) SendRequest(method, uri, body string) (callID string, err error) {
	transport, sep := "WS", " "
	if c.s.tls != nil {
		transport = "WSS"
		if c.s.opts.Persona == Asterisk && len(uri) > 4 && strings.EqualFold(uri[:4], "sip:") {
			uri = "sips:" + uri[4:]
		}
	} else if c.s.opts.Persona == Kamailio {
		sep = "  "
	}
	host := c.s.Addr()
	callID = randomHex(8) + "@" + host
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, uri)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s%s%s;branch=z9hG4bK%s\r\n", transport, sep, host, randomHex(8))
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", strings.ToLower(c.s.opts.Persona.String()), host, randomHex(4))
	fmt.Fprintf(&b, "To: <%s>\r\n", uri)
	fmt.Fprintf(&b, "Call-ID: %s\r\n", callID)
	fmt.Fprintf(&b, "CSeq: 1 %s\r\n", method)
	if body != "" {
		b.WriteString("Content-Type: text/plain\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return callID, c.Send([]byte(b.String()))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
