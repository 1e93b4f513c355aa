package keepalive

import "time"

// Received classifies one incoming message. The connection's read loop
// calls it for every message before anything else. It returns false for
// anything that is not keepalive traffic, at the cost of looking at the
// first byte, and the caller handles the message as usual.
//
// It returns true when p is keepalive traffic (see IsKeepalive), which the
// caller must then drop. While started, such a message also counts as a
// pong: it answers the outstanding ping, disarms the pong timeout and calls
// OnRTT; and when p is exactly a double CRLF — the server's own ping — it is
// answered with Pong through Send, synchronously, on the caller's
// goroutine. A single CRLF is never answered (that would be a pong for a
// pong). Before Start and after Stop, Received only classifies.
//
// Received does not allocate, does not retain p, and is safe to call
// concurrently with every other method and with the timers.
func (k *Keeper) Received(p []byte) bool {
	if !IsKeepalive(p) {
		return false
	}
	k.mu.Lock()
	if !k.started {
		k.mu.Unlock()
		return true
	}
	var rtt time.Duration
	onRTT := k.cfg.OnRTT
	answered := k.outstanding
	if answered {
		rtt = time.Since(k.lastPing)
		k.outstanding = false
		k.disarmPong()
	}
	if !answered {
		onRTT = nil
	}
	send := k.cfg.Send
	if !isServerPing(p) {
		send = nil
	}
	if onRTT == nil && send == nil {
		k.mu.Unlock()
		return true
	}
	k.enter()
	k.mu.Unlock()

	if onRTT != nil {
		onRTT(rtt)
	}
	if send != nil {
		send(Pong) // the error is the connection owner's to see
	}

	k.mu.Lock()
	k.leave()
	k.mu.Unlock()
	return true
}
