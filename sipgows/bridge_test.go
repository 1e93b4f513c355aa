package sipgows

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipws/sipws/conformance/sipserver"
	"github.com/sipws/sipws/sipmsg"
	"go.uber.org/goleak"
)

// e2eCase is one behaviour of sipgo over the bridge, against the loopback
// sipserver, checked on both backends.
type e2eCase struct {
	name string
	rule string // what must hold, and why
	opts rigOptions
	run  func(t *testing.T, r *rig)
}

var e2eCases = []e2eCase{
	{
		name: "OptionsDo",
		rule: "sipgo's Client.Do(OPTIONS) gets its 200 through the bridge and the transport; the Via sipgo " +
			"wrote has the bridge's host and no port, so the transport's ViaHost check lets the 200 through",
		run: testOptionsDo,
	},
	{
		name: "RegisterTransaction",
		rule: "Client.TransactionRequest(REGISTER) gets its 200 on tx.Responses()",
		run:  testRegisterTransaction,
	},
	{
		name: "InboundMessage",
		rule: "a MESSAGE the server sends reaches a sipgo.Server handler (even one that arrived before " +
			"sipgo opened a pipe: it waits in the queue), and the handler's 200 goes back to the server",
		run: testInboundMessage,
	},
	{
		name: "Dialog",
		rule: "a DialogClientSession INVITE / 200 / ACK / BYE completes; the ACK and BYE go to another " +
			"address, so sipgo opens a second pipe, whose traffic is relayed too, while the BYE's 200 comes " +
			"back on the primary pipe",
		run: testDialog,
	},
	{
		name: "LargeInboundRefused",
		rule: "a 40 KiB message from the server, larger than sipgo reads (sip.TransportBufferReadSize, 32 KiB), " +
			"is refused whole and reported to MessageDropped as *TooLargeError, and the next one is delivered",
		run: testLargeInboundRefused,
	},
	{
		name: "LargeOutbound",
		rule: "a 40 KiB MESSAGE from sipgo reaches the server whole (sipgo writes any size; the transport's " +
			"send limit is 64 KiB)",
		run: testLargeOutbound,
	},
	{
		name: "BinaryAndFragmentedFrames",
		rule: "a message the server sends in a binary frame, and one it fragments around a Ping with a payload " +
			"(Kamailio's keepalive), reach sipgo whole, and so does the message after them; sipgo v1.7.3's own " +
			"client drops the first, loses the second and the third",
		run: testBinaryAndFragmented,
	},
	{
		name: "QueueOverflow",
		rule: "while something in sipgo's reading goroutine is slow, the transport goes on reading (the bridge " +
			"never blocks its event goroutine): messages beyond QueueLen are dropped and reported with " +
			"ErrQueueFull, and every other one is delivered and answered",
		opts: rigOptions{queueLen: 4},
		run:  testQueueOverflow,
	},
}

func TestEndToEnd(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			for _, c := range e2eCases {
				t.Run(c.name, func(t *testing.T) {
					t.Cleanup(func() {
						if t.Failed() {
							t.Log("rule: " + c.rule)
						}
					})
					c.run(t, newRig(t, be.new, c.opts))
				})
			}
		})
	}
}

func testOptionsDo(t *testing.T, r *rig) {
	req := newRequest(r.b, sip.OPTIONS, "")
	res, err := r.client.Do(testCtx(t), req)
	if err != nil {
		t.Fatalf("Do(OPTIONS): %v", err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("Do(OPTIONS) = %q, want 200", res.StartLine())
	}
	callID := req.CallID().Value()
	got := r.waitReceived(t, "the OPTIONS", isRequest("OPTIONS", callID))
	var m sipmsg.Message
	if err := m.Parse(got); err != nil {
		t.Fatal(err)
	}
	host, port := sipmsg.ViaHostPort(m.TopVia())
	if string(host) != testViaHost || port != nil || !bytes.HasPrefix(m.TopVia(), []byte("SIP/2.0/WS "+testViaHost+";")) {
		t.Errorf("Via %q: sent-by host %q port %q, want SIP/2.0/WS %s with no port", m.TopVia(), host, port, testViaHost)
	}
	if st := r.tr.Stats(); st.Dropped != 0 {
		t.Errorf("transport dropped %d messages, want 0 (the 200 passes the ViaHost check)", st.Dropped)
	}
	if st := r.b.Stats(); st.MessagesOut != 1 || st.MessagesIn != 1 || st.PipesOpened != 1 || st.Pipes != 1 {
		t.Errorf("bridge stats %+v, want 1 message each way over 1 pipe", st)
	}
}

func testRegisterTransaction(t *testing.T, r *rig) {
	req := newRequest(r.b, sip.REGISTER, "alice")
	req.AppendHeader(sip.NewHeader("Contact", "<sip:alice@"+r.b.Host()+";transport=ws>"))
	expires := sip.ExpiresHeader(600)
	req.AppendHeader(&expires)
	ctx := testCtx(t)
	tx, err := r.client.TransactionRequest(ctx, req, sipgo.ClientRequestRegisterBuild)
	if err != nil {
		t.Fatalf("TransactionRequest(REGISTER): %v", err)
	}
	defer tx.Terminate()
	select {
	case res := <-tx.Responses():
		if res.StatusCode != 200 {
			t.Fatalf("REGISTER answered %q, want 200", res.StartLine())
		}
	case <-tx.Done():
		t.Fatalf("REGISTER transaction ended: %v", tx.Err())
	case <-ctx.Done():
		t.Fatal("no answer to the REGISTER")
	}
	got := r.waitReceived(t, "the REGISTER", isRequest("REGISTER", req.CallID().Value()))
	if !bytes.Contains(got, []byte("Contact: <sip:alice@"+testViaHost+";transport=ws>")) {
		t.Errorf("REGISTER as the server got it:\n%s\nwant the Contact on the bridge's host", got)
	}
}

// onMessage installs a MESSAGE handler that answers 200 and hands each
// request on.
func (r *rig) onMessage() <-chan *sip.Request {
	got := make(chan *sip.Request, 64)
	r.server.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil)); err != nil {
			panic(fmt.Sprintf("respond: %v", err))
		}
		got <- req
	})
	return got
}

func receive(t *testing.T, got <-chan *sip.Request, what string) *sip.Request {
	t.Helper()
	select {
	case req := <-got:
		return req
	case <-time.After(wait):
		t.Fatalf("sipgo: no %s within %v", what, wait)
		return nil
	}
}

func testInboundMessage(t *testing.T, r *rig) {
	got := r.onMessage()
	c := r.conn(t)
	// Before sipgo has any pipe: the message waits in the queue.
	if err := c.Send(inbound("early", "before any pipe")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.client.Do(testCtx(t), newRequest(r.b, sip.OPTIONS, "")); err != nil {
		t.Fatalf("Do(OPTIONS): %v", err)
	}
	if err := c.Send(inbound("m1", "hello alice")); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"early": "before any pipe", "m1": "hello alice"}
	bodies := map[string]string{}
	for range want { // handlers run on goroutines of their own, in any order
		req := receive(t, got, "a MESSAGE")
		bodies[req.CallID().Value()] = string(req.Body())
		if req.Source() != Destination {
			t.Errorf("MESSAGE came from %q, want the primary pipe %s", req.Source(), Destination)
		}
	}
	if !maps.Equal(bodies, want) {
		t.Errorf("handler got bodies by Call-ID %q, want %q", bodies, want)
	}
	for callID := range want {
		res := r.waitReceived(t, "the 200 to "+callID, isResponse(200, callID))
		var m sipmsg.Message
		if err := m.Parse(res); err != nil || m.ViaCount() != 2 {
			t.Errorf("200 to the MESSAGE:\n%s\nwant both Vias of the request", res)
		}
	}
}

func testDialog(t *testing.T, r *rig) {
	contact := sip.ContactHeader{Address: sip.Uri{User: "alice", Host: r.b.Host(), UriParams: sip.NewParams()}}
	contact.Address.UriParams.Add("transport", "ws")
	dc := sipgo.NewDialogClientCache(r.client, contact)
	inv := newRequest(r.b, sip.INVITE, "bob")
	inv.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	inv.SetBody([]byte("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"))
	ctx := testCtx(t)
	sess, err := dc.WriteInvite(ctx, inv)
	if err != nil {
		t.Fatalf("INVITE: %v", err)
	}
	defer sess.Close()
	if err := sess.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatalf("WaitAnswer: %v", err)
	}
	if err := sess.Ack(ctx); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	if err := sess.Bye(ctx); err != nil { // nil only on a 200
		t.Fatalf("BYE: %v", err)
	}
	callID := inv.CallID().Value()
	for _, method := range []string{"INVITE", "ACK", "BYE"} {
		r.waitReceived(t, "the "+method, isRequest(method, callID))
	}
	if st := r.b.Stats(); st.PipesOpened != 2 || st.Pipes != 2 || st.MessagesOut != 3 || st.MessagesIn != 2 {
		t.Errorf("bridge stats %+v; want 2 pipes (Destination, then the ACK's and BYE's 127.0.0.1:80), "+
			"3 messages out (INVITE, ACK, BYE) and 2 in (the two 200s)", st)
	}
}

const largeBody = 40 << 10

func testLargeInboundRefused(t *testing.T, r *rig) {
	got := r.onMessage()
	if _, err := r.client.Do(testCtx(t), newRequest(r.b, sip.OPTIONS, "")); err != nil {
		t.Fatalf("Do(OPTIONS): %v", err)
	}
	c := r.conn(t)
	big := inbound("big", strings.Repeat("x", largeBody))
	if err := c.Send(big); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(inbound("after", "small")); err != nil {
		t.Fatal(err)
	}
	if req := receive(t, got, "the MESSAGE after the large one"); req.CallID().Value() != "after" {
		t.Fatalf("handler got %q first, want only the small message (the large one is refused)", req.CallID().Value())
	}
	_, drops := r.ev.snapshot()
	var tl *TooLargeError
	if len(drops) != 1 || !errors.As(drops[0].reason, &tl) || !errors.Is(drops[0].reason, ErrTooLarge) ||
		tl.Size != len(big) || tl.Limit != int(sip.TransportBufferReadSize) || !bytes.Equal(drops[0].raw, big) {
		t.Errorf("drops reported %v, want one *TooLargeError for %d bytes, limit %d", drops, len(big), sip.TransportBufferReadSize)
	}
	if st := r.b.Stats(); st.TooLarge != 1 {
		t.Errorf("Stats.TooLarge = %d, want 1", st.TooLarge)
	}
}

// TestLargeInboundRaised: with sip.TransportBufferReadSize raised before
// New, as the package documentation says, sipgo reads a 40 KiB message
// whole.
func TestLargeInboundRaised(t *testing.T) {
	old := sip.TransportBufferReadSize
	sip.TransportBufferReadSize = 65535
	t.Cleanup(func() { sip.TransportBufferReadSize = old })
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			r := newRig(t, be.new, rigOptions{})
			got := r.onMessage()
			if _, err := r.client.Do(testCtx(t), newRequest(r.b, sip.OPTIONS, "")); err != nil {
				t.Fatalf("Do(OPTIONS): %v", err)
			}
			body := strings.Repeat("y", largeBody)
			if err := r.conn(t).Send(inbound("big", body)); err != nil {
				t.Fatal(err)
			}
			if req := receive(t, got, "the 40 KiB MESSAGE"); string(req.Body()) != body {
				t.Fatalf("handler got a body of %d bytes, want %d", len(req.Body()), len(body))
			}
			r.waitReceived(t, "the 200 to the large MESSAGE", isResponse(200, "big"))
		})
	}
}

func testLargeOutbound(t *testing.T, r *rig) {
	req := newRequest(r.b, sip.MESSAGE, "bob")
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
	body := strings.Repeat("z", largeBody)
	req.SetBody([]byte(body))
	res, err := r.client.Do(testCtx(t), req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("Do(40 KiB MESSAGE) = %v, %v; want 200", res, err)
	}
	got := r.waitReceived(t, "the large MESSAGE", isRequest("MESSAGE", req.CallID().Value()))
	var m sipmsg.Message
	if err := m.Parse(got); err != nil || string(m.Body()) != body {
		t.Errorf("server got a body of %d bytes, want %d", len(m.Body()), len(body))
	}
}

func testBinaryAndFragmented(t *testing.T, r *rig) {
	got := r.onMessage()
	if _, err := r.client.Do(testCtx(t), newRequest(r.b, sip.OPTIONS, "")); err != nil {
		t.Fatalf("Do(OPTIONS): %v", err)
	}
	c := r.conn(t)
	binary := "caf\xe9 \xff\xfe" // not UTF-8: the server sends a binary frame
	if err := c.Send(inbound("bin", binary)); err != nil {
		t.Fatal(err)
	}
	frag := inbound("frag", "in two fragments")
	half := len(frag) / 2
	ping := []byte("kamailio (5.6.3 (x86_64/linux))")
	for _, f := range []struct {
		op  sipserver.Opcode
		fin bool
		p   []byte
	}{{sipserver.OpText, false, frag[:half]}, {sipserver.OpPing, true, ping}, {sipserver.OpContinuation, true, frag[half:]}} {
		if err := c.SendFrame(f.op, f.fin, f.p); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Send(inbound("next", "the one after")); err != nil {
		t.Fatal(err)
	}
	// sipgo runs each request's handler on a goroutine of its own: the
	// order of the calls is not the order of arrival.
	want := map[string]string{"bin": binary, "frag": "in two fragments", "next": "the one after"}
	bodies := map[string]string{}
	for range want {
		req := receive(t, got, "a MESSAGE")
		bodies[req.CallID().Value()] = string(req.Body())
	}
	if !maps.Equal(bodies, want) {
		t.Errorf("handler got bodies by Call-ID %q, want %q", bodies, want)
	}
	if err := r.srv.Wait(testCtx(t), func() bool { return len(c.Pongs()) > 0 }); err != nil || !bytes.Equal(c.Pongs()[0], ping) {
		t.Errorf("pongs %q, want the ping's payload answered by the transport", c.Pongs())
	}
}

func testQueueOverflow(t *testing.T, r *rig) {
	const n = 20
	queueLen := r.b.Stats().Queued + cap(r.b.queue)
	got := r.onMessage()
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unblock) // a failed case must not leave sipgo's goroutine stuck for the next test
	var once sync.Once
	blocked := make(chan struct{})
	// A slow step inside sipgo's reading goroutine: transport layer
	// handlers run there, one message at a time.
	r.ua.TransportLayer().OnMessage(func(m sip.Message) {
		if req, ok := m.(*sip.Request); ok && req.Method == sip.MESSAGE {
			once.Do(func() { close(blocked) })
			<-release
		}
	})
	if _, err := r.client.Do(testCtx(t), newRequest(r.b, sip.OPTIONS, "")); err != nil {
		t.Fatalf("Do(OPTIONS): %v", err)
	}
	c := r.conn(t)
	var all []string
	for i := range n {
		id := fmt.Sprintf("q%02d", i)
		all = append(all, id)
		if err := c.Send(inbound(id, "burst")); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-blocked:
	case <-time.After(wait):
		t.Fatal("sipgo never read the first MESSAGE")
	}
	// sipgo holds one message and the transport reads all the others while
	// sipgo is stuck: each is queued or dropped. Either sipgo took the first
	// message before the burst filled the queue (queueLen queued, the rest
	// dropped), or the burst filled the queue first and sipgo then took one
	// from it (queueLen-1 queued, one more dropped).
	deadline := time.Now().Add(wait)
	for {
		_, drops := r.ev.snapshot()
		queued := r.b.Stats().Queued
		if len(drops)+queued == n-1 {
			if queued < queueLen-1 {
				t.Fatalf("%d drops reported with %d queued; want the queue (%d) full when sipgo took its message",
					len(drops), queued, queueLen)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %d drops reported, %d queued, 1 held by sipgo; want all %d messages accounted "+
				"for (the transport must go on reading while sipgo is stuck)", wait, len(drops), queued, n)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not waiting for a timer
	}
	unblock()

	_, drops := r.ev.snapshot()
	var dropped []string
	for _, d := range drops {
		var m sipmsg.Message
		if !errors.Is(d.reason, ErrQueueFull) || m.Parse(d.raw) != nil {
			t.Fatalf("drop reported with %v, want ErrQueueFull and the message's bytes", d.reason)
		}
		dropped = append(dropped, string(m.Header("Call-ID")))
	}
	var delivered []string
	for range n - len(dropped) {
		delivered = append(delivered, receive(t, got, "a queued MESSAGE").CallID().Value())
	}
	for _, id := range delivered {
		r.waitReceived(t, "the 200 to "+id, isResponse(200, id))
	}
	union := slices.Concat(delivered, dropped)
	slices.Sort(union)
	if !slices.Equal(union, all) {
		t.Errorf("delivered %v and dropped %v: want every message exactly once in one of them", delivered, dropped)
	}
	if st := r.b.Stats(); st.QueueDrops != uint64(len(dropped)) || st.MessagesIn < uint64(len(delivered)) {
		t.Errorf("stats %+v, want %d queue drops and at least %d in", st, len(dropped), len(delivered))
	}
	t.Logf("%d delivered, %d dropped with QueueLen %d", len(delivered), len(dropped), queueLen)
}

// TestCloseEndsEveryGoroutine: after the user agent, the bridge, the
// transport and the server are closed, no goroutine is left, whatever the
// bridge carried (two pipes, inbound and outbound traffic); and a closed
// bridge refuses new pipes.
func TestCloseEndsEveryGoroutine(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs after every other cleanup
			r := newRig(t, be.new, rigOptions{})
			got := r.onMessage()
			testDialog(t, r)
			if err := r.conn(t).Send(inbound("m", "x")); err != nil {
				t.Fatal(err)
			}
			receive(t, got, "the MESSAGE")

			if err := r.b.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if st := r.b.Stats(); st.Pipes != 0 || st.Queued != 0 {
				t.Errorf("after Close: stats %+v, want no pipe and nothing queued", st)
			}
			// Close alone ends sipgo's reading goroutines: its pipes are gone.
			if n := waitGoroutines(t, "sip.(*TransportWS).readConnection", 0); n != 0 {
				t.Errorf("after Close: %d sipgo WS reading goroutines, want 0", n)
			}
			_, err := r.client.Do(testCtx(t), newRequest(r.b, sip.OPTIONS, ""))
			if !errors.Is(err, ErrClosed) && !errors.Is(err, net.ErrClosed) {
				t.Errorf("Do after Close: %v, want an error wrapping ErrClosed or net.ErrClosed", err)
			}
			if _, err := r.b.netDial(testCtx(t), "tcp", Destination); !errors.Is(err, ErrClosed) {
				t.Errorf("dial after Close: %v, want ErrClosed", err)
			}
			if err := r.b.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// waitGoroutines waits, bounded, until at most want goroutines have fn on
// their stack, and returns how many there are.
func waitGoroutines(t *testing.T, fn string, want int) int {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		n := 0
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, fn) {
				n++
			}
		}
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(5 * time.Millisecond) // polling goroutines as they exit
	}
}
