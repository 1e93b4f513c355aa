package sipwsprom

import (
	"time"

	"github.com/sipws/sipws/transport"
)

// The counters, in the order of counterDefs and of counts.c.
const (
	cMessagesIn = iota
	cMessagesOut
	cBytesIn
	cBytesOut
	cDropped
	cKeepalivesIn
	cKeepalivesOut
	cPongTimeouts
	cDials
	cConnects
	cReconnects
	cFailovers
	cRecoveries
	cFailbackProbes
	cFailbacks
	numCounters
)

// counts are the monotonic parts of a transport.Stats: what the collector
// sums. A Histogram's Count is not kept: it is the sum of its Counts, and
// computing it keeps buckets and count consistent in a snapshot taken while
// observations land.
type counts struct {
	c            [numCounters]uint64
	rtt, connect hist
}

type hist struct {
	counts [transport.NumBuckets]uint64
	sum    time.Duration
}

// read takes the counts of s.
func (x *counts) read(s *transport.Stats) {
	x.c = [numCounters]uint64{
		cMessagesIn: s.MessagesIn, cMessagesOut: s.MessagesOut,
		cBytesIn: s.BytesIn, cBytesOut: s.BytesOut,
		cDropped:      s.Dropped,
		cKeepalivesIn: s.KeepalivesIn, cKeepalivesOut: s.KeepalivesOut,
		cPongTimeouts: s.PongTimeouts,
		cDials:        s.Dials, cConnects: s.Connects, cReconnects: s.Reconnects,
		cFailovers: s.Failovers, cRecoveries: s.Recoveries,
		cFailbackProbes: s.FailbackProbes, cFailbacks: s.Failbacks,
	}
	x.rtt = hist{s.KeepaliveRTT.Counts, s.KeepaliveRTT.Sum}
	x.connect = hist{s.ConnectTime.Counts, s.ConnectTime.Sum}
}

// addIncrease adds to x the increase from last to now, field by field. A
// field that went down was reset: its increase is its new value.
func (x *counts) addIncrease(now, last *counts) {
	for i := range x.c {
		x.c[i] += increase(now.c[i], last.c[i])
	}
	x.rtt.addIncrease(&now.rtt, &last.rtt)
	x.connect.addIncrease(&now.connect, &last.connect)
}

func (h *hist) addIncrease(now, last *hist) {
	for i := range h.counts {
		h.counts[i] += increase(now.counts[i], last.counts[i])
	}
	if now.sum >= last.sum {
		h.sum += now.sum - last.sum
	} else if now.sum > 0 {
		h.sum += now.sum
	}
}

// add adds y to x.
func (x *counts) add(y *counts) {
	for i := range x.c {
		x.c[i] += y.c[i]
	}
	x.rtt.add(&y.rtt)
	x.connect.add(&y.connect)
}

func (h *hist) add(y *hist) {
	for i := range h.counts {
		h.counts[i] += y.counts[i]
	}
	h.sum += y.sum
}

func increase(now, last uint64) uint64 {
	if now < last {
		return now
	}
	return now - last
}
