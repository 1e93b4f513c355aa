package conformance_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
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
}

// rewriting returns a wsgobwas backend whose socket rewrites what the
// client writes: the upgrade request through editRequest and each frame
// through editFrame (either may be nil). It injects the faults a wrapper of
// dialer.Conn cannot: frames, opcodes, masks, pongs. TLS traffic is passed
// through untouched.
func rewriting(editFrame func(*frame) []frame, editRequest func([]byte) []byte) func() dialer.Dialer {
	return func() dialer.Dialer {
		return &wsgobwas.Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			nc, err := new(net.Dialer).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &rewriter{Conn: nc, editFrame: editFrame, editRequest: editRequest}, nil
		}}
	}
}

// rewriter is a net.Conn whose writes are parsed and rewritten.
type rewriter struct {
	net.Conn
	editFrame   func(*frame) []frame
	editRequest func([]byte) []byte

	mu      sync.Mutex
	started bool // the first byte has been seen
	tls     bool // it was a TLS record: pass everything through
	frames  bool // the upgrade request is out: frames follow
	buf     []byte
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
	var b bytes.Buffer
	ws.WriteHeader(&b, ws.Header{Fin: f.fin, OpCode: f.op, Masked: f.masked, Mask: f.key, Length: int64(len(f.payload))})
	p := bytes.Clone(f.payload)
	if f.masked {
		ws.Cipher(p, f.key, 0)
	}
	b.Write(p)
	return b.Bytes()
}
