package keepalive_test

import (
	"fmt"
	"time"

	"github.com/sipws/sipws/keepalive"
)

// A read loop hands every incoming message to Received first. Keepalive
// traffic is consumed there, and a server's ping is answered through Send;
// anything else is left to the SIP stack. The pings themselves are sent by
// timers once Start is called with an Interval (here 0, so the output does
// not depend on time).
func Example() {
	k := keepalive.New(keepalive.Config{
		Interval:    0, // e.g. 30 * time.Second; 0 = no pings of our own
		Debounce:    10 * time.Second,
		PongTimeout: 10 * time.Second,
		Send: func(p []byte) error {
			fmt.Printf("  send %q\n", p)
			return nil
		},
		OnFailure: func() { fmt.Println("flow failed: close the connection and reconnect") },
	})
	k.Start()
	defer k.Stop()

	for _, msg := range []string{
		"\r\n\r\n", // the server pings: answered with a pong
		"\r\n",     // a pong: consumed, not answered
		"OPTIONS sip:alice@example.com SIP/2.0\r\n\r\n",
	} {
		if k.Received([]byte(msg)) {
			fmt.Printf("%q: keepalive\n", msg)
			continue
		}
		fmt.Printf("%q: SIP, deliver\n", msg)
	}
	// Output:
	//   send "\r\n"
	// "\r\n\r\n": keepalive
	// "\r\n": keepalive
	// "OPTIONS sip:alice@example.com SIP/2.0\r\n\r\n": SIP, deliver
}

// IsKeepalive classifies a message without any state.
func ExampleIsKeepalive() {
	for _, msg := range []string{"", "\r\n", "\n", "\r\n\r\n\r\n", " \r\n", "SIP/2.0 200 OK\r\n\r\n"} {
		fmt.Printf("%q %v\n", msg, keepalive.IsKeepalive([]byte(msg)))
	}
	// Output:
	// "" false
	// "\r\n" true
	// "\n" true
	// "\r\n\r\n\r\n" true
	// " \r\n" false
	// "SIP/2.0 200 OK\r\n\r\n" false
}
