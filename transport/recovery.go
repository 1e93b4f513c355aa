package transport

import (
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// recoveryBackOff is the transport recovery schedule of JsSIP and SIP.js up
// to 0.10: before pass n+1 (n = passes failed so far) wait
// floor(random(0, 2^n)) + 1 seconds, clamped to [min, max].
type recoveryBackOff struct {
	min, max time.Duration
	n        int
	float64  func() float64
}

// NewRecoveryBackOff returns the default recovery schedule with the given
// bounds, as a backoff.BackOff: Reset starts again from n = 0. Config uses
// it unless NewRecoveryBackOff replaces it.
func NewRecoveryBackOff(min, max time.Duration) backoff.BackOff {
	return &recoveryBackOff{min: min, max: max, float64: rand.Float64}
}

func (r *recoveryBackOff) Reset() { r.n = 0 }

func (r *recoveryBackOff) NextBackOff() time.Duration {
	n := min(r.n, 30) // 2^30 s is far above any max; keeps the shift in range
	r.n++
	k := time.Duration(r.float64()*float64(int64(1)<<n)) + 1
	return min(max(k*time.Second, r.min), r.max)
}
