package main

import (
	"slices"
	"strings"

	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/ws"
	"github.com/sipws/sipws/wsgobwas"
)

// backends are the shipped socket backends, by -backend name.
var backends = map[string]func() dialer.Dialer{
	"ws":     func() dialer.Dialer { return &ws.Dialer{} },
	"gobwas": func() dialer.Dialer { return &wsgobwas.Dialer{} },
}

func backendNames() string {
	var names []string
	for n := range backends {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, "|")
}
