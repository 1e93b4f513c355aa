package sipwsprom_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/sipwsprom"
	"github.com/sipws/sipws/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// registrar answers every request with 200 OK and every CRLF ping with a
// pong, as a SIP server over WebSocket does.
func registrar(c *dialertest.ServerConn) {
	for {
		p, err := c.ReadMessage()
		if err != nil {
			return
		}
		if string(p) == "\r\n\r\n" {
			c.WriteMessage([]byte("\r\n"))
			continue
		}
		var req sipmsg.Message
		if req.Parse(p) == nil && req.IsRequest() {
			c.WriteMessage(sipmsg.AppendResponse(nil, &req, 200, "OK", "srv"))
		}
	}
}

// register is a REGISTER from user; ok is the 200 OK registrar answers.
func register(user string, cseq int) (req, ok []byte) {
	req = fmt.Appendf(nil, "REGISTER sip:edge.test SIP/2.0\r\n"+
		"Via: SIP/2.0/WS ua.invalid;branch=z9hG4bK%s%d\r\n"+
		"To: <sip:%s@edge.test>\r\nFrom: <sip:%s@edge.test>;tag=a1\r\n"+
		"Call-ID: %s-reg\r\nCSeq: %d REGISTER\r\nContent-Length: 0\r\n\r\n", user, cseq, user, user, user, cseq)
	var m sipmsg.Message
	if err := m.Parse(req); err != nil {
		panic(err)
	}
	return req, sipmsg.AppendResponse(nil, &m, 200, "OK", "srv")
}

// newTransport returns a transport over n on the given servers ("URI" or
// "URI;weight"), disconnected at the end of the test.
func newTransport(tb testing.TB, n *dialertest.Network, cfg transport.Config, servers ...string) *transport.Base {
	tb.Helper()
	cfg.Servers = parseServers(tb, servers...)
	tr, err := transport.NewBase(cfg, n)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tr.Disconnect(context.Background()) })
	return tr
}

// parseServers parses "URI" or "URI;weight" specs.
func parseServers(tb testing.TB, specs ...string) selector.Servers {
	tb.Helper()
	var out selector.Servers
	for _, s := range specs {
		uri, w, _ := strings.Cut(s, ";")
		weight := 0
		if w != "" {
			if _, err := fmt.Sscan(w, &weight); err != nil {
				tb.Fatal(s, err)
			}
		}
		srv, err := selector.ParseServer(uri, weight)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, srv)
	}
	return out
}

// scrape gathers c through a pedantic registry and returns every sample
// by "name{label=value,...}"; a histogram gives name_count, name_sum and
// name_bucket{...,le=...}.
func scrape(tb testing.TB, c prometheus.Collector) map[string]float64 {
	tb.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		tb.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	out := make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			labels := labelString(m.Label)
			switch {
			case m.Counter != nil:
				out[mf.GetName()+labels] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[mf.GetName()+labels] = m.Gauge.GetValue()
			case m.Histogram != nil:
				h := m.Histogram
				out[mf.GetName()+"_count"+labels] = float64(h.GetSampleCount())
				out[mf.GetName()+"_sum"+labels] = h.GetSampleSum()
				for _, b := range h.Bucket {
					le := append(slices.Clone(m.Label), &dto.LabelPair{Name: new("le"), Value: new(fmt.Sprint(b.GetUpperBound()))})
					out[mf.GetName()+"_bucket"+labelString(le)] = float64(b.GetCumulativeCount())
				}
			}
		}
	}
	return out
}

func labelString(ls []*dto.LabelPair) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.GetName() + "=" + l.GetValue()
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// fake is a Source whose counters a test sets.
type fake struct {
	mu     sync.Mutex
	stats  transport.Stats
	status atomic.Int32
	server atomic.Pointer[selector.Server]
}

func (f *fake) Stats() transport.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

func (f *fake) Status() transport.Status { return transport.Status(f.status.Load()) }

func (f *fake) Server() (selector.Server, bool) {
	if s := f.server.Load(); s != nil {
		return *s, true
	}
	return selector.Server{}, false
}

func (f *fake) update(fn func(s *transport.Stats)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(&f.stats)
}

// open puts f OPEN on uri.
func (f *fake) open(uri string) {
	f.server.Store(&selector.Server{URI: uri})
	f.status.Store(int32(transport.StatusOpen))
}

var _ sipwsprom.Source = (*fake)(nil)
