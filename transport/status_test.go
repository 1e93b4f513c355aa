package transport

import "testing"

// TestTransitions: the allowed moves of SPEC.md "Status and transitions".
func TestTransitions(t *testing.T) {
	all := []Status{StatusClosed, StatusConnecting, StatusOpen, StatusClosing}
	allowed := map[[2]Status]bool{
		{StatusClosed, StatusConnecting}: true,
		{StatusConnecting, StatusOpen}:   true,
		{StatusOpen, StatusClosing}:      true,
		{StatusConnecting, StatusClosed}: true,
		{StatusOpen, StatusClosed}:       true,
		{StatusClosing, StatusClosed}:    true,
	}
	for _, from := range all {
		for _, to := range all {
			want := allowed[[2]Status{from, to}]
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%v, %v) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestStatusMachine(t *testing.T) {
	type report struct {
		from, to Status
		how      change
	}
	var got []report
	m := statusMachine{report: reportFunc(func(from, to Status, how change) { got = append(got, report{from, to, how}) })}
	if !m.is(StatusClosed) {
		t.Fatal("zero status is not CLOSED")
	}
	if m.transition(StatusOpen) {
		t.Error("CLOSED -> OPEN allowed")
	}
	if !m.transition(StatusConnecting) || !m.transition(StatusOpen) {
		t.Error("CLOSED -> CONNECTING -> OPEN refused")
	}
	if m.transition(StatusOpen) {
		t.Error("OPEN -> OPEN counted as a transition")
	}
	m.force(StatusConnecting)
	want := []report{
		{StatusClosed, StatusOpen, refused},
		{StatusClosed, StatusConnecting, changed},
		{StatusConnecting, StatusOpen, changed},
		{StatusOpen, StatusConnecting, forced},
	}
	if len(got) != len(want) {
		t.Fatalf("reports = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("report %d = %v, want %v", i, got[i], want[i])
		}
	}
	if s := Status(9).String(); s != "Status(9)" {
		t.Errorf("String = %q", s)
	}
}

// reportFunc makes a function a reporter.
type reportFunc func(from, to Status, how change)

func (f reportFunc) reportStatus(from, to Status, how change) { f(from, to, how) }
