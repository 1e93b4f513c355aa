package keepalive

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// DefaultTick is the keepalive clock's resolution when Config.Tick is
// zero: 100 ms, a third of a percent of a 30 s interval.
const DefaultTick = 100 * time.Millisecond

// Keeper runs the keepalive schedule of one connection. Create it with New;
// all methods are safe for concurrent use.
type Keeper struct {
	cfg Config

	mu   sync.Mutex
	idle sync.Cond // signalled when busy drops to zero; uses mu

	started bool
	gen     uint64        // bumped by Start and Stop: identifies the run
	period  time.Duration // drawn by the last Start
	tick    time.Duration // the clock's resolution for this run; 0: exact
	busy    int           // callbacks running now; Stop waits for zero

	// The two timers are made once and re-armed with Reset, so a running
	// schedule allocates nothing. A timer callback that was already on its
	// way when its timer was stopped or re-armed finds its deadline zero or
	// still ahead, and does nothing: a timer never fires before its
	// deadline, which is taken before the timer is armed.
	pingTimer *time.Timer
	next      time.Time // when the next ping falls due; zero: disarmed
	fire      time.Time // next, on the keepalive clock: when it goes out
	pongTimer *time.Timer
	deadline  time.Time // when the oldest unanswered ping fails; zero: disarmed

	// Life signs: every message Received sees counts in seen, and every
	// message its owner has finished with in handled. A pong deadline
	// that finds either moved, or the two apart, is not a failure.
	seen, handled atomic.Uint64
	seenAtArm     uint64 // seen when the pong deadline was last armed

	sending     bool      // a ping's Send has not returned yet
	outstanding bool      // a ping is unanswered
	lastPing    time.Time // when the latest ping was sent
}

// New returns a stopped Keeper for cfg. Nothing happens until Start.
func New(cfg Config) *Keeper {
	cfg.Interval = max(cfg.Interval, 0)
	cfg.Debounce = max(cfg.Debounce, 0)
	cfg.PongTimeout = max(cfg.PongTimeout, 0)
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	k := &Keeper{cfg: cfg}
	k.idle.L = &k.mu
	return k
}

// Start draws the period and, when Config.Interval > 0, arms the first ping
// one period from now. It returns at once. While started, Start does
// nothing; after Stop, Start begins a new run: a new period, no ping
// outstanding, pings resumed after a failure.
func (k *Keeper) Start() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.started {
		return
	}
	k.started = true
	k.gen++
	k.reset()
	k.period = k.drawPeriod()
	if k.period <= 0 {
		return
	}
	k.tick = k.cfg.Tick
	if k.tick == 0 {
		k.tick = DefaultTick
	}
	k.tick = min(k.tick, k.period/10)
	now := time.Now()
	k.next = now.Add(k.period)
	k.fire = k.onClock(k.next)
	if k.pingTimer == nil {
		k.pingTimer = time.AfterFunc(k.fire.Sub(now), k.due)
	} else {
		k.pingTimer.Reset(k.fire.Sub(now))
	}
}

// onClock returns the first instant of the keepalive clock at or after t:
// t rounded up to a multiple of the run's tick since the Unix epoch.
func (k *Keeper) onClock(t time.Time) time.Time {
	if k.tick <= 0 {
		return t
	}
	if r := time.Duration(t.UnixNano() % int64(k.tick)); r != 0 {
		return t.Add(k.tick - r)
	}
	return t
}

// Stop ends the run: it disarms every timer and waits for a running
// callback (Send, OnFailure, OnRTT) to return. Once Stop returns, no
// callback of this Keeper is running or will run until the next Start, and
// Received no longer answers server pings. Because it waits, Stop must not
// be called from inside a callback (see Config). A Send blocked on a dead
// connection therefore holds Stop up: close the connection first, so that
// Send returns, then call Stop. Stop is idempotent.
func (k *Keeper) Stop() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.started {
		k.started = false
		k.gen++
		k.reset()
	}
	for k.busy > 0 {
		k.idle.Wait()
	}
}

// Period returns the period drawn by the last Start: zero before the first
// Start or when Config.Interval is zero.
func (k *Keeper) Period() time.Duration {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.period
}

// reset disarms the timers and forgets the run's state. k.mu is held.
func (k *Keeper) reset() {
	k.disarmPing()
	k.disarmPong()
	k.sending = false
	k.outstanding = false
	k.lastPing = time.Time{}
}

// drawPeriod returns a period uniform in [0.8, 1.0) × Interval (RFC 5626
// §4.4.1's jitter, drawn once per run as SIP.js does), at least 1 ns. k.mu
// is held.
func (k *Keeper) drawPeriod() time.Duration {
	iv := k.cfg.Interval
	if iv <= 0 {
		return 0
	}
	f := rand.Float64
	if k.cfg.Rand != nil {
		f = k.cfg.Rand
	}
	r := f()
	if !(r >= 0) { // also catches NaN
		r = 0
	} else if r >= 1 {
		r = 1
	}
	p := time.Duration(float64(iv) * (0.8 + 0.2*r))
	// Rounding, or r clamped to 1, may reach the interval itself.
	if p >= iv {
		p = iv - 1
	}
	return max(p, 1)
}

// enter marks a callback as running, so Stop waits for it. k.mu is held.
func (k *Keeper) enter() { k.busy++ }

// leave marks a callback as returned and wakes Stop when none is left.
// k.mu is held.
func (k *Keeper) leave() {
	k.busy--
	if k.busy == 0 {
		k.idle.Broadcast()
	}
}
