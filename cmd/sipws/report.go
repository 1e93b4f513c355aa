package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/sipws/sipws/internal/sipua"
	"github.com/sipws/sipws/keepalive"
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// report prints what happens, one timestamped line per event, from any
// goroutine, and hands the demo and the probe what they wait for.
type report struct {
	w     io.Writer
	start time.Time

	mu      sync.Mutex
	labels  map[string]string // server URI -> "primary", "secondary"
	lastErr map[string]error  // server URI -> its last dial or connection error

	inbox     chan []byte          // copies of delivered messages
	connected chan selector.Server // each OPEN
	pongs     chan struct{}        // each keepalive pong seen on the wire
}

func newReport(w io.Writer) *report {
	return &report{
		w:         w,
		start:     time.Now(),
		labels:    make(map[string]string),
		lastErr:   make(map[string]error),
		inbox:     make(chan []byte, 64),
		connected: make(chan selector.Server, 8),
		pongs:     make(chan struct{}, 1),
	}
}

// label names a server in the lines that mention it.
func (r *report) label(uri, name string) {
	r.mu.Lock()
	r.labels[uri] = name
	r.mu.Unlock()
}

// server returns a server's URI with its label, if any.
func (r *report) server(uri string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l, ok := r.labels[uri]; ok {
		return uri + " (" + l + ")"
	}
	return uri
}

// failed records the last error seen on a server.
func (r *report) failed(uri string, err error) {
	r.mu.Lock()
	r.lastErr[uri] = err
	r.mu.Unlock()
}

// lastErrors describes each server with its last error, for a connect
// that ended before every server had failed.
func (r *report) lastErrors(servers selector.Servers) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var parts []string
	for _, s := range servers {
		if err, ok := r.lastErr[s.URI]; ok {
			parts = append(parts, s.URI+": "+err.Error())
		} else {
			parts = append(parts, s.URI+": no error yet (still connecting, or not tried)")
		}
	}
	return strings.Join(parts, "; ")
}

// printf prints one line, prefixed with the time since the start.
func (r *report) printf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.w, "%7.3fs  %s\n", time.Since(r.start).Seconds(), line)
}

// events returns the transport callbacks that print and feed the channels.
// They run on the transport's goroutine and never block it.
func (r *report) events() transport.Events {
	return transport.Events{
		StatusChanged: func(from, to transport.Status) { r.printf("status     %v -> %v", from, to) },
		Connected: func(s selector.Server) {
			r.printf("connected  %s", r.server(s.URI))
			offer(r.connected, s)
		},
		Disconnected: func(s selector.Server, err error) {
			if err == nil {
				r.printf("closed     %s, by Disconnect", r.server(s.URI))
				return
			}
			if errors.Is(err, transport.ErrFailback) {
				r.printf("left       %s: %v", r.server(s.URI), err)
				return
			}
			r.failed(s.URI, err)
			r.printf("lost       %s: %v", r.server(s.URI), err)
		},
		TransportError: func(err error) {
			var se *transport.ServerError
			if errors.As(err, &se) {
				r.printf("failover   %s is marked in error: %v", r.server(se.Server.URI), se.Err)
				return
			}
			r.printf("error      %v", err)
		},
		Message: func(m *sipmsg.Message) { offer(r.inbox, bytes.Clone(m.Bytes())) },
		MessageDropped: func(raw []byte, reason error) {
			r.printf("dropped    %q: %v", sipua.StartLine(raw), reason)
		},
	}
}

// wire describes one message as it crosses the socket.
func wire(p []byte) string {
	switch {
	case string(p) == keepalive.CRLFPing:
		return "CRLF CRLF (keepalive ping)"
	case string(p) == keepalive.CRLFPong:
		return "CRLF (keepalive pong)"
	}
	return fmt.Sprintf("%s (%d bytes)", sipua.StartLine(p), len(p))
}

// offer sends v without blocking: a full channel means nobody waits.
func offer[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}
