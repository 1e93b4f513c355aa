package sipgows

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/hashicorp/go-hclog"
	"github.com/sipws/sipws/transport"
)

// DefaultQueueLen is the number of inbound messages the bridge buffers
// toward sipgo when Config.QueueLen is zero. sipgo parses each message on
// its reading goroutine and hands it on to a new goroutine, so the queue
// only fills when something in that goroutine is slow (a
// sip.TransportLayer.OnMessage handler, a read filter) or the machine is
// overloaded.
const DefaultQueueLen = 128

// Destination is the address Prepare gives requests. It is an IP address, so
// sipgo makes no DNS query for it; sipgo dials it through the bridge, which
// relays everything to the transport whatever address sipgo dialed. A
// request sent to it by a UA without the bridge's options fails at once
// (nothing listens there).
const Destination = "127.0.0.1:7118"

// Config configures a Bridge.
type Config struct {
	// Transport carries the messages (required). The bridge subscribes
	// with SetEvents in New and calls the user's callbacks too: the events
	// the transport had (its Config().Events, for ws.New and wsgobwas.New)
	// or those given to Bridge.SetEvents later. Do not call the transport's
	// SetEvents while the bridge is open: use Bridge.SetEvents.
	Transport transport.Transport

	// QueueLen is the number of inbound messages buffered toward sipgo;
	// one more arriving while it is full is dropped and reported (see
	// ErrQueueFull). Zero means DefaultQueueLen; negative is an error.
	QueueLen int

	// Logger receives the bridge's logs, named "sipgows". Nil means no
	// logging. HCLogFromSlog adapts the *slog.Logger a sipgo user holds.
	Logger hclog.Logger
}

// Bridge runs sipgo over a sipws transport. Its methods are safe for
// concurrent use. See the package documentation for the model.
type Bridge struct {
	tr      transport.Transport
	log     hclog.Logger
	host    string   // the Via sent-by host sipgo writes
	laddr   net.Addr // every pipe's LocalAddr: host, port 0
	maxIn   int      // the largest message sipgo reads
	queue   chan *frame
	free    chan *frame // see getFrame
	user    atomic.Pointer[transport.Events]
	primary atomic.Pointer[conn]          // the pipe inbound traffic goes to
	changed atomic.Pointer[chan struct{}] // closed when primary changes
	done    chan struct{}                 // closed by Close

	mu     sync.Mutex
	conns  []*conn // open pipes, oldest first
	closed bool
	nextID uint64

	stats counters
}

// New returns a bridge over cfg.Transport and subscribes to its events.
// It starts no goroutine. The transport is the caller's: connect it (before
// or after) and disconnect it after Close.
func New(cfg Config) (*Bridge, error) {
	var errs []error
	if cfg.Transport == nil {
		errs = append(errs, ErrNoTransport)
	}
	if cfg.QueueLen < 0 {
		errs = append(errs, fmt.Errorf("sipgows: QueueLen %d must not be negative", cfg.QueueLen))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.QueueLen == 0 {
		cfg.QueueLen = DefaultQueueLen
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	b := &Bridge{
		tr:    cfg.Transport,
		log:   log.Named("sipgows"),
		maxIn: min(int(sip.TransportBufferReadSize), sip.ParseMaxMessageLength),
		queue: make(chan *frame, cfg.QueueLen),
		free:  make(chan *frame, freeFrames),
		done:  make(chan struct{}),
	}
	b.host = viaHost(cfg.Transport)
	b.laddr = sentBy(b.host)
	ch := make(chan struct{})
	b.changed.Store(&ch)
	b.user.Store(&transport.Events{})
	if t, ok := cfg.Transport.(interface{ Events() transport.Events }); ok {
		e := t.Events()
		b.user.Store(&e)
	} else if t, ok := cfg.Transport.(interface{ Config() transport.Config }); ok {
		e := t.Config().Events
		b.user.Store(&e)
	}
	b.tr.SetEvents(b.events())
	b.log.Debug("bridge ready", "via_host", b.host, "queue", cfg.QueueLen, "max_in", b.maxIn)
	return b, nil
}

// viaHost returns the host sipgo puts in Via: the transport's ViaHost
// when it has one (so its response check passes), else a random host in
// .invalid (RFC 6761 §6.4), as SIP.js and the examples of RFC 7118 do.
func viaHost(tr transport.Transport) string {
	if t, ok := tr.(interface{ Config() transport.Config }); ok {
		if h := t.Config().ViaHost; h != "" {
			return h
		}
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:]) + ".invalid"
}

// Host returns the host sipgo writes in the sent-by of every Via it sends
// through the bridge, with no port: the transport's ViaHost when set, else
// a random name in .invalid. Use it in Contact headers.
func (b *Bridge) Host() string { return b.host }

// SetEvents replaces the user's callbacks, which the bridge calls after its
// own handling of each event. It is safe at any time.
func (b *Bridge) SetEvents(e transport.Events) { b.user.Store(&e) }

// UserAgentOption returns the option that makes a sipgo user agent send
// and receive its WS traffic through the bridge:
//
//	ua, err := sipgo.NewUA(b.UserAgentOption())
//
// It is sipgo.WithUserAgentTransportLayerOptions(b.TransportLayerOptions()...),
// which replaces the transport layer options given before it; to add your
// own, pass sipgo.WithUserAgentTransportLayerOptions(append(b.TransportLayerOptions(), yours...)...)
// instead. One bridge serves one user agent.
func (b *Bridge) UserAgentOption() sipgo.UserAgentOption {
	return sipgo.WithUserAgentTransportLayerOptions(b.TransportLayerOptions()...)
}

// TransportLayerOptions returns the sip.TransportLayerOption values the
// bridge needs: a WS transport whose dialer opens pipes to the bridge
// (sip.TransportWS.DialerCreate). Each call returns a new transport value.
func (b *Bridge) TransportLayerOptions() []sip.TransportLayerOption {
	return []sip.TransportLayerOption{
		sip.WithTransportLayerTransports(sip.TransportsConfig{
			WS: &sip.TransportWS{DialerCreate: b.dialerCreate},
		}),
	}
}

// Prepare makes req go through the bridge: transport WS (sipgo's WSS
// transport dials for itself, and the transport does the real TLS anyway)
// and Destination, an IP address, so sipgo makes no DNS query. Call it on
// every request you build; sipgo derives in-dialog requests from the
// INVITE and keeps its transport.
func (b *Bridge) Prepare(req *sip.Request) {
	req.SetTransport("WS")
	req.SetDestination(Destination)
}

// Close closes every pipe (sipgo's reading goroutines then end, and its
// transactions on them terminate), refuses new ones, and gives the
// transport back its user's callbacks. The transport stays as it is: the
// caller disconnects it. Close is idempotent and returns nil; messages
// still queued are dropped.
func (b *Bridge) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	conns := b.conns
	b.conns = nil
	b.mu.Unlock()

	b.tr.SetEvents(*b.user.Load())
	close(b.done)
	for _, c := range conns {
		c.shutdown()
	}
	b.setPrimary()
	for {
		select {
		case f := <-b.queue:
			b.putFrame(f)
		default:
			b.log.Debug("bridge closed")
			return nil
		}
	}
}

// isClosed reports whether Close has been called.
func (b *Bridge) isClosed() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// addrString is a net.Addr that is only a string, for addresses that are not
// IP:port (the sent-by host).
type addrString struct{ s string }

func (a addrString) Network() string { return "ws" }
func (a addrString) String() string  { return a.s }

// sentBy returns the LocalAddr of every pipe: host with port 0, so that
// sipgo writes "Via: SIP/2.0/WS host" with no port (sipgo writes the
// port only when it is not 0).
func sentBy(host string) net.Addr {
	return addrString{net.JoinHostPort(strings.Trim(host, "[]"), "0")}
}
