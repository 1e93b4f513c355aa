package bench

import (
	"testing"
	"time"
)

// dial connects one client of v to a fresh in-process server in mode m.
func dial(b *testing.B, v variant, m mode) (client, *server) {
	b.Helper()
	s := startServer(b, v.ws, m)
	c, err := v.dial(s.url(), 0)
	if err != nil {
		b.Fatalf("%s: dial: %v", v.name, err)
	}
	b.Cleanup(c.close)
	return c, s
}

// BenchmarkSend: one-way pipelined sends of the 700-byte request; the op
// ends when the server has read every message.
func BenchmarkSend(b *testing.B) {
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			c, s := dial(b, v, sink)
			b.SetBytes(int64(len(request)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := c.send(request); err != nil {
					b.Fatal(err)
				}
			}
			deadline := time.Now().Add(time.Minute)
			for s.received.Load() < int64(b.N) {
				if time.Now().After(deadline) {
					b.Fatalf("the server read %d of %d messages", s.received.Load(), b.N)
				}
				time.Sleep(50 * time.Microsecond)
			}
		})
	}
}

// BenchmarkReceive: the server pushes the 450-byte response as fast as it
// can; an op is one message delivered (for sipws: read, parsed, checked and
// handed to the Message callback).
func BenchmarkReceive(b *testing.B) {
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			c, _ := dial(b, v, flood)
			if err := c.recv(100); err != nil { // warm the buffers and pools
				b.Fatal(err)
			}
			b.SetBytes(int64(len(response)))
			b.ReportAllocs()
			b.ResetTimer()
			if err := c.recv(b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkPingPong: an op is one round trip, the 700-byte request out and
// the 450-byte response in.
func BenchmarkPingPong(b *testing.B) {
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			c, _ := dial(b, v, answer)
			if err := c.pingPong(100); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := c.pingPong(b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}
