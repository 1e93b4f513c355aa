package keepalive

import (
	"time"

	"github.com/hashicorp/go-hclog"
)

// Config is the keepalive schedule of one connection and the callbacks
// through which the Keeper acts on it. The zero value of each field means
// "off" (or the documented default); a negative duration counts as zero.
// New copies the Config; changing it afterwards has no effect.
//
// The callbacks are called from timer goroutines (ping and pong timers) or
// from the goroutine calling Received, never with the Keeper's lock held.
// None of them may call Stop: Stop waits for a running callback to return,
// so it would wait for itself forever. To stop from a callback, call Stop
// on another goroutine (go k.Stop()), or, as a transport does, close the
// connection and call Stop from the goroutine that owns it.
type Config struct {
	// Mode is what a ping is, and so what its pong is. In CRLF mode (the
	// zero value) the Keeper pings with a double CRLF through Send and
	// takes any CRLF-only message given to Received as the pong. In the
	// other modes the Keeper pings through Ping, and the owner, which
	// recognises the pong (a Pong frame echoing the ping's payload, a
	// final response to the OPTIONS), reports it with Keeper.Pong; CRLF
	// traffic is then still consumed, and a server's CRLF ping still
	// answered, but a CRLF message is not a pong.
	Mode Mode

	// Interval is the keepalive interval. When > 0, Start draws a period
	// uniform in [0.8, 1.0) × Interval and a ping falls due at every
	// multiple of it. Zero turns pings off: Start then arms nothing, and
	// Received still recognises keepalive traffic and answers server pings.
	Interval time.Duration

	// Debounce is the pong-wait window (SIP.js keepAliveDebounce): a due
	// ping is skipped while the previous ping is unanswered and younger
	// than Debounce. Zero means no window: every due ping goes out.
	Debounce time.Duration

	// PongTimeout, when > 0, is how long the oldest unanswered ping may
	// wait for a pong (RFC 5626 §4.4.1 recommends 10 s). When it expires
	// with nothing read since the ping, the flow has failed: OnFailure is
	// called and no more pings are sent until the next Start. A message
	// read meanwhile, or one the owner is still handling (see
	// Keeper.Handled), shows the flow alive, and the wait starts again from
	// then: a slow reader is not a dead flow. The deadline is not moved by
	// later pings, so a dead flow is found even when Debounce lets pings
	// repeat. Zero: off.
	PongTimeout time.Duration

	// Send writes one CRLF ping or pong. It may block (on the connection's
	// write lock, say); no other ping is sent while it runs. Its error is
	// not acted upon: a broken connection is the owner's to detect, and a
	// ping that did not go out simply gets no pong. Send must not modify
	// p. Nil discards pings and pongs.
	Send func(p []byte) error

	// Ping sends one ping of Mode when Mode is not CRLF: a WebSocket Ping
	// with a fresh payload, an OPTIONS request. It may block as Send may;
	// no other ping is sent while it runs, and its error is not acted upon.
	// Nil in those modes: pings are not sent (the schedule and the pong
	// timeout still run, so a flow nobody pings fails).
	Ping func() error

	// OnFailure reports a failed flow: a pong timeout. It is called at most
	// once per Start, from a timer goroutine. Nil: failures are not
	// reported (pings still stop).
	OnFailure func()

	// OnRTT, if set, is called from Received when a keepalive message
	// answers the outstanding ping, with the time since the latest ping
	// was sent.
	OnRTT func(rtt time.Duration)

	// Tick is the resolution of the process-wide keepalive clock: a ping
	// goes out at the first multiple of Tick since the Unix epoch at or
	// after the instant it falls due, and a pong timeout fires at the first
	// multiple at or after its deadline. Every connection of the process
	// shares the grid, so the pings that fall due within one Tick leave
	// together, their pongs come back together, and one wake-up of the
	// runtime serves many of them instead of one each. The delay is less
	// than Tick, and Tick is capped at a tenth of the period, so no ping is
	// later than the schedule and the debounce window allow by more than
	// that. Zero means DefaultTick; negative means exact instants.
	Tick time.Duration

	// Logger receives the Keeper's logs: every ping sent and pong received
	// at Trace level, a pong timeout at Debug, each behind IsTrace or
	// IsDebug, so that a disabled logger costs nothing per ping. Nil means
	// no logging.
	Logger hclog.Logger

	// Rand returns a number in [0, 1) for the period's jitter; values out
	// of range are clamped. It is called by Start with the Keeper's lock
	// held, so it must not call the Keeper. Nil means math/rand/v2.Float64.
	Rand func() float64
}
