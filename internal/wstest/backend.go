package wstest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gobwas/ws"

	"github.com/sipws/sipws/dialer"
)

// RunBackend runs, on the backend newDialer makes, the tests that both
// backends share and that the conformance suite cannot hold, for they need
// the socket under the backend: exact timing in a testing/synctest bubble
// over net.Pipe (where the suite, on real sockets, can only bound it), and
// the number of writes to the socket a frame takes. newDialer returns the
// backend's Dialer over the given NetDial. A backend's test calls it from
// its own test function, as FuzzReadMessage.
func RunBackend(t *testing.T, newDialer func(NetDial) dialer.Dialer) {
	t.Run("DialTimeoutExact", func(t *testing.T) { dialTimeoutExact(t, newDialer) })
	for _, useTLS := range []bool{false, true} {
		scheme := map[bool]string{false: "ws", true: "wss"}[useTLS]
		t.Run("CloseExact/"+scheme, func(t *testing.T) { closeExact(t, newDialer, useTLS) })
	}
	t.Run("CloseAfterWholeFrame", func(t *testing.T) { closeAfterWholeFrame(t, newDialer) })
	t.Run("OneWritePerFrame", func(t *testing.T) { oneWritePerFrame(t, newDialer) })
}

// dialTimeoutExact: the shorter of ctx's deadline and HandshakeTimeout ends
// a stalled handshake, to the nanosecond of virtual time, with an error
// wrapping context.DeadlineExceeded, and the socket closed.
func dialTimeoutExact(t *testing.T, newDialer func(NetDial) dialer.Dialer) {
	tests := []struct {
		name     string
		ctx      time.Duration // the deadline of Dial's context; 0 for none
		option   time.Duration // Options.HandshakeTimeout
		wantTime time.Duration
	}{
		{name: "HandshakeTimeout alone", option: 3 * time.Second, wantTime: 3 * time.Second},
		{name: "context shorter", ctx: 2 * time.Second, option: 3 * time.Second, wantTime: 2 * time.Second},
		{name: "HandshakeTimeout shorter", ctx: 5 * time.Second, option: time.Second, wantTime: time.Second},
		{name: "context alone", ctx: 4 * time.Second, wantTime: 4 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				client, peer := net.Pipe()
				go io.Copy(io.Discard, peer) // reads the upgrade, never answers
				defer peer.Close()
				d := newDialer(func(context.Context, string, string) (net.Conn, error) { return client, nil })
				ctx := context.Background()
				if tt.ctx > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.ctx)
					defer cancel()
				}
				start := time.Now()
				_, err := d.Dial(ctx, "ws://sip.invalid/ws", dialer.Options{HandshakeTimeout: tt.option})
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Dial = %v, want an error wrapping context.DeadlineExceeded", err)
				}
				if got := time.Since(start); got != tt.wantTime {
					t.Errorf("Dial returned after %v, want %v", got, tt.wantTime)
				}
				if _, err := client.Write([]byte{0}); !errors.Is(err, io.ErrClosedPipe) {
					t.Errorf("client socket write = %v, want it closed", err)
				}
			})
		})
	}
}

// closeExact: against a peer that does not read, Close takes exactly the
// one second dialer.Conn promises (no TLS close_notify wait after it), a
// write blocked on that peer fails, and the socket is closed.
func closeExact(t *testing.T, newDialer func(NetDial) dialer.Dialer, useTLS bool) {
	const bound = time.Second // dialer.CloseTimeout, as the number the contract states
	t.Run("peer not reading", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, peer := pipeDial(t, newDialer, useTLS)
			start := time.Now()
			c.Close(dialer.CloseNormalClosure, "")
			if got := time.Since(start); got != bound {
				t.Errorf("Close took %v, want %v: the close frame's bound, and no TLS close_notify wait after it", got, bound)
			}
			if _, err := peer.Read(make([]byte, 1)); err == nil {
				t.Errorf("peer read succeeded, want the socket closed")
			}
		})
	})
	t.Run("write pending on a peer not reading", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c, _ := pipeDial(t, newDialer, useTLS)
			werr := make(chan error, 1)
			go func() { werr <- c.WriteMessage(make([]byte, 1000)) }()
			synctest.Wait() // the write is blocked
			start := time.Now()
			c.Close(dialer.CloseNormalClosure, "")
			if got := time.Since(start); got != bound {
				t.Errorf("Close took %v, want %v: the write in progress is let finish within it, then cut", got, bound)
			}
			if err := <-werr; !errors.Is(err, net.ErrClosed) {
				t.Errorf("WriteMessage = %v, want net.ErrClosed", err)
			}
		})
	})
}

// closeAfterWholeFrame: a Close during a write to a slow reader waits for
// the frame to be whole before its close frame goes out.
func closeAfterWholeFrame(t *testing.T, newDialer func(NetDial) dialer.Dialer) {
	synctest.Test(t, func(t *testing.T) {
		c, peer := pipeDial(t, newDialer, false)
		received := make(chan []byte, 1)
		go func() {
			var all []byte
			buf := make([]byte, 100)
			for {
				n, err := peer.Read(buf)
				all = append(all, buf[:n]...)
				if err != nil {
					received <- all
					return
				}
				time.Sleep(time.Millisecond) // a slow reader, in virtual time
			}
		}()
		msg := bytes.Repeat([]byte("x"), 10000)
		werr := make(chan error, 1)
		go func() { werr <- c.WriteMessage(msg) }()
		synctest.Wait()
		c.Close(4002, "done")
		if err := <-werr; err != nil {
			t.Errorf("WriteMessage = %v, want nil", err)
		}
		r := bytes.NewReader(<-received)
		f, err := ReadFrame(r)
		if err != nil || f.Header.OpCode != ws.OpText || !f.Header.Fin || !bytes.Equal(f.Payload, msg) {
			t.Fatalf("first frame = %v fin=%v %d bytes (%v), want the whole message", f.Header.OpCode, f.Header.Fin, len(f.Payload), err)
		}
		code, reason, err := ReadClose(r)
		if err != nil || code != 4002 || reason != "done" {
			t.Errorf("then %d %q (%v), want close 4002 %q", code, reason, err, "done")
		}
	})
}

// oneWritePerFrame: every message, up to MaxSendSize, and every ping and
// pong, is one Write on the socket: OpenSIPS counts partial reads.
func oneWritePerFrame(t *testing.T, newDialer func(NetDial) dialer.Dialer) {
	pinged := make(chan struct{}, 2)
	srv := ServeSIP(t, func(c net.Conn) {
		WriteFrame(c, ws.OpPing, true, []byte("server ping"))
		pinged <- struct{}{}
		io.Copy(io.Discard, c)
	})
	var rec writeCounter
	d := newDialer(rec.dial)
	for _, limit := range []int{0, 1 << 20} {
		c := Dial(t, d, srv.URL(), dialer.Options{MaxSendSize: limit})
		sizes := []int{1, 700, 0xffff, dialer.DefaultMaxSendSize}
		if limit > 0 {
			sizes = []int{100 << 10, limit}
		}
		for _, n := range sizes {
			before := rec.writes.Load()
			if err := c.WriteMessage(bytes.Repeat([]byte("a"), n)); err != nil {
				t.Fatalf("WriteMessage(%d bytes) = %v", n, err)
			}
			if got := rec.writes.Load() - before; got != 1 {
				t.Errorf("a %d-byte message took %d writes to the socket, want 1", n, got)
			}
		}
		if p, ok := c.(dialer.Pinger); ok {
			before := rec.writes.Load()
			if err := p.Ping([]byte("client ping")); err != nil {
				t.Fatalf("Ping = %v", err)
			}
			if got := rec.writes.Load() - before; got != 1 {
				t.Errorf("a ping took %d writes to the socket, want 1", got)
			}
		}
		if limit == 0 {
			// The pong answering the server's ping, written while reading.
			Await(t, pinged)
			for len(rec.wrote) > 0 {
				<-rec.wrote // the writes so far
			}
			before := rec.writes.Load()
			read := ReadAsync(c)
			Await(t, rec.wrote) // the pong
			c.Close(dialer.CloseNormalClosure, "")
			Await(t, read)
			if got := rec.writes.Load() - before; got != 2 {
				t.Errorf("the pong and the close frame took %d writes to the socket, want 2", got)
			}
		}
	}
}

// writeCounter is a NetDial that counts the Writes on the sockets it
// opens, after each one's first (the upgrade request), and tells each on
// wrote.
type writeCounter struct {
	writes atomic.Int64
	once   sync.Once
	wrote  chan struct{}
}

func (w *writeCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	w.once.Do(func() { w.wrote = make(chan struct{}, 1<<10) })
	c, err := new(net.Dialer).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, w: w}, nil
}

type countedConn struct {
	net.Conn
	w       *writeCounter
	upgrade atomic.Bool // the upgrade request has been written
}

func (c *countedConn) Write(p []byte) (int, error) {
	if c.upgrade.Swap(true) {
		c.w.writes.Add(1)
		select {
		case c.w.wrote <- struct{}{}:
		default:
		}
	}
	return c.Conn.Write(p)
}

// pipeDial dials over net.Pipe, inside a synctest bubble, and returns the
// connection and the server's end, upgraded (over TLS for wss) and no
// longer read: a peer that has stopped reading. Two Writes that overlap
// on the client's end fail the test: frames would interleave.
func pipeDial(t *testing.T, newDialer func(NetDial) dialer.Dialer, useTLS bool) (dialer.Conn, net.Conn) {
	t.Helper()
	client, raw := net.Pipe()
	sc := Serial(t, client)
	t.Cleanup(func() { raw.Close() })
	peer := raw
	url := "ws://sip.invalid/"
	var o dialer.Options
	if useTLS {
		peer = tls.Server(raw, &tls.Config{Certificates: []tls.Certificate{SelfSigned(t)}})
		url = "wss://sip.invalid/"
		o.TLSConfig = &tls.Config{InsecureSkipVerify: true} // this is about closing, not trust
	}
	upgraded := make(chan error, 1)
	go func() {
		_, err := SIPUpgrader().Upgrade(peer)
		upgraded <- err
	}()
	d := newDialer(func(context.Context, string, string) (net.Conn, error) { return sc, nil })
	c, err := d.Dial(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-upgraded; err != nil {
		t.Fatal(err)
	}
	return c, peer
}

// errOverlap is what a Serial conn answers a Write that overlaps another.
var errOverlap = errors.New("wstest: Write overlapped another")

// Serial wraps the client's end of a connection so that a Write starting
// while another is in progress fails, and fails the test when it ends:
// frames would interleave. It fails the Write rather than letting it wait
// on net.Pipe's lock, which would stop virtual time in a synctest bubble.
// Call it from the test's goroutine.
func Serial(t testing.TB, c net.Conn) net.Conn {
	sc := &serialConn{Conn: c}
	t.Cleanup(func() {
		if n := sc.overlaps.Load(); n > 0 {
			t.Errorf("%d Writes overlapped another: frames interleaved", n)
		}
	})
	return sc
}

type serialConn struct {
	net.Conn
	writing  atomic.Bool
	overlaps atomic.Int32
}

func (c *serialConn) Write(p []byte) (int, error) {
	if c.writing.Swap(true) {
		c.overlaps.Add(1)
		return 0, errOverlap
	}
	defer c.writing.Store(false)
	return c.Conn.Write(p)
}

// SelfSigned returns a throwaway server certificate for 127.0.0.1, valid
// around the current time (a synctest bubble's too). Call it from the
// test's goroutine.
func SelfSigned(t testing.TB) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "wstest"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
