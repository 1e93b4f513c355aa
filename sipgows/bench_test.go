package sipgows

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	gws "github.com/gobwas/ws"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// benchServer is a SIP-over-WebSocket server on 127.0.0.1 that answers every
// request but ACK with a stateless 200 and allocates nothing per message,
// so that what a benchmark allocates is the client's. sipgo's own WS
// client, the bridge on each backend and the bare transports all talk to it.
type benchServer struct {
	ln net.Listener
	wg sync.WaitGroup
	mu sync.Mutex
	cs []net.Conn
}

func startBenchServer(tb testing.TB) *benchServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &benchServer{ln: ln}
	s.wg.Add(1)
	go s.accept()
	tb.Cleanup(s.close)
	return s
}

func (s *benchServer) url() string { return "ws://" + s.ln.Addr().String() + "/" }

func (s *benchServer) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.cs = append(s.cs, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(c)
	}
}

func (s *benchServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.cs {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *benchServer) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	u := gws.Upgrader{Protocol: func(p []byte) bool { return string(p) == "sip" }}
	if _, err := u.Upgrade(c); err != nil {
		return
	}
	br := bufio.NewReaderSize(c, 8192)
	hdr := make([]byte, 0, gws.MaxHeaderSize-2)
	var payload, resp, out []byte
	var req sipmsg.Message
	for {
		h, err := gws.ReadHeaderBuffer(br, hdr)
		if err != nil {
			return
		}
		if int64(cap(payload)) < h.Length {
			payload = make([]byte, h.Length)
		}
		p := payload[:h.Length]
		if _, err := io.ReadFull(br, p); err != nil {
			return
		}
		if h.Masked {
			gws.Cipher(p, h.Mask, 0)
		}
		switch h.OpCode {
		case gws.OpClose:
			return
		case gws.OpPing:
			out = appendFrame(out[:0], gws.OpPong, p)
		case gws.OpText, gws.OpBinary:
			if req.Parse(p) != nil || !req.IsRequest() || string(req.Method()) == "ACK" {
				continue
			}
			if string(p) == "\r\n\r\n" {
				out = appendFrame(out[:0], gws.OpText, p[:2])
				break
			}
			resp = sipmsg.AppendResponse(resp[:0], &req, 200, "OK", "bench")
			out = appendFrame(out[:0], gws.OpText, resp)
		default:
			continue
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// appendFrame appends an unmasked FIN frame carrying p to dst.
func appendFrame(dst []byte, op gws.OpCode, p []byte) []byte {
	var h [maxServerHeader]byte
	n := putHeader(h[:], byte(op), len(p))
	return append(append(dst, h[len(h)-n:]...), p...)
}

// BenchmarkOptionsRoundTrip: sipgo's Client.Do(OPTIONS) to its 200,
// through sipgo's own WS client and through the bridge on each backend,
// against the same in-process server; and, for the floor, the bare
// transports sending the same OPTIONS and waiting for its 200 (no sipgo).
//
//	go test -run '^$' -bench OptionsRoundTrip -benchmem -count 6 .
func BenchmarkOptionsRoundTrip(b *testing.B) {
	srv := startBenchServer(b)
	b.Run("sipgo-own-ws", func(b *testing.B) {
		ua, client := benchUA(b, nil)
		defer ua.Close()
		host, port, _ := net.SplitHostPort(srv.ln.Addr().String())
		_ = port
		runDo(b, client, func(req *sip.Request) {
			req.SetTransport("WS")
			req.SetDestination(net.JoinHostPort(host, port))
		})
	})
	for _, be := range backends {
		b.Run("sipgows-"+be.name, func(b *testing.B) {
			tr := benchTransport(b, be.new, srv, transport.Events{})
			br, err := New(Config{Transport: tr})
			if err != nil {
				b.Fatal(err)
			}
			defer br.Close()
			ua, client := benchUA(b, br)
			defer ua.Close()
			runDo(b, client, br.Prepare)
		})
	}
	for _, be := range backends {
		b.Run("sipws-"+be.name, func(b *testing.B) {
			answers := make(chan int, 1)
			tr := benchTransport(b, be.new, srv, transport.Events{Message: func(m *sipmsg.Message) { answers <- m.StatusCode() }})
			msg := []byte(options)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := tr.Send(ctx, msg); err != nil {
					b.Fatal(err)
				}
				if code := <-answers; code != 200 {
					b.Fatalf("answer %d", code)
				}
			}
		})
	}
}

func benchTransport(b *testing.B, newTransport func(transport.Config) (sipwsTransport, error), srv *benchServer, ev transport.Events) sipwsTransport {
	s, err := selector.ParseServer(srv.url(), 0)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := newTransport(transport.Config{Servers: selector.Servers{s}, ViaHost: testViaHost, Events: ev})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { tr.Disconnect(context.Background()) })
	if err := tr.Connect(context.Background()); err != nil {
		b.Fatal(err)
	}
	return tr
}

func benchUA(b *testing.B, br *Bridge) (*sipgo.UserAgent, *sipgo.Client) {
	var opts []sipgo.UserAgentOption
	if br != nil {
		opts = append(opts, br.UserAgentOption())
	}
	ua, err := sipgo.NewUA(opts...)
	if err != nil {
		b.Fatal(err)
	}
	client, err := sipgo.NewClient(ua)
	if err != nil {
		b.Fatal(err)
	}
	return ua, client
}

func runDo(b *testing.B, client *sipgo.Client, prepare func(*sip.Request)) {
	ctx := context.Background()
	do := func() {
		req := sip.NewRequest(sip.OPTIONS, sip.Uri{Host: "127.0.0.1"})
		prepare(req)
		res, err := client.Do(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if res.StatusCode != 200 {
			b.Fatalf("answer %q", res.StartLine())
		}
	}
	do() // the connection or pipe is opened outside the timing
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		do()
	}
}

// BenchmarkPipeRoundTrip is what the bridge itself adds to a round trip
// over the transport alone: sipgo's masked frame of the request decoded
// and unmasked into the pipe's buffer and handed to Send, and the answer
// copied into a frame, queued and read back by sipgo's side. The transport
// here is a fake that sends nothing, and the bare gobwas client plays
// sipgo's framing, so only the pipe is measured.
func BenchmarkPipeRoundTrip(b *testing.B) {
	f := newFake(transport.Config{ViaHost: testViaHost})
	f.onSend = func([]byte) {}
	br, err := New(Config{Transport: f})
	if err != nil {
		b.Fatal(err)
	}
	defer br.Close()
	c, _, _, err := br.dialerCreate(nil).Dial(context.Background(), "ws://"+Destination)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	fr := maskedFrame(gws.OpText, true, options)
	var m sipmsg.Message
	if err := m.Parse([]byte(options)); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(fr[:6]); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(fr[6:]); err != nil {
			b.Fatal(err)
		}
		br.onMessage(&m)
		if _, err := io.ReadAtLeast(c, buf, len(options)); err != nil && !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
	}
}
