package selector_test

import (
	"encoding/json"
	"fmt"

	"github.com/sipws/sipws/selector"
)

// A SIP.js configuration lists its WebSocket servers in any of the
// wsServers forms; the selector tries the highest weight first and falls
// back as servers are marked in error.
func Example() {
	config := []byte(`{
		"wsServers": [
			{"wsUri": "wss://Edge1.example.com/ws", "weight": 10},
			{"wsUri": "wss://edge2.example.com:8443/ws?key=1234", "weight": 5},
			"ws://[2001:db8::1]:5066"
		]
	}`)
	var cfg struct {
		Servers selector.Servers `json:"wsServers"`
	}
	if err := json.Unmarshal(config, &cfg); err != nil {
		fmt.Println(err)
		return
	}

	sel := selector.New(cfg.Servers)
	for {
		srv, ok := sel.Next()
		if !ok {
			fmt.Println("no server available")
			break
		}
		fmt.Printf("try %s (weight %d, host %s, route %s)\n", srv, srv.Weight, srv.Host(), srv.SIPURI)
		sel.MarkError(srv) // as the transport does once its retries fail
	}
	sel.Reset()
	srv, _ := sel.Next()
	fmt.Println("after Reset:", srv)
	// Output:
	// try wss://edge1.example.com:443/ws (weight 10, host edge1.example.com, route <sip:edge1.example.com;transport=ws;lr>)
	// try wss://edge2.example.com:8443/ws?key=1234 (weight 5, host edge2.example.com, route <sip:edge2.example.com:8443;transport=ws;lr>)
	// try ws://[2001:db8::1]:5066 (weight 0, host 2001:db8::1, route <sip:[2001:db8::1]:5066;transport=ws;lr>)
	// no server available
	// after Reset: wss://edge1.example.com:443/ws
}

// Errors name the offending entry and wrap a cause for errors.Is.
func ExampleParse() {
	_, err := selector.Parse("wss://a.example.com", "ws://b.example.com", "http://x")
	fmt.Println(err)
	// Output:
	// selector: wsServers[2] "http://x": scheme must be ws or wss
}
