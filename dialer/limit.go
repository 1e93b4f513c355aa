package dialer

import (
	"context"
	"fmt"
)

// Limit returns a Dialer that runs at most n of d's handshakes at once,
// across everything that shares it: middleware in the manner of an
// http.RoundTripper wrapper. A fleet of transports sharing one Limit
// cannot flood a server that comes back after an outage with more
// simultaneous TCP, TLS and WebSocket handshakes than n.
//
// A Dial waiting for its turn honours its ctx: when ctx ends first (the
// transport's ConnectionTimeout, or a Disconnect), Dial returns an error
// wrapping ctx.Err() without calling d. The time spent waiting counts
// against ctx, as the handshake itself does. The connection a Dial returns
// no longer counts once Dial has returned: the limit is on handshakes, not
// on open connections. n below 1 means 1.
//
// The returned Dialer is safe for concurrent use. In a testing/synctest
// bubble, create it inside the bubble, as any value holding a channel.
func Limit(d Dialer, n int) Dialer {
	return &limited{d: d, slots: make(chan struct{}, max(n, 1))}
}

type limited struct {
	d     Dialer
	slots chan struct{} // one token per handshake in progress
}

func (l *limited) Dial(ctx context.Context, url string, o Options) (Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		select {
		case l.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("dialer: waiting for a handshake slot: %w", ctx.Err())
		}
	}
	defer func() { <-l.slots }()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dialer: waiting for a handshake slot: %w", err)
	}
	return l.d.Dial(ctx, url, o)
}
