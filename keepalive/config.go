package keepalive

import "time"

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
	// the flow has failed: OnFailure is called and no more pings are sent
	// until the next Start. The deadline is not moved by later pings, so a
	// dead flow is found even when Debounce lets pings repeat. Zero: off.
	PongTimeout time.Duration

	// Send writes one ping or pong. It may block (on the connection's write
	// lock, say); no other ping is sent while it runs. Its error is not
	// acted upon: a broken connection is the owner's to detect, and a ping
	// that did not go out simply gets no pong. Send must not modify p.
	// Nil discards pings and pongs.
	Send func(p []byte) error

	// OnFailure reports a failed flow: a pong timeout. It is called at most
	// once per Start, from a timer goroutine. Nil: failures are not
	// reported (pings still stop).
	OnFailure func()

	// OnRTT, if set, is called from Received when a keepalive message
	// answers the outstanding ping, with the time since the latest ping
	// was sent.
	OnRTT func(rtt time.Duration)

	// Rand returns a number in [0, 1) for the period's jitter; values out
	// of range are clamped. It is called by Start with the Keeper's lock
	// held, so it must not call the Keeper. Nil means math/rand/v2.Float64.
	Rand func() float64
}
