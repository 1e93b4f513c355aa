package bench

import (
	"fmt"
	"strings"
)

// request is a 700-byte SIP request, response a 450-byte answer to it that
// passes the transport's sanity checks.
var (
	request = pad("INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"+
		"Via: SIP/2.0/WS 69b44d5a.invalid;branch=z9hG4bK7b7eb38f58f6\r\n"+
		"Max-Forwards: 70\r\n"+
		"To: <sip:bob@127.0.0.1>\r\n"+
		"From: \"Alice\" <sip:alice@127.0.0.1>;tag=5d7e2b10\r\n"+
		"Call-ID: 6c1a4e22b0d9f3a7\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Contact: <sip:alice@69b44d5a.invalid;transport=ws;ob>\r\n"+
		"Allow: ACK,CANCEL,INVITE,MESSAGE,BYE,OPTIONS,INFO,NOTIFY,REFER\r\n"+
		"Supported: outbound\r\n"+
		"User-Agent: sipws-bench\r\n", 700)
	response = pad("SIP/2.0 200 OK\r\n"+
		"Via: SIP/2.0/WS 69b44d5a.invalid;branch=z9hG4bK7b7eb38f58f6;rport=57360;received=127.0.0.1\r\n"+
		"To: <sip:bob@127.0.0.1>;tag=a45363010201c126\r\n"+
		"From: \"Alice\" <sip:alice@127.0.0.1>;tag=5d7e2b10\r\n"+
		"Call-ID: 6c1a4e22b0d9f3a7\r\n"+
		"CSeq: 1 INVITE\r\n"+
		"Contact: <sip:bob@7c1e09aa.invalid;transport=ws>\r\n", 450)
)

// pad completes a header block to exactly n bytes with a filler header,
// then the blank line and no body.
func pad(head string, n int) []byte {
	const end = "Content-Length: 0\r\n\r\n"
	filler := n - len(head) - len(end) - len("X-Pad: \r\n")
	if filler < 0 {
		panic(fmt.Sprintf("bench: message head of %d bytes does not fit in %d", len(head), n))
	}
	return []byte(head + "X-Pad: " + strings.Repeat("p", filler) + "\r\n" + end)
}
