package sipgows

import "sync/atomic"

// Stats is a snapshot of a bridge's counters since New.
type Stats struct {
	MessagesIn  uint64 // messages from the transport that sipgo has read
	MessagesOut uint64 // messages from sipgo the transport has sent
	SendErrors  uint64 // messages from sipgo the transport refused; sipgo's write failed with the error
	QueueDrops  uint64 // messages from the transport dropped: the queue toward sipgo was full
	TooLarge    uint64 // messages from the transport dropped: larger than sipgo reads
	Queued      int    // messages waiting in the queue toward sipgo now
	Pipes       int    // pipes open now
	PipesOpened uint64 // pipes sipgo has opened since New
}

type counters struct {
	in, out, sendErrors, queueDrops, tooLarge, pipesOpened atomic.Uint64
}

// Stats returns the counters. It is safe at any time and takes the bridge's
// lock only to count the open pipes.
func (b *Bridge) Stats() Stats {
	b.mu.Lock()
	pipes := len(b.conns)
	b.mu.Unlock()
	return Stats{
		MessagesIn:  b.stats.in.Load(),
		MessagesOut: b.stats.out.Load(),
		SendErrors:  b.stats.sendErrors.Load(),
		QueueDrops:  b.stats.queueDrops.Load(),
		TooLarge:    b.stats.tooLarge.Load(),
		Queued:      len(b.queue),
		Pipes:       pipes,
		PipesOpened: b.stats.pipesOpened.Load(),
	}
}
