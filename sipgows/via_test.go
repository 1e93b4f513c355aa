package sipgows

import (
	"bytes"
	"regexp"
	"testing"
	"testing/synctest"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// TestViaSentBy: the sent-by sipgo derives from a pipe's LocalAddr is the
// transport's ViaHost when it has one, else a random host in .invalid
// (the form of RFC 7118's examples and of SIP.js, which Kamailio's force_rport and
// fix_nated_register handle: they add rport and received and route by the
// connection), and never carries a port, which the transport's ViaHost
// check refuses. The end-to-end cases check the same with sipgo itself
// (OptionsDo) and Kamailio.
func TestViaSentBy(t *testing.T) {
	t.Run("FromTransport", func(t *testing.T) {
		b, err := New(Config{Transport: newFake(transport.Config{ViaHost: "ua7.invalid"})})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if b.Host() != "ua7.invalid" || b.laddr.String() != "ua7.invalid:0" {
			t.Errorf("Host %q, LocalAddr %q; want the transport's ViaHost ua7.invalid, port 0", b.Host(), b.laddr)
		}
	})
	t.Run("Random", func(t *testing.T) {
		seen := map[string]bool{}
		for range 3 {
			b, err := New(Config{Transport: newFake(transport.Config{})})
			if err != nil {
				t.Fatal(err)
			}
			b.Close()
			if !regexp.MustCompile(`^[0-9a-f]{8}\.invalid$`).MatchString(b.Host()) || seen[b.Host()] {
				t.Errorf("Host %q, want a fresh random name in .invalid", b.Host())
			}
			seen[b.Host()] = true
		}
	})
	t.Run("IPv6", func(t *testing.T) {
		b, err := New(Config{Transport: newFake(transport.Config{ViaHost: "[2001:db8::1]"})})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		if b.laddr.String() != "[2001:db8::1]:0" {
			t.Errorf("LocalAddr %q, want [2001:db8::1]:0", b.laddr)
		}
	})
	t.Run("WrittenBySipgo", func(t *testing.T) {
		// The transport's check in package sipmsg's terms: this host, no port.
		synctest.Test(t, func(t *testing.T) {
			f := newFake(transport.Config{ViaHost: testViaHost})
			b, _ := New(Config{Transport: f})
			defer b.Close()
			ua, _ := sipgo.NewUA(b.UserAgentOption())
			defer ua.Close()
			for _, opts := range [][]sipgo.ClientOption{nil, {sipgo.WithClientNAT()}} {
				client, _ := sipgo.NewClient(ua, opts...)
				if err := client.WriteRequest(newRequest(b, sip.OPTIONS, "")); err != nil {
					t.Fatal(err)
				}
			}
			sent := f.sentMessages()
			if len(sent) != 2 {
				t.Fatalf("sent %q, want two OPTIONS", sent)
			}
			for _, raw := range sent {
				var m sipmsg.Message
				if err := m.Parse(raw); err != nil {
					t.Fatal(err)
				}
				host, port := sipmsg.ViaHostPort(m.TopVia())
				if string(host) != testViaHost || port != nil || !bytes.HasPrefix(m.TopVia(), []byte("SIP/2.0/WS ")) {
					t.Errorf("Via %q: sent-by %q port %q, want SIP/2.0/WS %s and no port", m.TopVia(), host, port, testViaHost)
				}
			}
		})
	})
}
