package conformance_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/gobwas/ws"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/wsgobwas"
)

// A frame is one client frame as the rewriter sees it, payload unmasked.
type frame struct {
	op      ws.OpCode
	fin     bool
	masked  bool
	key     [4]byte
	payload []byte
	raw     []byte // when set, these bytes go out as they are instead
}

// rewriting returns a wsgobwas backend whose socket rewrites what the
// client writes: the upgrade request through editRequest and each frame
// through editFrame (either may be nil). It injects the faults a wrapper of
// dialer.Conn cannot: frames, opcodes, masks, pongs. TLS traffic is passed
// through untouched.
func rewriting(editFrame func(*frame) []frame, editRequest func([]byte) []byte) func() dialer.Dialer {
	return rewritingBoth(editFrame, editRequest, nil, nil)
}

// reading is rewriting for what the client reads: the server's answer to
// the upgrade, with the request it answers and what came behind it in the
// same read, through editAnswer, and each server frame after it through
// editFrame (either may be nil).
func reading(editFrame func(*frame) []frame, editAnswer func(req, answer, behind []byte) ([]byte, []byte)) func() dialer.Dialer {
	return rewritingBoth(nil, nil, editFrame, editAnswer)
}

func rewritingBoth(editFrame func(*frame) []frame, editRequest func([]byte) []byte,
	editServerFrame func(*frame) []frame, editAnswer func(req, answer, behind []byte) ([]byte, []byte)) func() dialer.Dialer {
	return func() dialer.Dialer {
		return &wsgobwas.Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := new(net.Dialer).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &rewriter{Conn: nc, editFrame: editFrame, editRequest: editRequest,
				editServerFrame: editServerFrame, editAnswer: editAnswer}, nil
		}}
	}
}

// rewriter is a net.Conn whose writes, and reads, are parsed and rewritten.
type rewriter struct {
	net.Conn
	editFrame       func(*frame) []frame
	editRequest     func([]byte) []byte
	editServerFrame func(*frame) []frame
	editAnswer      func(req, answer, behind []byte) ([]byte, []byte)

	mu      sync.Mutex
	started bool // the first byte has been seen
	tls     bool // it was a TLS record: pass everything through
	frames  bool // the upgrade request is out: frames follow
	buf     []byte
	req     []byte // the upgrade request as the client wrote it

	// Reading side, one reader at a time.
	answered bool   // the answer's head has been read
	rbuf     []byte // read but not yet whole (a head, a frame)
	rout     []byte // rewritten, for the next Read
}

// Read passes the server's bytes on, rewritten when a read edit is set.
func (r *rewriter) Read(p []byte) (int, error) {
	r.mu.Lock()
	tls := r.tls
	r.mu.Unlock()
	if tls || (r.editServerFrame == nil && r.editAnswer == nil) {
		return r.Conn.Read(p)
	}
	for len(r.rout) == 0 {
		var b [4096]byte
		n, err := r.Conn.Read(b[:])
		r.rbuf = append(r.rbuf, b[:n]...)
		r.rewriteRead()
		if len(r.rout) == 0 && err != nil {
			r.rout, r.rbuf = r.rbuf, nil
			if len(r.rout) == 0 {
				return 0, err
			}
		}
	}
	n := copy(p, r.rout)
	r.rout = r.rout[n:]
	return n, nil
}

// rewriteRead moves what is whole in rbuf to rout, rewritten.
func (r *rewriter) rewriteRead() {
	if !r.answered {
		i := bytes.Index(r.rbuf, []byte("\r\n\r\n"))
		if i < 0 {
			return
		}
		answer, behind := r.rbuf[:i+4], r.rbuf[i+4:]
		r.answered = true
		if r.editAnswer != nil {
			r.mu.Lock()
			req := bytes.Clone(r.req)
			r.mu.Unlock()
			answer, behind = r.editAnswer(req, bytes.Clone(answer), bytes.Clone(behind))
		}
		r.rout = append(r.rout, answer...)
		r.rbuf = bytes.Clone(behind)
	}
	if r.editServerFrame == nil {
		r.rout, r.rbuf = append(r.rout, r.rbuf...), nil
		return
	}
	for {
		if len(r.rbuf) >= 10 && r.rbuf[1]&0x7f == 127 && r.rbuf[2]&0x80 != 0 {
			// A 64-bit length with its top bit set, which no frame may
			// have: the tolerant reader sees an empty message there.
			r.rbuf = append([]byte{r.rbuf[0], 0}, r.rbuf[10:]...)
		}
		if _, err := ws.ReadHeader(bytes.NewReader(r.rbuf)); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			// Not a frame the rewriter can parse: pass the rest as it is.
			r.rout, r.rbuf = append(r.rout, r.rbuf...), nil
			r.editServerFrame = func(f *frame) []frame { return []frame{*f} }
			return
		}
		f, n, ok := parseFrame(r.rbuf)
		if !ok {
			return
		}
		r.rbuf = r.rbuf[n:]
		for _, f := range r.editServerFrame(&f) {
			r.rout = append(r.rout, f.encode()...)
		}
	}
}

// acceptKey answers the Sec-WebSocket-Key of an upgrade request, as the
// server should have.
func acceptKey(req []byte) string {
	hr, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(req)))
	if err != nil {
		return ""
	}
	sum := sha1.Sum([]byte(hr.Header.Get("Sec-Websocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Write reports p as written once it is buffered; whole units (the
// request, then each frame) go to the socket rewritten.
func (r *rewriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started && len(p) > 0 {
		r.started, r.tls = true, p[0] == 0x16 // a TLS handshake record
	}
	if r.tls {
		return r.Conn.Write(p)
	}
	r.buf = append(r.buf, p...)
	if !r.frames {
		i := bytes.Index(r.buf, []byte("\r\n\r\n"))
		if i < 0 {
			return len(p), nil
		}
		req := bytes.Clone(r.buf[:i+4])
		r.buf = r.buf[i+4:]
		if r.editRequest != nil {
			req = r.editRequest(req)
		}
		r.req = req
		r.frames = true
		if _, err := r.Conn.Write(req); err != nil {
			return 0, err
		}
	}
	for {
		f, n, ok := parseFrame(r.buf)
		if !ok {
			return len(p), nil
		}
		r.buf = r.buf[n:]
		out := []frame{f}
		if r.editFrame != nil {
			out = r.editFrame(&f)
		}
		for _, f := range out {
			if _, err := r.Conn.Write(f.encode()); err != nil {
				return 0, err
			}
		}
	}
}

// parseFrame parses the frame at the start of b; ok is false until b holds
// a whole one.
func parseFrame(b []byte) (f frame, n int, ok bool) {
	br := bytes.NewReader(b)
	h, err := ws.ReadHeader(br)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return f, 0, false
	}
	if err != nil {
		panic("rewriter: the backend wrote a bad frame header: " + err.Error())
	}
	hn := len(b) - br.Len()
	if int64(len(b)-hn) < h.Length {
		return f, 0, false
	}
	n = hn + int(h.Length)
	p := bytes.Clone(b[hn:n])
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	return frame{op: h.OpCode, fin: h.Fin, masked: h.Masked, key: h.Mask, payload: p}, n, true
}

func (f frame) encode() []byte {
	if f.raw != nil {
		return f.raw
	}
	var b bytes.Buffer
	ws.WriteHeader(&b, ws.Header{Fin: f.fin, OpCode: f.op, Masked: f.masked, Mask: f.key, Length: int64(len(f.payload))})
	p := bytes.Clone(f.payload)
	if f.masked {
		ws.Cipher(p, f.key, 0)
	}
	b.Write(p)
	return b.Bytes()
}
