// Package sipua builds the SIP requests a WebSocket user agent sends
// (RFC 7118 §5), for the demo command and the integration tests: the Via
// transport is WS (WSS over wss) with a random .invalid host, the Contact
// carries transport=ws, every request has a fresh branch, Call-ID and From
// tag, and Content-Length is always given. It is not part of the public
// contract: a SIP stack builds its own messages.
package sipua

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/sipws/sipws/sipmsg"
)

// A UA is one user agent's identity. It is not safe for concurrent use: the
// CSeq counter is not guarded.
type UA struct {
	User      string // user part of the address of record, e.g. "alice"
	Domain    string // host of the address of record and of the registrar, e.g. "127.0.0.1"
	Host      string // the UA's own host in Via and Contact: a random .invalid name
	Secure    bool   // over wss: Via transport WSS
	UserAgent string // the User-Agent header; empty: none
	cseq      int
}

// New returns a UA for user@domain with a fresh .invalid host.
func New(user, domain string, secure bool) *UA {
	return &UA{User: user, Domain: domain, Host: RandomHex(4) + ".invalid", Secure: secure}
}

// AOR returns the address of record, sip:user@domain.
func (u *UA) AOR() string { return "sip:" + u.User + "@" + u.Domain }

// Contact returns the Contact URI: the user at the .invalid host, with
// transport=ws (RFC 7118 §5.2; ws for wss too).
func (u *UA) Contact() string { return "sip:" + u.User + "@" + u.Host + ";transport=ws" }

// Request is an outgoing request, with what it takes to match its responses.
type Request struct {
	Method string
	CallID string
	CSeq   int
	Branch string
	Raw    []byte
}

// Fields are the parts of a request that vary by method.
type Fields struct {
	RURI        string   // the Request-URI
	To          string   // the To URI, without brackets or tag
	Expires     int      // > 0: REGISTER's Contact expires and the Expires header
	ContentType string   // with Body
	Body        string   // Content-Length is computed
	Extra       []string // more header lines, "Name: value"
}

// NewRequest builds a request. CSeq increases per UA.
func (u *UA) NewRequest(method string, f Fields) Request {
	u.cseq++
	r := Request{Method: method, CallID: RandomHex(8), CSeq: u.cseq, Branch: "z9hG4bK" + RandomHex(6)}
	via := "WS"
	if u.Secure {
		via = "WSS"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s SIP/2.0\r\n", method, f.RURI)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=%s\r\n", via, u.Host, r.Branch)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "To: <%s>\r\n", f.To)
	fmt.Fprintf(&b, "From: <%s>;tag=%s\r\n", u.AOR(), RandomHex(4))
	fmt.Fprintf(&b, "Call-ID: %s\r\n", r.CallID)
	fmt.Fprintf(&b, "CSeq: %d %s\r\n", r.CSeq, method)
	if f.Expires > 0 {
		fmt.Fprintf(&b, "Contact: <%s>;expires=%d\r\n", u.Contact(), f.Expires)
		fmt.Fprintf(&b, "Expires: %d\r\n", f.Expires)
	} else {
		fmt.Fprintf(&b, "Contact: <%s>\r\n", u.Contact())
	}
	for _, h := range f.Extra {
		b.WriteString(h + "\r\n")
	}
	if u.UserAgent != "" {
		b.WriteString("User-Agent: " + u.UserAgent + "\r\n")
	}
	if f.Body != "" {
		fmt.Fprintf(&b, "Content-Type: %s\r\n", f.ContentType)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(f.Body), f.Body)
	r.Raw = b.Bytes()
	return r
}

// Register builds a REGISTER of the UA's contact at its domain.
func (u *UA) Register(expires int) Request {
	return u.NewRequest("REGISTER", Fields{RURI: "sip:" + u.Domain, To: u.AOR(), Expires: expires})
}

// Options builds an OPTIONS to the server itself (no user part): the
// usual SIP ping.
func (u *UA) Options() Request {
	return u.NewRequest("OPTIONS", Fields{RURI: "sip:" + u.Domain, To: "sip:" + u.Domain,
		Extra: []string{"Accept: application/sdp"}})
}

// Message builds a MESSAGE with a text body to user at the UA's domain.
func (u *UA) Message(user, text string) Request {
	aor := "sip:" + user + "@" + u.Domain
	return u.NewRequest("MESSAGE", Fields{RURI: aor, To: aor, ContentType: "text/plain", Body: text})
}

// IsResponse reports whether m is a response to r: the same Call-ID and the
// same CSeq number and method.
func (r Request) IsResponse(m *sipmsg.Message) bool {
	if !m.IsResponse() || string(m.Header("Call-ID")) != r.CallID {
		return false
	}
	num, method, ok := strings.Cut(strings.TrimSpace(string(m.Header("CSeq"))), " ")
	return ok && num == strconv.Itoa(r.CSeq) && strings.TrimSpace(method) == r.Method
}

// RandomHex returns n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// StartLine returns the first line of a raw message, for logs.
func StartLine(raw []byte) string {
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	return strings.TrimRight(string(line), "\r")
}
