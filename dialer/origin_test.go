package dialer

import (
	"errors"
	"net/http"
	"testing"
)

func TestOriginFor(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    Options
		url  string
		want string
		ok   bool
	}{
		{"ws default port", Options{}, "ws://sip.example.com:80/ws", "http://sip.example.com", true},
		{"wss default port", Options{}, "wss://sip.example.com:443/ws?k=1", "https://sip.example.com", true},
		{"ws other port", Options{}, "ws://sip.example.com:8080/", "http://sip.example.com:8080", true},
		{"wss other port", Options{}, "wss://10.0.0.1:8443", "https://10.0.0.1:8443", true},
		{"IPv6", Options{}, "wss://[::1]:443/", "https://[::1]", true},
		{"upper-case host", Options{}, "WS://SIP.Example.COM", "http://sip.example.com", true},
		{"Origin replaces", Options{Origin: "https://app.example.com"}, "wss://s:443", "https://app.example.com", true},
		{"Header replaces", Options{Origin: "x", Header: http.Header{"origin": {"https://h"}}}, "wss://s", "https://h", true},
		{"NoOrigin", Options{NoOrigin: true, Origin: "x"}, "wss://s", "", false},
		{"NoOrigin, Header still sent", Options{NoOrigin: true, Header: http.Header{"Origin": {"o"}}}, "wss://s", "o", true},
		{"unparseable URL", Options{}, "::", "", false},
	} {
		got, ok := tt.o.OriginFor(tt.url)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: OriginFor(%q) = %q, %v; want %q, %v", tt.name, tt.url, got, ok, tt.want, tt.ok)
		}
	}
}

func TestHandshakeHeader(t *testing.T) {
	o := Options{Header: http.Header{"User-Agent": {"ua"}}}
	lower := "x-token" // a name as a caller may write it: not canonical
	o.Header[lower] = []string{"a"}
	h := o.HandshakeHeader("wss://s.example.com:443/")
	if got := h.Get("Origin"); got != "https://s.example.com" {
		t.Errorf("Origin %q", got)
	}
	if h["X-Token"][0] != "a" || h["User-Agent"][0] != "ua" || len(h) != 3 {
		t.Errorf("header %v, want the caller's, canonical, plus Origin", h)
	}
	h["X-Token"][0] = "changed"
	if o.Header[lower][0] != "a" {
		t.Error("changing the result changed the Options")
	}
	if h := (Options{NoOrigin: true}).HandshakeHeader("ws://s"); len(h) != 0 {
		t.Errorf("NoOrigin header %v, want empty", h)
	}
}

func TestCheckSend(t *testing.T) {
	if err := (Options{}).CheckSend(make([]byte, DefaultMaxSendSize)); err != nil {
		t.Errorf("64 KiB with the default = %v", err)
	}
	err := (Options{}).CheckSend(make([]byte, DefaultMaxSendSize+1))
	var ste *SendTooLargeError
	if !errors.Is(err, ErrSendTooLarge) || !errors.As(err, &ste) || ste.Size != DefaultMaxSendSize+1 || ste.Limit != DefaultMaxSendSize {
		t.Errorf("64 KiB + 1 = %v, want a *SendTooLargeError wrapping ErrSendTooLarge", err)
	}
	if err := (Options{MaxSendSize: 10}).CheckSend(make([]byte, 11)); !errors.Is(err, ErrSendTooLarge) {
		t.Errorf("11 bytes with MaxSendSize 10 = %v", err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = (Options{}).CheckSend(sendBuf) }); n != 0 {
		t.Errorf("CheckSend of a message that fits allocates %v times", n)
	}
	if err := (Options{MaxSendSize: -1}).Check(); !errors.Is(err, ErrOptions) {
		t.Errorf("Check with a negative MaxSendSize = %v", err)
	}
	if err := (Options{Origin: "a\r\nX-Evil: 1"}).Check(); !errors.Is(err, ErrOptions) {
		t.Errorf("Check with a line break in Origin = %v", err)
	}
}

var sendBuf = make([]byte, 8)
