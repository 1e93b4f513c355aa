package keepalive

import "time"

// due runs when a ping falls due. It re-arms the ping timer for the next
// multiple of the period, then sends a ping unless the previous one is
// still being sent, or is unanswered and younger than Debounce.
func (k *Keeper) due() {
	k.mu.Lock()
	now := time.Now()
	if k.next.IsZero() || now.Before(k.fire) {
		k.mu.Unlock()
		return // stopped, or re-armed since this callback was started
	}
	// Like a time.Ticker, skip the multiples already past when the
	// callback runs late, so a late callback does not cause a burst.
	for k.next = k.next.Add(k.period); !k.next.After(now); {
		k.next = k.next.Add(k.period)
	}
	k.fire = k.onClock(k.next)
	k.pingTimer.Reset(k.fire.Sub(now))

	if k.sending {
		k.mu.Unlock()
		return // the previous ping is still in Send: it is outstanding
	}
	if k.outstanding && now.Sub(k.lastPing) < k.cfg.Debounce {
		k.mu.Unlock()
		return // waiting for the pong (SIP.js keepAliveDebounce)
	}
	if !k.outstanding && k.cfg.PongTimeout > 0 {
		// The deadline belongs to the oldest unanswered ping; a later
		// ping does not move it, or a dead flow pinged more often than
		// PongTimeout would never be declared failed.
		k.armPong(now)
	}
	k.outstanding = true
	k.lastPing = now
	send := k.sendPing
	if k.cfg.Mode == CRLF && k.cfg.Send == nil || k.cfg.Mode != CRLF && k.cfg.Ping == nil {
		send = nil
	}
	if send == nil {
		k.mu.Unlock()
		return
	}
	gen := k.gen
	k.sending = true
	k.enter()
	k.mu.Unlock()

	err := send() // the error is the connection owner's to see
	if log := k.cfg.Logger; log.IsTrace() {
		log.Trace("ping sent", "mode", k.cfg.Mode, "error", err)
	}

	k.mu.Lock()
	if gen == k.gen {
		k.sending = false
	}
	k.leave()
	k.mu.Unlock()
}

// sendPing sends one ping of the Keeper's mode.
func (k *Keeper) sendPing() error {
	if k.cfg.Mode == CRLF {
		return k.cfg.Send(ping)
	}
	return k.cfg.Ping()
}

// disarmPing stops the ping schedule. k.mu is held.
func (k *Keeper) disarmPing() {
	k.next = time.Time{}
	if k.pingTimer != nil {
		k.pingTimer.Stop()
	}
}

// armPong arms the pong timeout for a ping sent at now. k.mu is held.
func (k *Keeper) armPong(now time.Time) {
	k.deadline = k.onClock(now.Add(k.cfg.PongTimeout))
	k.seenAtArm = k.seen.Load()
	d := k.deadline.Sub(now)
	if k.pongTimer == nil {
		k.pongTimer = time.AfterFunc(d, k.pongExpired)
	} else {
		k.pongTimer.Reset(d)
	}
}

// disarmPong stops the pong timeout. k.mu is held.
func (k *Keeper) disarmPong() {
	k.deadline = time.Time{}
	if k.pongTimer != nil {
		k.pongTimer.Stop()
	}
}

// pongExpired runs when the oldest unanswered ping got no pong within
// PongTimeout. When nothing else was read meanwhile either, and the owner
// is not busy with a message, the flow has failed (RFC 5626 §4.4.1): pings
// stop and OnFailure is called. Only a ping arms the pong timer and only
// Start re-arms the pings, so this happens at most once per run.
//
// A message read after the deadline was armed, or one the owner is still
// handling (a slow callback keeps it from reading, and the pong may wait
// behind it in the socket), shows the flow alive: the deadline moves
// PongTimeout on instead.
func (k *Keeper) pongExpired() {
	k.mu.Lock()
	now := time.Now()
	if k.deadline.IsZero() || now.Before(k.deadline) {
		k.mu.Unlock()
		return // answered, stopped, or re-armed since this callback was started
	}
	if seen := k.seen.Load(); seen != k.seenAtArm || k.handled.Load() != seen {
		k.seenAtArm = seen
		k.deadline = k.onClock(now.Add(k.cfg.PongTimeout))
		k.pongTimer.Reset(k.deadline.Sub(now))
		if log := k.cfg.Logger; log.IsTrace() {
			log.Trace("no pong yet, but the flow is alive: waiting on", "mode", k.cfg.Mode)
		}
		k.mu.Unlock()
		return
	}
	k.deadline = time.Time{}
	k.disarmPing()
	if log := k.cfg.Logger; log.IsDebug() {
		log.Debug("pong timeout: the flow has failed", "mode", k.cfg.Mode, "timeout", k.cfg.PongTimeout)
	}
	f := k.cfg.OnFailure
	if f == nil {
		k.mu.Unlock()
		return
	}
	k.enter()
	k.mu.Unlock()

	f()

	k.mu.Lock()
	k.leave()
	k.mu.Unlock()
}
