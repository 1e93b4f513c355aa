package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// The SIP WebSocket server runs in a child process, this same program (or
// test binary) started again with roleEnv=server, so that only the
// client's memory and CPU are counted in the client, and so that it can
// be killed and restarted (the storm). It listens on one or more
// addresses, upgrades with the "sip" subprotocol (ws or, with a
// certificate, wss), answers CRLF CRLF keepalives with CRLF and WebSocket
// pings with pongs, echoes a close frame, and reads everything else away.
//
// Its protocol with the parent, on its standard streams:
//   - stdout, first: one line "ready UNIXNANO ADDR..." once every listener
//     is listening (UNIXNANO: when it was);
//   - stdout, then: the time of every Accept, as little-endian int64 Unix
//     nanoseconds, flushed every 10 ms and at exit;
//   - stdin: the server exits cleanly when it ends. It may also just be
//     killed (SIGKILL), which is the point of the storm.

const roleEnv = "SIPWS_FLEET_ROLE"

func serverMain(args []string) int {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "comma-separated listen addresses")
	certFile := fs.String("cert", "", "PEM certificate: serve wss")
	keyFile := fs.String("key", "", "PEM key of -cert")
	linger0 := fs.Bool("linger0", false, "SO_LINGER 0 on every connection: a kill resets them, leaving no TIME_WAIT")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var tlsCfg *tls.Config
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fleet server:", err)
			return 1
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	lc := net.ListenConfig{Control: reuseAddr}
	var lns []net.Listener
	var addrs []string
	for a := range strings.SplitSeq(*listen, ",") {
		ln, err := lc.Listen(context.Background(), "tcp", a)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fleet server:", err)
			return 1
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	rec := &acceptLog{w: bufio.NewWriterSize(os.Stdout, 64<<10)}
	fmt.Fprintf(rec.w, "ready %d %s\n", time.Now().UnixNano(), strings.Join(addrs, " "))
	rec.flush()
	stop := make(chan struct{})
	go rec.flushEvery(10*time.Millisecond, stop)
	for _, ln := range lns {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					continue // EMFILE and the like: keep accepting
				}
				rec.add(time.Now().UnixNano())
				if *linger0 {
					c.(*net.TCPConn).SetLinger(0)
				}
				go serveConn(c, tlsCfg)
			}
		}()
	}
	io.Copy(io.Discard, os.Stdin)
	for _, ln := range lns {
		ln.Close()
	}
	close(stop)
	rec.flush()
	return 0
}

// reuseAddr sets SO_REUSEADDR, which lets the restarted server bind the
// port that its killed predecessor's connections still hold in TIME_WAIT.
// (Go sets it on every listener already; this says so.)
func reuseAddr(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	})
	return errors.Join(err, serr)
}

// acceptLog streams accept times to the parent.
type acceptLog struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf [8]byte
}

func (l *acceptLog) add(t int64) {
	l.mu.Lock()
	binary.LittleEndian.PutUint64(l.buf[:], uint64(t))
	l.w.Write(l.buf[:])
	l.mu.Unlock()
}

func (l *acceptLog) flush() {
	l.mu.Lock()
	l.w.Flush()
	l.mu.Unlock()
}

func (l *acceptLog) flushEvery(d time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.flush()
		case <-stop:
			return
		}
	}
}

var sipUpgrader = ws.Upgrader{Protocol: func(p []byte) bool { return string(p) == "sip" }}

var (
	crlfPong = ws.MustCompileFrame(ws.NewTextFrame([]byte("\r\n")))
	crlfPing = []byte("\r\n\r\n")
)

// serveConn serves one connection until it ends. It keeps a small read
// buffer: 20,000 of these run next to the client on a 2-core machine.
func serveConn(c net.Conn, tlsCfg *tls.Config) {
	defer c.Close()
	if tlsCfg != nil {
		tc := tls.Server(c, tlsCfg)
		tc.SetDeadline(time.Now().Add(30 * time.Second))
		if err := tc.Handshake(); err != nil {
			return
		}
		tc.SetDeadline(time.Time{})
		c = tc
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := sipUpgrader.Upgrade(c); err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	br := bufio.NewReaderSize(c, 512)
	var hdr [ws.MaxHeaderSize]byte
	var p [125]byte
	for {
		h, err := ws.ReadHeaderBuffer(br, hdr[:])
		if err != nil {
			return
		}
		if h.Length > int64(len(p)) {
			if _, err := br.Discard(int(h.Length)); err != nil {
				return
			}
			continue
		}
		b := p[:h.Length]
		if _, err := io.ReadFull(br, b); err != nil {
			return
		}
		if h.Masked {
			ws.Cipher(b, h.Mask, 0)
		}
		switch h.OpCode {
		case ws.OpClose:
			ws.WriteFrame(c, ws.NewCloseFrame(b))
			return
		case ws.OpPing:
			if ws.WriteFrame(c, ws.NewPongFrame(b)) != nil {
				return
			}
		case ws.OpText, ws.OpBinary:
			if h.Fin && string(b) == string(crlfPing) {
				if _, err := c.Write(crlfPong); err != nil {
					return
				}
			}
		}
	}
}

// server is the parent's handle on a server child.
type server struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	addrs   []string
	readyAt time.Time // when it was listening, by its own clock

	once    sync.Once
	mu      sync.Mutex
	accepts []int64
	done    chan struct{} // the accept stream has ended
}

// startServer starts a server child listening on listen (comma-separated),
// serving wss when tlsDir holds a certificate made by makeCert.
func startServer(listen, tlsDir string, extra ...string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := append([]string{"-listen", listen}, extra...)
	if tlsDir != "" {
		args = append(args, "-cert", filepath.Join(tlsDir, "cert.pem"), "-key", filepath.Join(tlsDir, "key.pem"))
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), roleEnv+"=server")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	br := bufio.NewReader(stdout)
	line := make(chan string, 1)
	go func() {
		l, _ := br.ReadString('\n')
		line <- l
	}()
	var l string
	select {
	case l = <-line:
	case <-time.After(10 * time.Second):
		s.kill()
		return nil, errors.New("server child: no ready line within 10 s")
	}
	f := strings.Fields(l)
	if len(f) < 3 || f[0] != "ready" {
		s.kill()
		return nil, fmt.Errorf("server child: %q", l)
	}
	ns, _ := strconv.ParseInt(f[1], 10, 64)
	s.readyAt, s.addrs = time.Unix(0, ns), f[2:]
	go func() {
		defer close(s.done)
		var b [8]byte
		for {
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return
			}
			s.mu.Lock()
			s.accepts = append(s.accepts, int64(binary.LittleEndian.Uint64(b[:])))
			s.mu.Unlock()
		}
	}()
	return s, nil
}

// acceptTimes returns the accept times received so far.
func (s *server) acceptTimes() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.accepts...)
}

// kill kills the child at once (SIGKILL) and reaps it: its sockets close
// as a crash closes them.
func (s *server) kill() {
	s.once.Do(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.stdin.Close()
	})
}

// stop ends the child cleanly (its stdin closes), killing it if it has not
// exited within 10 s, and waits for its last accept times.
func (s *server) stop() { s.once.Do(s.doStop) }

func (s *server) doStop() {
	s.stdin.Close()
	exited := make(chan struct{})
	go func() { s.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-exited
	}
	select {
	case <-s.done:
	case <-time.After(time.Second):
	}
}

// makeCert writes a self-signed ECDSA P-256 certificate for 127.0.0.1–
// 127.0.0.254 (cert.pem, key.pem) into dir, and returns its pool, which the
// clients trust.
func makeCert(dir string) (*x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sipws fleet"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
	}
	for i := 1; i < 255; i++ {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IPv4(127, 0, 0, byte(i)))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool, nil
}
