package sipwsprom_test

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipws/sipws/dialer/dialertest"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipwsprom"
	"github.com/sipws/sipws/transport"
)

// A collector registered with a registry, over two transports: one OPEN,
// one not yet connected. In a program the transports come from ws.New or
// wsgobwas.New, and the registry is served with promhttp.HandlerFor.
func Example() {
	n := new(dialertest.Network) // an in-memory server, for the example
	l := n.Listen("ws://edge.test:80", nil)
	defer l.Wait()

	metrics := sipwsprom.New(sipwsprom.Options{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)

	servers, _ := selector.Parse("ws://edge.test")
	ctx := context.Background()
	for _, connect := range []bool{true, false} {
		tr, err := transport.NewBase(transport.Config{Servers: servers}, n)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer tr.Disconnect(ctx)
		metrics.Add(tr, "ws") // and metrics.Remove(tr) once it is done with
		if connect {
			if err := tr.Connect(ctx); err != nil {
				fmt.Println(err)
				return
			}
		}
	}

	families, err := reg.Gather()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, mf := range families {
		for _, m := range mf.Metric {
			var v float64
			switch {
			case mf.GetName() == "sipws_transports":
				v = m.GetGauge().GetValue()
			case mf.GetName() == "sipws_dials_total", mf.GetName() == "sipws_connects_total":
				v = m.GetCounter().GetValue()
			default:
				continue
			}
			fmt.Print(mf.GetName(), "{")
			for i, lp := range m.Label {
				if i > 0 {
					fmt.Print(",")
				}
				fmt.Printf("%s=%q", lp.GetName(), lp.GetValue())
			}
			fmt.Println("}", v)
		}
	}
	// Output:
	// sipws_connects_total{backend="ws",server="ws://edge.test:80"} 1
	// sipws_dials_total{backend="ws",server="ws://edge.test:80"} 1
	// sipws_transports{backend="ws",server="ws://edge.test:80",status="CLOSED"} 1
	// sipws_transports{backend="ws",server="ws://edge.test:80",status="CLOSING"} 0
	// sipws_transports{backend="ws",server="ws://edge.test:80",status="CONNECTING"} 0
	// sipws_transports{backend="ws",server="ws://edge.test:80",status="OPEN"} 1
}
