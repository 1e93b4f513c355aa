package sipgows

import (
	"github.com/sipws/sipws/selector"
	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// events returns the callbacks the bridge subscribes with. Each does the
// bridge's part, then calls the user's callback of the same name, so a SIP
// stack above sees every event: Connected after a failover above all, on
// which it registers again. They run on the transport's goroutine and
// never wait for sipgo.
func (b *Bridge) events() transport.Events {
	return transport.Events{
		Connected: func(s selector.Server) {
			if f := b.user.Load().Connected; f != nil {
				f(s)
			}
		},
		Disconnected: func(s selector.Server, err error) {
			if f := b.user.Load().Disconnected; f != nil {
				f(s, err)
			}
		},
		Message:        b.onMessage,
		MessageDropped: b.onDropped,
		TransportError: func(err error) {
			if f := b.user.Load().TransportError; f != nil {
				f(err)
			}
		},
		StatusChanged: func(from, to transport.Status) {
			if f := b.user.Load().StatusChanged; f != nil {
				f(from, to)
			}
		},
	}
}

// onMessage queues a copy of m for sipgo without waiting: a message that
// finds the queue full, or that is larger than sipgo reads, is dropped and
// reported to MessageDropped (ErrQueueFull, *TooLargeError), after the
// user's Message callback has seen it as the transport delivered it.
func (b *Bridge) onMessage(m *sipmsg.Message) {
	raw := m.Bytes()
	var dropped error
	switch {
	case b.isClosed():
		// the bridge is gone; only the user's callbacks are left
	case len(raw) > b.maxIn:
		n := b.stats.tooLarge.Add(1)
		dropped = &TooLargeError{Size: len(raw), Limit: b.maxIn}
		b.logDrop(n, dropped)
	default:
		f := b.newFrame(opText, raw, kindMessage)
		select {
		case b.queue <- f:
		default:
			b.putFrame(f)
			dropped = ErrQueueFull
			b.logDrop(b.stats.queueDrops.Add(1), dropped)
		}
	}
	u := b.user.Load()
	if u.Message != nil {
		u.Message(m)
	}
	if dropped != nil && u.MessageDropped != nil {
		u.MessageDropped(raw, dropped)
	}
}

// logDrop logs the nth drop of its kind when n is a power of two, so that
// an overload does not also flood the log.
func (b *Bridge) logDrop(n uint64, reason error) {
	if n&(n-1) == 0 && b.log.IsWarn() {
		b.log.Warn("message not passed to sipgo", "reason", reason, "dropped_so_far", n)
	}
}

// onDropped passes on the transport's own drops (unparseable messages,
// failed sanity checks).
func (b *Bridge) onDropped(raw []byte, reason error) {
	if f := b.user.Load().MessageDropped; f != nil {
		f(raw, reason)
	}
}
