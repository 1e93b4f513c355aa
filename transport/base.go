package transport

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/selector"
)

// Transport is what a SIP stack talks to: one logical SIP-over-WebSocket
// flow that connects, fails over and recovers by itself. Base implements
// it; a custom transport may implement it from scratch.
type Transport interface {
	// Connect starts the transport and returns nil once it is OPEN (and
	// Events.Connected has returned), or the
	// reason it cannot be: ctx's error, or a *ConnectError when a whole
	// pass over the servers failed (recovery then goes on in the
	// background until Disconnect).
	Connect(ctx context.Context) error

	// Disconnect stops the transport: no reconnection follows. It returns
	// once CLOSED and every goroutine the transport started has ended.
	Disconnect(ctx context.Context) error

	// Send writes one whole SIP message as one WebSocket message. It
	// returns nil only once the frame was written; otherwise an error:
	// ErrNotConnected, ctx's error, or the socket's.
	Send(ctx context.Context, msg []byte) error

	// Status returns the current status.
	Status() Status

	// SetEvents replaces the event callbacks (Config.Events at first).
	SetEvents(e Events)
}

// Base is the shared transport machine: status, events, reconnection,
// failover, recovery, keepalives, connection timeouts, SIP sanity checks and
// tracing, over any dialer.Dialer. Backends embed it.
//
// All methods are safe for concurrent use. One goroutine per transport,
// started by Connect and ended by Disconnect, dials, reads and calls the
// event callbacks; writes from Send and the keepalive timers are serialised
// on each connection.
type Base struct {
	cfg     Config
	dialer  dialer.Dialer
	log     hclog.Logger
	kaLog   hclog.Logger // "keepalive"
	viaHost string       // Config.ViaHost, or a random .invalid host for the transport's own requests
	sel     *selector.Selector
	status  statusMachine
	events  atomic.Pointer[Events]
	current atomic.Pointer[session] // non-nil while a connection is OPEN
	stats   counters

	mu   sync.Mutex // guards run, last, and the fields of run marked so
	run  *run       // the supervision Connect started; nil once stopped
	last *run       // the latest supervision, which may still be winding down
}

// waiter is the outcome Connect calls share: settled once, at the next OPEN
// (err nil) or the next failed pass over every server.
type waiter struct {
	done chan struct{}
	err  error
}

func newWaiter() *waiter { return &waiter{done: make(chan struct{})} }

// settle wakes the Connect calls sharing w with err. A nil w has none.
func (w *waiter) settle(err error) {
	if w != nil {
		w.err = err
		close(w.done)
	}
}

// NewBase validates cfg and returns a transport over d, CLOSED until
// Connect. The error joins one *ConfigError per invalid field.
func NewBase(cfg Config, d dialer.Dialer) (*Base, error) {
	cfg, err := cfg.snapshot().withDefaults()
	if d == nil {
		err = errorsJoin(err, &ConfigError{"dialer", errNilDialer})
	}
	if err != nil {
		return nil, err
	}
	b := &Base{
		cfg:    cfg,
		dialer: d,
		log:    cfg.Logger.Named("transport"),
		kaLog:  cfg.Logger.Named("keepalive"),
		sel:    selector.New(cfg.Servers),
	}
	b.sel.SetLogger(cfg.Logger.Named("selector"))
	if cfg.ServerHoldDown > 0 {
		b.sel.SetHoldDown(cfg.ServerHoldDown)
	}
	b.viaHost = cfg.ViaHost
	if b.viaHost == "" {
		b.viaHost = randomHex(6) + ".invalid" // as SIP.js builds its Via host
	}
	b.status.report = b
	b.events.Store(&b.cfg.Events) // the Base's own copy: no allocation
	return b, nil
}

// Status returns the current status. It never blocks.
func (b *Base) Status() Status { return b.status.load() }

// SetEvents replaces the event callbacks. It is safe at any time, from any
// goroutine (a callback included): one atomic swap, and callbacks already
// running finish with the old set.
func (b *Base) SetEvents(e Events) { b.events.Store(&e) }

// Events returns the event callbacks in force: Config.Events, or the last
// SetEvents. A layer that wraps a transport (a SIP stack bridge) reads
// them to call the user's callbacks from its own. It never blocks.
func (b *Base) Events() Events { return *b.events.Load() }

// Server returns the server of the OPEN connection, if any.
func (b *Base) Server() (selector.Server, bool) {
	if s := b.current.Load(); s != nil {
		return s.server, true
	}
	return selector.Server{}, false
}

// Servers returns a copy of the configured server list, normalised, in its
// order: what Config().Servers holds, without copying the rest.
func (b *Base) Servers() selector.Servers { return slices.Clone(b.cfg.Servers) }

// Config returns a copy of the configuration in force, defaults applied.
// The copy is deep (see Config): changing it, its server list, Dial.Header
// or Dial.TLSConfig does not change the transport.
func (b *Base) Config() Config { return b.cfg.clone() }

// reportStatus logs a status change and calls StatusChanged. A refused
// transition and a forced one log a warning: the supervisor makes only
// allowed moves, so either means a bug.
func (b *Base) reportStatus(from, to Status, how change) {
	switch how {
	case refused:
		b.log.Warn("status transition refused", "from", from, "to", to)
		return
	case forced:
		b.log.Warn("status transition forced", "from", from, "to", to)
	default:
		if b.log.IsDebug() {
			b.log.Debug("status", "from", from, "to", to)
		}
	}
	if f := b.events.Load().StatusChanged; f != nil {
		f(from, to)
	}
}
