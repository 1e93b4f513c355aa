package sipmsg_test

import (
	"fmt"
	"strings"

	"github.com/sipws/sipws/sipmsg"
)

// A transport's receive path: parse the message of one WebSocket frame,
// run the sanity checks, and read what the SIP stack needs. The message is
// Kamailio's answer to a REGISTER over WebSocket.
func Example() {
	frame := []byte("SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bKa93c095d8dff;rport=57360;received=127.0.0.1\r\n" +
		"From: <sip:alice@127.0.0.1>;tag=00b97c13\r\n" +
		"To: <sip:alice@127.0.0.1>;tag=a45363010201c12697c26728a1ea42a4.ac460000\r\n" +
		"Call-ID: 88860359b61ea462\r\n" +
		"CSeq: 1 REGISTER\r\n" +
		"Contact: <sip:alice@4a42f405.invalid;transport=ws>;expires=600\r\n" +
		"Server: kamailio (5.6.3 (x86_64/linux))\r\n" +
		"Content-Length: 0\r\n\r\n")

	var m sipmsg.Message // reuse it for every message
	if err := m.Parse(frame); err != nil {
		fmt.Println("dropped:", err)
		return
	}
	fmt.Println("status:", m.StatusCode(), string(m.Reason()))
	fmt.Println("Call-ID:", string(m.Header("i"))) // compact form of Call-ID
	fmt.Println("check:", sipmsg.Check(&m, "4a42f405.invalid"))
	host, port := sipmsg.ViaHostPort(m.TopVia())
	fmt.Printf("top Via host %s, port %q\n", host, port)
	// Output:
	// status: 200 OK
	// Call-ID: 88860359b61ea462
	// check: ok
	// top Via host 4a42f405.invalid, port ""
}

// A request whose Request-URI is not a sip URI fails Check; the transport
// answers it statelessly with 416, copying the Vias, To (with a tag), From,
// Call-ID and CSeq.
func ExampleAppendResponse() {
	req := []byte("MESSAGE tel:+1-201-555-0123 SIP/2.0\r\n" +
		"Via: SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK4c86.0\r\n" +
		"Via: SIP/2.0/WS 4a42f405.invalid;rport=57360;received=127.0.0.1;branch=z9hG4bK9089\r\n" +
		"From: <sip:alice@127.0.0.1>;tag=3e7554fe\r\n" +
		"To: <sip:bob@127.0.0.1>\r\n" +
		"Call-ID: 3e2c0acf181f08f8\r\n" +
		"CSeq: 3 MESSAGE\r\n" +
		"Content-Length: 0\r\n\r\n")

	var m sipmsg.Message
	if err := m.Parse(req); err != nil {
		fmt.Println(err)
		return
	}
	problem := sipmsg.Check(&m, "")
	code, reason := problem.Status()
	fmt.Println(problem, code)
	if code != 0 && m.IsRequest() && string(m.Method()) != "ACK" {
		buf := make([]byte, 0, 512) // reused in a real transport
		buf = sipmsg.AppendResponse(buf, &m, code, reason, "8a1f")
		// The answer's lines end in CRLF; print them one per line.
		fmt.Print(strings.ReplaceAll(string(buf), "\r\n", "\n"))
	}
	// Output:
	// unsupported Request-URI scheme 416
	// SIP/2.0 416 Unsupported URI Scheme
	// Via: SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK4c86.0
	// Via: SIP/2.0/WS 4a42f405.invalid;rport=57360;received=127.0.0.1;branch=z9hG4bK9089
	// To: <sip:bob@127.0.0.1>;tag=8a1f
	// From: <sip:alice@127.0.0.1>;tag=3e7554fe
	// Call-ID: 3e2c0acf181f08f8
	// CSeq: 3 MESSAGE
	// Content-Length: 0
}

// Values splits list headers at commas, across lines, ignoring commas in
// quotes and brackets.
func ExampleMessage_Values() {
	var m sipmsg.Message
	err := m.Parse([]byte("SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK1, SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK2\r\n" +
		"v: SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bK3\r\n" +
		"m: \"Bob, B.\" <sip:bob@b.invalid;transport=ws>, <sip:bob@192.0.2.9>\r\n\r\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for v := range m.Values("Via") {
		fmt.Println(string(v))
	}
	for c := range m.Values("Contact") {
		fmt.Println(string(c))
	}
	fmt.Println(m.ViaCount(), "Vias on", m.HeaderCount("Via"), "lines")
	// Output:
	// SIP/2.0/WS  127.0.0.1:18080;branch=z9hG4bK1
	// SIP/2.0/UDP 192.0.2.4;branch=z9hG4bK2
	// SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bK3
	// "Bob, B." <sip:bob@b.invalid;transport=ws>
	// <sip:bob@192.0.2.9>
	// 3 Vias on 2 lines
}

// A transport's SIP trace logs each message with its credentials
// redacted, folded continuation lines included, before it even parses the
// message.
func ExampleAppendRedacted() {
	msg := []byte("REGISTER sip:127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bKa93c095d8dff\r\n" +
		"Authorization: Digest username=\"alice\", realm=\"127.0.0.1\",\r\n" +
		" nonce=\"Z1r6Y2VjZ2Vm\", uri=\"sip:127.0.0.1\",\r\n" +
		" response=\"6629fae49393a05397450978507c4ef1\"\r\n" +
		"CSeq: 2 REGISTER\r\n" +
		"Content-Length: 0\r\n\r\n")

	buf := make([]byte, 0, 512) // reused in a real transport
	buf = sipmsg.AppendRedacted(buf, msg)
	fmt.Print(strings.ReplaceAll(string(buf), "\r\n", "\n"))
	// Output:
	// REGISTER sip:127.0.0.1 SIP/2.0
	// Via: SIP/2.0/WS 4a42f405.invalid;branch=z9hG4bKa93c095d8dff
	// Authorization: Digest <redacted>
	// CSeq: 2 REGISTER
	// Content-Length: 0
}
