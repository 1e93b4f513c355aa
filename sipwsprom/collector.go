package sipwsprom

import (
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxLabelSets is the number of label sets a collector keeps when
// Options.MaxLabelSets is zero.
const DefaultMaxLabelSets = 256

// Overflow is the value of both labels of the label set that counts the
// transports whose label set would exceed Options.MaxLabelSets.
const Overflow = "_overflow"

// Options configure a Collector. The zero value of each field is its default.
type Options struct {
	// Namespace prefixes every metric name (default "sipws").
	Namespace string

	// MaxLabelSets bounds the number of distinct {backend, server} label
	// sets (default DefaultMaxLabelSets). A transport whose label set would
	// be one more is counted in the label set {backend=Overflow,
	// server=Overflow} instead, so a scrape never has more than
	// MaxLabelSets+1 label sets, whatever the program passes to Add.
	MaxLabelSets int
}

// Collector is a prometheus.Collector over a set of transports. Create it
// with New, register it (prometheus.Registerer.MustRegister), and Add and
// Remove transports as they come and go. All its methods are safe for
// concurrent use; see the package documentation for the metrics, the
// labels and the cost of a scrape.
type Collector struct {
	d   *descs
	max int

	mu       sync.Mutex
	entries  map[Source]*entry
	list     []*entry // the transports, in no order; entry.pos indexes it
	sets     []*labelSet
	index    map[labelKey]int // label values → index in sets
	regular  int              // label sets other than the overflow one
	overflow int              // index of the overflow label set, or -1

	scrapeMu sync.Mutex // one Collect at a time: it owns the buffers below
	scratch  []*entry
	acc      []accum
	out      []counts
	values   [][]string
}

// entry is one transport in the collector.
type entry struct {
	src     Source
	backend string
	first   string // the URI of the server tr tries first, or ""

	pos int // in Collector.list; under Collector.mu

	mu      sync.Mutex // guards the fields below
	last    counts     // the counts at the last read
	set     int        // the label set the transport is counted in; -1 until the first read
	uri     string     // the server URI that set was chosen for; "" for the first server
	removed bool
}

// labelSet is one {backend, server} pair and what its series count.
type labelSet struct {
	values []string // backend, server: the label values, in Desc order
	total  counts
}

type labelKey struct{ backend, server string }

// accum is what one scrape gathers for one label set.
type accum struct {
	inc    counts
	status [len(statuses)]int
}

// New returns an empty collector.
func New(opts Options) *Collector {
	ns := opts.Namespace
	if ns == "" {
		ns = "sipws"
	}
	max := opts.MaxLabelSets
	if max <= 0 {
		max = DefaultMaxLabelSets
	}
	return &Collector{
		d:        newDescs(ns),
		max:      max,
		entries:  make(map[Source]*entry),
		index:    make(map[labelKey]int),
		overflow: -1,
	}
}

// Add adds tr to the collector with the given backend label, and reports
// whether it was added: false if tr is already in the collector, whose
// label is then unchanged. From now on its counters add to its label set's
// series; what it counted before Add is not counted. The backend label
// names a kind or pool of transports ("ws", "gobwas"), a constant of the
// program: it is never per user.
//
// tr must be comparable (a pointer, as *transport.Base or *ws.Transport),
// and Remove must be given the same value. Add calls tr.Config once, when
// tr has that method (see Source).
func (c *Collector) Add(tr Source, backend string) bool {
	backend = labelValue(backend)
	e := &entry{src: tr, backend: backend, first: firstServer(tr), set: -1}
	s := tr.Stats()
	e.last.read(&s)

	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[tr]; ok {
		return false
	}
	e.pos = len(c.list)
	c.list = append(c.list, e)
	c.entries[tr] = e
	return true
}

// Remove removes tr from the collector and reports whether it was there.
// What tr counted since the last scrape is added to its label set first, so
// its series keep every count tr made while in the collector and never go
// backwards.
func (c *Collector) Remove(tr Source) bool {
	c.mu.Lock()
	e, ok := c.entries[tr]
	if ok {
		delete(c.entries, tr)
		last := c.list[len(c.list)-1]
		c.list[e.pos], last.pos = last, e.pos
		c.list[len(c.list)-1] = nil
		c.list = c.list[:len(c.list)-1]
	}
	c.mu.Unlock()
	if !ok {
		return false
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	var inc counts
	set := c.labelSet(e)
	e.readInto(&inc)
	e.removed = true
	c.mu.Lock()
	c.sets[set].total.add(&inc)
	c.mu.Unlock()
	return true
}

// Len returns the number of transports in the collector.
func (c *Collector) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.list)
}

// Describe implements prometheus.Collector: it sends every descriptor, so
// the collector is checked at registration.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { c.d.describe(ch) }

// Collect implements prometheus.Collector. It reads every transport once
// and sends a fixed number of metrics per label set. Only the copy of the
// list of transports holds the collector's lock; each transport is read
// under its own.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.scrapeMu.Lock()
	defer c.scrapeMu.Unlock()

	c.mu.Lock()
	c.scratch = append(c.scratch[:0], c.list...)
	c.mu.Unlock()

	for _, e := range c.scratch {
		e.mu.Lock()
		if e.removed {
			e.mu.Unlock()
			continue
		}
		status := e.src.Status()
		set := c.labelSet(e)
		if set >= len(c.acc) {
			c.acc = append(c.acc, make([]accum, set+1-len(c.acc))...)
		}
		a := &c.acc[set]
		e.readInto(&a.inc)
		e.mu.Unlock()
		if int(status) >= 0 && int(status) < len(a.status) {
			a.status[status]++
		}
	}
	clear(c.scratch) // hold no transport between scrapes

	// Fold the increases into the totals and copy them out, so that the
	// metrics are built without the lock.
	c.mu.Lock()
	for i := range c.acc {
		c.sets[i].total.add(&c.acc[i].inc)
	}
	c.out, c.values = c.out[:0], c.values[:0]
	for _, s := range c.sets {
		c.out = append(c.out, s.total)
		c.values = append(c.values, s.values)
	}
	c.mu.Unlock()

	var none [len(statuses)]int
	for i := range c.out {
		status := &none
		if i < len(c.acc) {
			status = &c.acc[i].status
		}
		c.d.emit(ch, c.values[i], &c.out[i], status)
	}
	clear(c.acc)
}

// labelSet returns the label set e's transport counts in now: the one of
// the server it is on, or else the one it was in, or else the one of its
// first server. The set is looked up only when that changes, so a steady
// scrape neither takes c.mu per transport nor allocates. The caller holds
// e.mu.
func (c *Collector) labelSet(e *entry) int {
	if srv, ok := e.src.Server(); ok && (srv.URI != e.uri || e.set < 0) {
		c.mu.Lock()
		e.set = c.labelSetLocked(e.backend, srv.URI)
		c.mu.Unlock()
		e.uri = srv.URI
	} else if e.set < 0 {
		c.mu.Lock()
		e.set = c.labelSetLocked(e.backend, e.first)
		c.mu.Unlock()
	}
	return e.set
}

// readInto adds to dst the increase of e's counters since the last read.
// The caller holds e.mu.
func (e *entry) readInto(dst *counts) {
	s := e.src.Stats()
	var now counts
	now.read(&s)
	dst.addIncrease(&now, &e.last)
	e.last = now
}

// labelSetLocked returns the index of the label set of backend and server
// URI uri, creating it, or the overflow set when there are too many. The
// caller holds c.mu.
func (c *Collector) labelSetLocked(backend, uri string) int {
	k := labelKey{backend, serverLabel(uri)}
	if i, ok := c.index[k]; ok {
		return i
	}
	if c.regular >= c.max {
		if c.overflow < 0 {
			c.overflow = len(c.sets)
			c.sets = append(c.sets, &labelSet{values: []string{Overflow, Overflow}})
		}
		return c.overflow
	}
	// Copies, so that a label does not pin a larger string.
	k = labelKey{strings.Clone(k.backend), strings.Clone(k.server)}
	c.index[k] = len(c.sets)
	c.sets = append(c.sets, &labelSet{values: []string{k.backend, k.server}})
	c.regular++
	return len(c.sets) - 1
}
