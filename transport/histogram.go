package transport

import (
	"sync/atomic"
	"time"
)

// HistogramBounds are the upper bounds of the buckets of every Histogram in
// Stats, from 1 ms to 10 s; a last bucket counts what is above 10 s. They
// suit both a keepalive round trip on a LAN (under a millisecond) or across
// the world (hundreds), and a handshake (TCP, TLS, upgrade).
var HistogramBounds = [NumBuckets - 1]time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// NumBuckets is the number of buckets of a Histogram: one per bound in
// HistogramBounds, and one for what is above the last.
const NumBuckets = 14

// Histogram is a snapshot of a distribution of durations, in the shape
// Prometheus histograms take: Counts[i] is the number of observations in
// bucket i, that is at most HistogramBounds[i] and above the bound before
// (not cumulative), and Counts[NumBuckets-1] those above 10 s. A
// Histogram is a value: copying it allocates nothing.
type Histogram struct {
	Counts [NumBuckets]uint64
	Count  uint64        // observations, the sum of Counts
	Sum    time.Duration // their total
}

// Merge adds h2's observations to h, for aggregating transports.
func (h *Histogram) Merge(h2 Histogram) {
	for i := range h.Counts {
		h.Counts[i] += h2.Counts[i]
	}
	h.Count += h2.Count
	h.Sum += h2.Sum
}

// histogram is the live, lock-free form of a Histogram: observing is a few
// atomic adds and no allocation, from any goroutine. Its counts are 32-bit,
// which keeps each transport's two histograms to 144 bytes: a transport
// would need a keepalive every second for 136 years to wrap one.
type histogram struct {
	counts [NumBuckets]atomic.Uint32
	count  atomic.Uint32
	sum    atomic.Int64
}

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(HistogramBounds) && d > HistogramBounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
	h.count.Add(1)
}

// snapshot reads h bucket by bucket; observations that land meanwhile may
// be counted in Counts and not yet in Count, or the other way round.
func (h *histogram) snapshot() Histogram {
	var out Histogram
	for i := range h.counts {
		out.Counts[i] = uint64(h.counts[i].Load())
	}
	out.Count = uint64(h.count.Load())
	out.Sum = time.Duration(h.sum.Load())
	return out
}
