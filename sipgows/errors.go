package sipgows

import (
	"errors"
	"fmt"
)

var (
	// ErrQueueFull is the reason Events.MessageDropped gives for a message
	// the transport delivered while the bridge's queue toward sipgo was full
	// (Config.QueueLen): sipgo reads more slowly than the server sends.
	ErrQueueFull = errors.New("sipgows: queue toward sipgo full")

	// ErrTooLarge is wrapped by the reason Events.MessageDropped gives for a
	// message larger than sipgo reads (sip.TransportBufferReadSize, 32 KiB by
	// default): sipgo would cut it, so the bridge refuses it whole.
	ErrTooLarge = errors.New("sipgows: message larger than sipgo reads")

	// ErrClosed is returned by a dial, a read or a write on a pipe after
	// Close, or after sipgo closed the pipe.
	ErrClosed = errors.New("sipgows: bridge closed")

	// ErrNoTransport is returned by New when Config.Transport is nil.
	ErrNoTransport = errors.New("sipgows: Config.Transport is required")
)

// TooLargeError is the reason Events.MessageDropped gives for a message
// larger than sipgo reads. It wraps ErrTooLarge.
type TooLargeError struct {
	Size, Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("sipgows: message of %d bytes larger than sipgo reads (%d, sip.TransportBufferReadSize)", e.Size, e.Limit)
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }
