// Package dialertest is an in-memory dialer.Dialer and its server side,
// for testing the code above a transport (a SIP stack, a registrar client,
// a failover policy) the way net/http/httptest and testing/fstest.MapFS
// serve HTTP and file-system code.
//
// A Network is a dialer.Dialer whose servers are handlers in the same
// process, one Listener per URL. Whole messages move over channels, so no
// socket is opened, and inside a testing/synctest bubble every timer of a
// transport (ConnectionTimeout, the reconnection schedule, recovery,
// keepalives and their pong timeout, failback) runs in virtual time: a
// 30 s keepalive period passes in microseconds, exactly.
//
//	func TestReRegistersAfterFailover(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			n := dialertest.NewNetwork(t)
//			primary := n.Listen("ws://edge1:80", handler)
//			n.Listen("ws://edge2:80", handler)
//			tr, _ := transport.NewBase(cfg, n) // cfg lists both URLs
//			defer tr.Disconnect(context.Background())
//			tr.Connect(context.Background())
//			primary.SetMode(dialertest.Refuse)
//			primary.DropAll()
//			synctest.Wait() // the transport has failed over
//			...
//		})
//	}
//
// # The contract, enforced
//
// The connections a Network returns hold their caller to dialer.Conn's
// rules, so a test of code that talks to a Conn directly (a backend
// wrapper, a middleware) fails when the code breaks them: two ReadMessage
// calls at once, or two writes at once (WriteMessage or Ping), are reported
// through the testing.TB given to NewNetwork (a zero Network panics
// instead), and under the race detector any two writes or reads that are
// not ordered by synchronisation are reported as a data race even when
// they did not overlap. A message is refused above Options.MaxSendSize, and
// a received one above Options.MaxMessageSize closes with 1009, as a real
// backend does.
//
// The client side answers the server's pings with pongs, and has the
// dialer.Pinger ability, so keepalive.WebSocketPing works over it. The
// server side (ServerConn) answers the client's pings unless told not to,
// and records what it saw: the dial's Options, the pings, the client's
// close code and reason.
package dialertest
