package sipwsprom

import (
	"strings"
	"unicode/utf8"

	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/transport"
)

// Source is what the collector reads from a transport. *transport.Base
// satisfies it, and so do ws.Transport and wsgobwas.Transport, which embed
// it. Every method must be safe for concurrent use and should neither block
// nor allocate: a scrape calls each once per transport.
//
// A Source that also has the method
//
//	Config() transport.Config
//
// (as *transport.Base has) gives its first server as the server label until
// it is first seen OPEN. Add calls Config once; a scrape never does.
type Source interface {
	Stats() transport.Stats
	Status() transport.Status
	Server() (selector.Server, bool)
}

// configurer is the optional ability of a Source to tell its servers.
type configurer interface {
	Config() transport.Config
}

// firstServer returns the URI of the server tr tries first: the highest
// weight, the first listed among equals; "" when tr cannot tell.
func firstServer(tr Source) string {
	c, ok := tr.(configurer)
	if !ok {
		return ""
	}
	servers := c.Config().Servers
	best := -1
	for i, s := range servers {
		if best < 0 || s.Weight > servers[best].Weight {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return servers[best].URI
}

// serverLabel is the server label for a server URI: the URI without its
// query, which may carry per-user tokens.
func serverLabel(uri string) string {
	uri, _, _ = strings.Cut(uri, "?")
	return labelValue(uri)
}

// labelValue makes s valid UTF-8, as every label value must be. It
// allocates only when s is not.
func labelValue(s string) string {
	if !utf8.ValidString(s) {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}
