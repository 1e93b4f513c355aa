package transport

import (
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a transport's counters since NewBase. Each
// counter is read on its own, and counts an event once it has completed:
// a message or a ping is counted out once its write has returned, so the
// answer to it can be counted in first (KeepalivesIn one above
// KeepalivesOut, for a moment).
type Stats struct {
	MessagesIn, MessagesOut uint64        // messages received that are not keepalive traffic (before checks), and SIP messages sent
	BytesIn, BytesOut       uint64        // their bytes
	Dropped                 uint64        // received messages not delivered (empty, unparseable or failing a check)
	KeepalivesIn            uint64        // CRLF pongs and pings received
	KeepalivesOut           uint64        // CRLF pings and pongs sent
	PongTimeouts            uint64        // flows closed for a missing pong
	Dials                   uint64        // connection attempts
	Connects                uint64        // attempts that reached OPEN
	Reconnects              uint64        // retries on the same server
	Failovers               uint64        // servers marked in error
	Recoveries              uint64        // recovery waits after every server failed
	FailbackProbes          uint64        // dials to a better server while OPEN on a worse one
	Failbacks               uint64        // moves to a better server (make-before-break)
	LastKeepaliveRTT        time.Duration // time from the last answered ping to its pong
	KeepaliveRTT            Histogram     // every answered ping's round trip
	ConnectTime             Histogram     // every successful dial's duration: TCP, TLS and the upgrade
}

// counters are updated with atomics: no lock on the message path.
type counters struct {
	messagesIn, messagesOut, bytesIn, bytesOut atomic.Uint64
	dropped, keepalivesIn, keepalivesOut       atomic.Uint64
	pongTimeouts, dials, connects, reconnects  atomic.Uint64
	failovers, recoveries                      atomic.Uint64
	failbackProbes, failbacks                  atomic.Uint64
	lastRTT                                    atomic.Int64
	rtt, connectTime                           histogram
}

// Stats returns the counters. It is safe at any time, from any goroutine,
// takes no lock and allocates nothing; counters are read one by one, so a snapshot taken
// while messages flow may be off by the messages in flight.
func (b *Base) Stats() Stats {
	c := &b.stats
	return Stats{
		MessagesIn: c.messagesIn.Load(), MessagesOut: c.messagesOut.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(),
		Dropped: c.dropped.Load(), KeepalivesIn: c.keepalivesIn.Load(), KeepalivesOut: c.keepalivesOut.Load(),
		PongTimeouts: c.pongTimeouts.Load(), Dials: c.dials.Load(), Connects: c.connects.Load(),
		Reconnects: c.reconnects.Load(), Failovers: c.failovers.Load(), Recoveries: c.recoveries.Load(),
		FailbackProbes: c.failbackProbes.Load(), Failbacks: c.failbacks.Load(),
		LastKeepaliveRTT: time.Duration(c.lastRTT.Load()),
		KeepaliveRTT:     c.rtt.snapshot(), ConnectTime: c.connectTime.snapshot(),
	}
}

// observeRTT records a keepalive round trip.
func (c *counters) observeRTT(rtt time.Duration) {
	c.lastRTT.Store(int64(rtt))
	c.rtt.observe(rtt)
}
