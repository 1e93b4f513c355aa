// Package bench measures the cost of a SIP message through sipws, side by
// side in one run with what it competes against: a raw-TCP floor (a 4-byte
// length prefix per message), plain gorilla/websocket and plain gobwas/ws
// clients (no sipws), and the full sipws Transport on each backend.
//
// It holds benchmarks only:
//
//	go test -run '^$' -bench . -benchmem ./internal/bench
//	bash .ci/bench     # 6 interleaved rounds, a table of medians and ratios to the floor
//
// Every client talks to one in-process server on 127.0.0.1 that allocates
// nothing per message, so allocs/op is the client's. The messages are a
// 700-byte SIP request and a 450-byte response. Send is one-way and
// pipelined (the server drains), Receive has the server push and the
// client deliver (sipws: parse, sanity checks and the Message callback
// included), PingPong is a request and its response (sipws: the next
// request is sent from the Message callback, as a SIP stack would).
// Idle measures the heap and stacks one idle OPEN connection holds, with a
// keepalive schedule running, against a server in a child process so that
// only the client's memory is counted.
package bench
