package sipua

import (
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/sipws/sipws/sipmsg"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Every request the UA builds is well-formed and passes the transport's
// own sanity checks, with the WebSocket specifics of RFC 7118 §5.
func TestRequestsAreValidSIP(t *testing.T) {
	for _, secure := range []bool{false, true} {
		u := New("alice", "127.0.0.1", secure)
		u.UserAgent = "sipua-test"
		wantVia := "SIP/2.0/WS " + u.Host
		if secure {
			wantVia = "SIP/2.0/WSS " + u.Host
		}
		for _, r := range []Request{u.Register(600), u.Options(), u.Message("bob", "hello")} {
			var m sipmsg.Message
			if err := m.Parse(r.Raw); err != nil {
				t.Fatalf("%s does not parse: %v\n%s", r.Method, err, r.Raw)
			}
			if p := sipmsg.Check(&m, ""); p != sipmsg.OK {
				t.Errorf("%s fails the sanity check: %v", r.Method, p)
			}
			if got := string(m.Method()); got != r.Method {
				t.Errorf("method %q, want %q", got, r.Method)
			}
			if via := string(m.TopVia()); !strings.HasPrefix(via, wantVia) || !strings.Contains(via, "branch="+r.Branch) {
				t.Errorf("%s Via %q, want %s with branch %s", r.Method, via, wantVia, r.Branch)
			}
			if c := string(m.Header("Contact")); !strings.Contains(c, ";transport=ws>") {
				t.Errorf("%s Contact %q lacks transport=ws", r.Method, c)
			}
			if got := string(m.Header("User-Agent")); got != "sipua-test" {
				t.Errorf("User-Agent %q", got)
			}
			if n, ok := m.ContentLength(); !ok || n != len(m.Body()) {
				t.Errorf("%s Content-Length %d (%v), body %d bytes", r.Method, n, ok, len(m.Body()))
			}
		}
	}
}

func TestCSeqIncreasesAndIDsAreFresh(t *testing.T) {
	u := New("alice", "example.com", false)
	a, b := u.Options(), u.Options()
	if a.CSeq != 1 || b.CSeq != 2 {
		t.Errorf("CSeq %d, %d, want 1, 2", a.CSeq, b.CSeq)
	}
	if a.CallID == b.CallID || a.Branch == b.Branch {
		t.Errorf("Call-ID or branch reused: %+v %+v", a, b)
	}
	if !strings.HasPrefix(a.Branch, "z9hG4bK") {
		t.Errorf("branch %q lacks the RFC 3261 magic cookie", a.Branch)
	}
}

func TestIsResponse(t *testing.T) {
	u := New("alice", "127.0.0.1", false)
	req := u.Options()
	var m sipmsg.Message
	if err := m.Parse(req.Raw); err != nil {
		t.Fatal(err)
	}
	resp := sipmsg.AppendResponse(nil, &m, 200, "OK", "t1")
	var rm sipmsg.Message
	if err := rm.Parse(resp); err != nil {
		t.Fatal(err)
	}
	if !req.IsResponse(&rm) {
		t.Errorf("the 200 is not matched to its request:\n%s", resp)
	}
	if other := u.Options(); other.IsResponse(&rm) {
		t.Error("a response matched another request")
	}
	if req.IsResponse(&m) {
		t.Error("the request itself matched as a response")
	}
}

func TestStartLine(t *testing.T) {
	if got := StartLine([]byte("SIP/2.0 200 OK\r\nVia: x\r\n")); got != "SIP/2.0 200 OK" {
		t.Errorf("StartLine = %q", got)
	}
	if got := StartLine([]byte("no newline")); got != "no newline" {
		t.Errorf("StartLine = %q", got)
	}
}
