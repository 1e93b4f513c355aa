package keepalive

import "time"

// Received classifies one incoming message. The connection's read loop
// calls it for every message before anything else. It returns false for
// anything that is not keepalive traffic, at the cost of looking at the
// first byte, and the caller handles the message as usual.
//
// It returns true when p is keepalive traffic (see IsKeepalive), which the
// caller must then drop. While started, in CRLF mode, such a message other
// than a double CRLF also counts as a pong (see Pong); and in every mode,
// when p is exactly a double CRLF — the server's own ping — it is answered
// with a CRLF pong through Send, synchronously, on the caller's goroutine. A single CRLF is
// never answered (that would be a pong for a pong). Before Start and after
// Stop, Received only classifies.
//
// Every message Received sees is also a sign of life for the pong timeout
// (see Config.PongTimeout); the owner calls Handled once it has finished
// with each message, keepalive or not.
//
// Received does not allocate, does not retain p, and is safe to call
// concurrently with every other method and with the timers.
func (k *Keeper) Received(p []byte) bool {
	k.seen.Add(1)
	if !IsKeepalive(p) {
		return false
	}
	k.mu.Lock()
	if !k.started {
		k.mu.Unlock()
		return true
	}
	var onRTT func(time.Duration)
	var rtt time.Duration
	if k.cfg.Mode == CRLF && !isServerPing(p) {
		// The server's own ping is not the answer to ours (Asterisk pings
		// every 90 s and never answers a client's CRLF: counting its ping
		// would hide the missing pongs); as any message it is still a
		// sign of life for the pong timeout.
		onRTT, rtt = k.answered()
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
		err := send(pong) // the error is the connection owner's to see
		if log := k.cfg.Logger; log.IsTrace() {
			log.Trace("server ping answered", "error", err)
		}
	}

	k.mu.Lock()
	k.leave()
	k.mu.Unlock()
	return true
}

// Pong reports the pong of a ping of the Keeper's mode, recognised by the
// owner: a WebSocket Pong echoing the latest ping's payload, a final
// response to the latest OPTIONS. It answers the outstanding ping, disarms
// the pong timeout and calls OnRTT, exactly as a CRLF pong does in CRLF
// mode. A pong with no ping outstanding, or before Start and after Stop,
// changes nothing. In CRLF mode, Received does this itself; Pong is then
// not needed. It does not allocate and is safe for concurrent use.
func (k *Keeper) Pong() {
	k.mu.Lock()
	if !k.started {
		k.mu.Unlock()
		return
	}
	onRTT, rtt := k.answered()
	if onRTT == nil {
		k.mu.Unlock()
		return
	}
	k.enter()
	k.mu.Unlock()

	onRTT(rtt)

	k.mu.Lock()
	k.leave()
	k.mu.Unlock()
}

// answered marks the outstanding ping, if any, as answered: it disarms the
// pong timeout and returns the OnRTT callback to call with the round trip,
// or nil when no ping was outstanding or no callback is set. It logs the
// pong. k.mu is held.
func (k *Keeper) answered() (func(time.Duration), time.Duration) {
	if !k.outstanding {
		return nil, 0
	}
	rtt := time.Since(k.lastPing)
	k.outstanding = false
	k.disarmPong()
	if log := k.cfg.Logger; log.IsTrace() {
		log.Trace("pong", "mode", k.cfg.Mode, "rtt", rtt)
	}
	return k.cfg.OnRTT, rtt
}

// Handled tells the Keeper that its owner has finished with the last
// message given to Received: delivered it, dropped it, answered it. Until
// then a pong deadline does not fail the flow, since an owner busy with a
// message (a slow Message callback) is not reading, and the pong may be
// waiting behind it. An owner that never calls Handled keeps the pong
// timeout from ever firing once a message has arrived. It costs one
// atomic add and is safe for concurrent use.
func (k *Keeper) Handled() { k.handled.Add(1) }
