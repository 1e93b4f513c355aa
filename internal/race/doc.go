// Package race reports whether the race detector is on, so allocation
// tests can skip under -race: the race detector makes sync.Pool drop
// items at random, and then every pooled buffer counts as an allocation.
// The allocation tests run without -race in the project's test script.
package race
