package sipwsprom

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipws/sipws/transport"
)

// counterDefs name the counters, in the order of the c… constants.
var counterDefs = [numCounters]struct{ name, help string }{
	cMessagesIn:     {"messages_received_total", "WebSocket messages received that are not keepalive traffic, counted before the SIP sanity checks."},
	cMessagesOut:    {"messages_sent_total", "SIP messages written."},
	cBytesIn:        {"received_bytes_total", "Bytes of the messages received."},
	cBytesOut:       {"sent_bytes_total", "Bytes of the SIP messages written."},
	cDropped:        {"messages_dropped_total", "Messages received and not delivered: empty, unparseable or failing a sanity check."},
	cKeepalivesIn:   {"keepalives_received_total", "Keepalive pongs and pings received."},
	cKeepalivesOut:  {"keepalives_sent_total", "Keepalive pings and pongs sent."},
	cPongTimeouts:   {"pong_timeouts_total", "Flows closed because a keepalive ping got no pong in time."},
	cDials:          {"dials_total", "Connection attempts."},
	cConnects:       {"connects_total", "Connection attempts that reached OPEN."},
	cReconnects:     {"reconnects_total", "Retries on the same server."},
	cFailovers:      {"failovers_total", "Servers marked in error after their reconnection attempts."},
	cRecoveries:     {"recoveries_total", "Recovery waits after every server failed."},
	cFailbackProbes: {"failback_probes_total", "Dials to a better server while OPEN on a worse one."},
	cFailbacks:      {"failbacks_total", "Moves to a better server, make-before-break."},
}

// statuses are the values of the status label, indexed by transport.Status.
var statuses = [...]transport.Status{
	transport.StatusClosed, transport.StatusConnecting, transport.StatusOpen, transport.StatusClosing,
}

// descs are a collector's descriptors, its namespace applied.
type descs struct {
	counters   [numCounters]*prometheus.Desc
	transports *prometheus.Desc
	rtt        *prometheus.Desc
	connect    *prometheus.Desc
	statuses   [len(statuses)]string // the status label values
	bounds     [transport.NumBuckets - 1]float64
}

func newDescs(ns string) *descs {
	d := new(descs)
	labels := []string{"backend", "server"}
	for i, def := range counterDefs {
		d.counters[i] = prometheus.NewDesc(prometheus.BuildFQName(ns, "", def.name), def.help, labels, nil)
	}
	d.transports = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "transports"),
		"Transports in the collector, per status.", []string{"backend", "server", "status"}, nil)
	d.rtt = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "keepalive_rtt_seconds"),
		"Round trip of each answered keepalive ping.", labels, nil)
	d.connect = prometheus.NewDesc(prometheus.BuildFQName(ns, "", "connect_duration_seconds"),
		"Duration of each successful dial: TCP, TLS and the WebSocket upgrade.", labels, nil)
	for i, s := range statuses {
		d.statuses[i] = s.String()
	}
	for i, b := range transport.HistogramBounds {
		d.bounds[i] = b.Seconds()
	}
	return d
}

func (d *descs) describe(ch chan<- *prometheus.Desc) {
	for _, c := range d.counters {
		ch <- c
	}
	ch <- d.transports
	ch <- d.rtt
	ch <- d.connect
}

// emit sends the metrics of one label set: its totals, and the number of
// its transports in each status; numCounters + len(statuses) + 2 metrics
// in all. It allocates per metric, nothing more.
func (d *descs) emit(ch chan<- prometheus.Metric, values []string, t *counts, status *[len(statuses)]int) {
	for i, desc := range d.counters {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(t.c[i]), values...)
	}
	for i, n := range status {
		ch <- prometheus.MustNewConstMetric(d.transports, prometheus.GaugeValue, float64(n), values[0], values[1], d.statuses[i])
	}
	ch <- d.histogram(d.rtt, &t.rtt, values)
	ch <- d.histogram(d.connect, &t.connect, values)
}

// histogram builds a constant histogram with cumulative buckets; the last
// bucket of h, above the last bound, is the implicit +Inf one.
func (d *descs) histogram(desc *prometheus.Desc, h *hist, values []string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(d.bounds))
	var n uint64
	for i, b := range d.bounds {
		n += h.counts[i]
		buckets[b] = n
	}
	n += h.counts[len(h.counts)-1]
	return prometheus.MustNewConstHistogram(desc, n, h.sum.Seconds(), buckets, values...)
}
