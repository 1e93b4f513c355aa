package ws

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"

	"github.com/sipws/sipws/dialer"
)

// chunked is a net.Conn whose reads return a stream in pieces of random
// sizes, then err.
type chunked struct {
	net.Conn
	rest []byte
	rng  *rand.Rand
	err  error
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.rest) == 0 {
		return 0, c.err
	}
	n := min(len(p), len(c.rest), 1+c.rng.IntN(40))
	copy(p, c.rest[:n])
	c.rest = c.rest[n:]
	return n, nil
}

// frame returns a server frame: final, unmasked.
func frame(op byte, p []byte) []byte {
	b := []byte{0x80 | op}
	switch n := len(p); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xffff:
		b = append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, p...)
}

const answer = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"

// TestTap feeds streams through a tap in random pieces, read with buffers
// of random sizes, and checks what comes out and what it judged.
func TestTap(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 7000) // a 64-bit length
	data := append(append(frame(0x1, []byte("OPTIONS")), frame(0x9, []byte("ping"))...), frame(0x2, big)...)
	tests := []struct {
		name    string
		stream  []byte
		want    []byte       // what gorilla reads
		verdict *serverClose // nil: no close frame taken out
		err     error        // the end of the stream
	}{
		{
			name:    "close 1014 with a reason",
			stream:  []byte(answer + string(data) + string(frame(0x8, []byte("\x03\xf6bad gateway"))) + "after"),
			want:    []byte(answer + string(data) + "\x88\x02\x03\xe8"),
			verdict: &serverClose{code: 1014, reason: "bad gateway"},
		},
		{
			name:    "close without a body",
			stream:  []byte(answer + string(frame(0x8, nil))),
			want:    []byte(answer + "\x88\x02\x03\xe8"),
			verdict: &serverClose{code: dialer.CloseNoStatus},
		},
		{
			name:    "one-byte body",
			stream:  []byte(answer + string(frame(0x8, []byte{3}))),
			want:    []byte(answer + "\x88\x02\x03\xe8"),
			verdict: &serverClose{fail: dialer.CloseProtocolError},
		},
		{
			name:    "reason not UTF-8",
			stream:  []byte(answer + string(frame(0x8, []byte("\x03\xe8\xff")))),
			want:    []byte(answer + "\x88\x02\x03\xe8"),
			verdict: &serverClose{code: 1000, fail: dialer.CloseInvalidPayload},
		},
		{
			name:   "masked close frame is gorilla's to fail",
			stream: []byte(answer + "\x88\x82\x01\x02\x03\x04\x02\xea"),
			want:   []byte(answer + "\x88\x82\x01\x02\x03\x04\x02\xea"),
			err:    io.EOF,
		},
		{
			name:   "fragmented close frame is gorilla's to fail",
			stream: []byte(answer + "\x08\x02\x03\xe8"),
			want:   []byte(answer + "\x08\x02\x03\xe8"),
			err:    io.EOF,
		},
		{
			name:   "cut inside a header",
			stream: []byte(answer + string(data) + "\x81\x7e\x01"),
			want:   []byte(answer + string(data) + "\x81\x7e\x01"),
			err:    io.ErrUnexpectedEOF,
		},
		{
			name:   "cut inside a close frame",
			stream: []byte(answer + "\x88\x05\x03\xe8by"),
			want:   []byte(answer + "\x88\x05\x03\xe8by"),
			err:    io.EOF,
		},
		{
			name:   "a refusal's body is not frames",
			stream: []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\n\x88\x02\x03\xf6"),
			want:   []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\n\r\n\x88\x02\x03\xf6"),
			err:    io.EOF,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for seed := range uint64(50) {
				rng := rand.New(rand.NewPCG(seed, 1))
				end := tt.err
				if end == nil {
					end = io.EOF
				}
				tp := newTap(&chunked{rest: tt.stream, rng: rng, err: end}, nil, 256)
				var got []byte
				var err error
				for range 100000 {
					p := make([]byte, 1+rng.IntN(200))
					var n int
					n, err = tp.Read(p)
					got = append(got, p[:n]...)
					if err != nil {
						break
					}
					if tt.verdict != nil && len(got) == len(tt.want) {
						break // gorilla reads nothing after the close frame
					}
				}
				if !bytes.Equal(got, tt.want) {
					t.Fatalf("seed %d: gorilla read %q, want %q", seed, truncated(got), truncated(tt.want))
				}
				if tt.verdict == nil {
					if !errors.Is(err, end) {
						t.Errorf("seed %d: read error %v, want %v", seed, err, end)
					}
					if v := tp.taken(); v != nil {
						t.Errorf("seed %d: verdict %+v, want none", seed, *v)
					}
					continue
				}
				if v := tp.taken(); v == nil || *v != *tt.verdict {
					t.Errorf("seed %d: verdict %+v, want %+v", seed, v, *tt.verdict)
				}
			}
		})
	}
}

func truncated(b []byte) []byte {
	if len(b) > 200 {
		return append(b[:100:100], b[len(b)-100:]...)
	}
	return b
}
