package transport

import (
	"strconv"
	"sync/atomic"
)

// Status is the state of a transport: CONNECTING → OPEN → CLOSING → CLOSED,
// plus CLOSED → CONNECTING (a new attempt) and → CLOSED from any state (a
// failed attempt or a dropped socket). The zero value is StatusClosed.
type Status int32

const (
	StatusClosed Status = iota
	StatusConnecting
	StatusOpen
	StatusClosing
)

func (s Status) String() string {
	switch s {
	case StatusConnecting:
		return "CONNECTING"
	case StatusOpen:
		return "OPEN"
	case StatusClosing:
		return "CLOSING"
	case StatusClosed:
		return "CLOSED"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// CanTransition reports whether from → to is one of the transitions SPEC.md
// allows. A transition to the current state is not a transition.
func CanTransition(from, to Status) bool {
	switch {
	case from == to:
		return false
	case to == StatusClosed:
		return true
	case from == StatusClosed:
		return to == StatusConnecting
	case from == StatusConnecting:
		return to == StatusOpen
	case from == StatusOpen:
		return to == StatusClosing
	}
	return false
}

// statusMachine holds the current status and enforces the transitions.
// Reads are lock-free (Send checks the status on every call). Changes are
// made on the supervisor goroutine, which also reports them, so
// StatusChanged sees every transition in order.
type statusMachine struct {
	v      atomic.Int32
	report reporter
}

// reporter is what a statusMachine reports its changes to: the Base. An
// interface holding the *Base costs no allocation, where a method value
// would cost one per transport.
type reporter interface {
	reportStatus(from, to Status, how change)
}

// change says how a status change came about, for reporting.
type change uint8

const (
	changed change = iota // an allowed transition
	refused               // not allowed: nothing changed
	forced                // not allowed, made anyway
)

func (m *statusMachine) load() Status { return Status(m.v.Load()) }

// is reports whether the status is s (SIP.js's assertStatus).
func (m *statusMachine) is(s Status) bool { return m.load() == s }

// transition moves to "to" if CanTransition allows it from the current
// status, reports it and returns true; otherwise it changes nothing and
// returns false.
func (m *statusMachine) transition(to Status) bool {
	for {
		from := m.load()
		if !CanTransition(from, to) {
			if from != to {
				m.report.reportStatus(from, to, refused)
			}
			return false
		}
		if m.v.CompareAndSwap(int32(from), int32(to)) {
			m.report.reportStatus(from, to, changed)
			return true
		}
	}
}

// force moves to "to" whatever the current status, and reports it.
func (m *statusMachine) force(to Status) {
	from := Status(m.v.Swap(int32(to)))
	if from != to {
		how := changed
		if !CanTransition(from, to) {
			how = forced
		}
		m.report.reportStatus(from, to, how)
	}
}
