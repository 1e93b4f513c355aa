package sipserver

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestOpcode(t *testing.T) {
	tests := []struct {
		op       Opcode
		name     string
		control  bool
		reserved bool
	}{
		{OpContinuation, "continuation", false, false},
		{OpText, "text", false, false},
		{OpBinary, "binary", false, false},
		{3, "opcode-3", false, true},
		{7, "opcode-7", false, true},
		{OpClose, "close", true, false},
		{OpPing, "ping", true, false},
		{OpPong, "pong", true, false},
		{0xB, "opcode-11", true, true},
		{0xF, "opcode-15", true, true},
	}
	for _, tt := range tests {
		if got := tt.op.String(); got != tt.name {
			t.Errorf("Opcode(%d).String() = %q, want %q", tt.op, got, tt.name)
		}
		if got := tt.op.IsControl(); got != tt.control {
			t.Errorf("%v.IsControl() = %v, want %v", tt.op, got, tt.control)
		}
		if got := tt.op.IsReserved(); got != tt.reserved {
			t.Errorf("%v.IsReserved() = %v, want %v", tt.op, got, tt.reserved)
		}
	}
}

// TestFrameWire checks the encoder against bytes written out by hand from
// RFC 6455 §5.2, and the decoder against the encoder.
func TestFrameWire(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	tests := []struct {
		name string
		f    Frame
		want []byte // nil: only the round trip is checked
	}{
		{"final unmasked text", Frame{Op: OpText, Fin: true, Payload: []byte("hi")}, []byte{0x81, 2, 'h', 'i'}},
		{"fragment", Frame{Op: OpBinary, Payload: []byte{0xff}}, []byte{0x02, 1, 0xff}},
		{"RSV1 and RSV3", Frame{Op: OpText, Fin: true, Rsv: 5}, []byte{0xd1, 0}},
		{"masked", Frame{Op: OpPing, Fin: true, Masked: true, Key: key, Payload: []byte("ab")},
			[]byte{0x89, 0x82, 1, 2, 3, 4, 'a' ^ 1, 'b' ^ 2}},
		{"16-bit length", Frame{Op: OpText, Fin: true, Payload: make([]byte, 126)}, nil},
		{"64-bit length", Frame{Op: OpBinary, Fin: true, Masked: true, Key: key, Payload: make([]byte, 0x10000)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := appendFrame(nil, tt.f)
			if tt.want != nil && !bytes.Equal(b, tt.want) {
				t.Fatalf("appendFrame = % x, want % x", b, tt.want)
			}
			r := bytes.NewReader(b)
			h, err := readHeader(r)
			if err != nil {
				t.Fatal(err)
			}
			p, _ := io.ReadAll(r)
			if h.masked {
				mask(p, h.key)
			}
			got := Frame{Op: h.op, Fin: h.fin, Rsv: h.rsv, Masked: h.masked, Key: h.key, Payload: p}
			if got.Op != tt.f.Op || got.Fin != tt.f.Fin || got.Rsv != tt.f.Rsv || got.Masked != tt.f.Masked ||
				got.Key != tt.f.Key || !bytes.Equal(got.Payload, tt.f.Payload) || h.length != int64(len(p)) {
				t.Errorf("read back %+v, want %+v", got, tt.f)
			}
		})
	}
	t.Run("64-bit length with the top bit", func(t *testing.T) {
		if _, err := readHeader(bytes.NewReader([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0})); !errors.Is(err, errLength) {
			t.Errorf("readHeader = %v, want errLength", err)
		}
	})
	t.Run("cut in the header", func(t *testing.T) {
		if _, err := readHeader(bytes.NewReader([]byte{0x82, 126, 1})); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("readHeader = %v, want io.ErrUnexpectedEOF", err)
		}
		if _, err := readHeader(bytes.NewReader(nil)); err != io.EOF {
			t.Errorf("readHeader of nothing = %v, want io.EOF", err)
		}
	})
}

// TestWriteFrame: a frame that breaks the protocol in its header goes out
// exactly as described.
func TestWriteFrame(t *testing.T) {
	s := start(t, Options{})
	nc, r := rawDial(t, s)
	defer nc.Close()
	c := s.Conns()[0]
	f := Frame{Op: OpText, Fin: true, Rsv: 4, Masked: true, Key: [4]byte{9, 8, 7, 6}, Payload: []byte("masked by the server")}
	if err := c.WriteFrame(f); err != nil {
		t.Fatal(err)
	}
	h, p := readFrame(t, r)
	if h.op != OpText || !h.fin || h.rsv != 4 || !h.masked || h.key != f.Key {
		t.Errorf("client read header %+v, want text, FIN, RSV1, masked with %x", h, f.Key)
	}
	mask(p, h.key)
	if string(p) != "masked by the server" {
		t.Errorf("client read payload %q", p)
	}
	// A close frame written this way is the server's close: CloseWith
	// then refuses to send a second one.
	if err := c.WriteFrame(Frame{Op: OpClose, Fin: true, Payload: []byte{0x03, 0xe8}}); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWith(1000, ""); !errors.Is(err, errCloseSent) {
		t.Errorf("CloseWith after a close frame = %v, want errCloseSent", err)
	}
}
