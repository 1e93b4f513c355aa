package conformance_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/sipws/sipws/conformance"
	"github.com/sipws/sipws/dialer"
)

// A fault is a backend with one deliberate bug, and the cases that must
// catch it.
type fault struct {
	name      string
	newDialer func() dialer.Dialer
	breaks    []string // cases that must fail on it
	control   string   // a case it leaves alone, which must still pass
}

// faults is the self-test's table: every case must appear in the breaks
// of at least one fault (TestEveryCaseCatchesAFault). release ends the
// goroutines the leaking backend starts.
func faults(release <-chan struct{}) []fault {
	const (
		control    = "Conn/WholeMessageBothWays"
		noMessages = "Dial/PathAndQueryUnchanged" // for faults in messages themselves
	)
	conn := func(wrap func(c dialer.Conn) dialer.Conn) func() dialer.Dialer { return wrapConns(wrap) }
	return []fault{
		// Dial.
		{"DropsHeaders", editOptions(dropsHeaders), []string{"Dial/ExtraHeadersReachServer", "Dial/HostHeaderReplacesHost"}, control},
		{"DropsQuery", editOptions(dropsQuery), []string{"Dial/PathAndQueryUnchanged"}, control},
		{"ModifiesOptions", editOptions(modifiesOptions), []string{
			"Dial/ExtraHeadersReachServer", "Dial/WssVerifiedAgainstRoots"}, control},
		{"FlattensDialErrors", flattensErrors, []string{
			"Dial/MissingSubprotocolFails", "Dial/RefusedIsHandshakeError",
			"Dial/WssUntrustedCertFails", "Dial/OtherSubprotocolFails",
			"Dial/InvalidOptionsRefused", "Dial/RedirectNotFollowed",
			"Transport/FailoverWhenPrimaryRefuses", "Transport/MissingSubprotocolIsFailedAttempt"}, control},
		{"IgnoresContext", ignoresContext, []string{
			"Dial/StalledHandshakeHonoursContext", "Dial/StalledTLSHonoursContext",
			"Transport/ConnectionTimeoutOnStalledHandshake", "Transport/DisconnectDuringConnect"}, control},
		{"IgnoresHandshakeTimeout", editOptions(ignoresTimeout), []string{"Dial/HandshakeTimeoutHonoured"}, control},
		{"KeepsStalledSocket", keepsStalledSocket, []string{
			"Dial/StalledHandshakeHonoursContext", "Transport/DisconnectDuringConnect"}, control},
		{"IgnoresTLSConfig", editOptions(ignoresTLSConfig), []string{
			"Dial/WssVerifiedAgainstRoots", "Transport/ConnectOverWSS"}, control},
		{"SkipsVerification", editOptions(skipsVerification), []string{"Dial/WssUntrustedCertFails"}, control},
		{"RetriesDial", retriesDial, []string{"Dial/ClosedPortFailsFast"}, control},
		{"CachesDialError", cachesDialError, []string{
			"Transport/RecoveryAfterAllServersDown", "Transport/ConnectionTimeoutOnStalledHandshake"}, control},
		{"OmitsSipOffer", rewriting(nil, omitsSipOffer), []string{"Dial/OffersSipSubprotocol"},
			"Dial/WssVerifiedAgainstRoots"}, // TLS is passed through untouched
		{"OffersMore", rewriting(nil, offersMore), []string{"Dial/OffersExactlySip"}, control},
		{"IgnoresExtensions", reading(nil, ignoresExtensions), []string{"Dial/UnofferedExtensionRefused"}, control},
		{"NoOrigin", editOptions(noOrigin), []string{"Dial/OriginSentByDefault", "Dial/OriginReplaceable"}, control},
		{"IgnoresNoOrigin", editOptions(ignoresNoOrigin), []string{"Dial/NoOriginOmits"}, control},
		{"FixesOptions", editOptions(fixesOptions), []string{"Dial/InvalidOptionsRefused"}, control},
		{"FollowsRedirects", followsRedirects, []string{"Dial/RedirectNotFollowed"}, control},
		{"BareHandshakeErrors", bareHandshakeErrors, []string{"Dial/RefusalStatusAndHeaders"}, control},
		{"AcceptsAnyKey", reading(nil, acceptsAnyKey), []string{"Dial/BadAcceptKeyFails"}, control},

		// Conn: reading.
		{"TruncatesMessages", conn(func(c dialer.Conn) dialer.Conn { return truncatesMessages{c} }), []string{
			"Conn/WholeMessageBothWays", "Conn/MaxMessageSizeAccepted", "Conn/ServerTextAndBinaryDelivered",
			"Conn/FragmentedReassembled", "Conn/CRLFMessagesDelivered", "Conn/FramesWithThe101Read",
			"Conn/MessageBeforeCloseDelivered",
			"Transport/ConnectSendReceive", "Transport/CRLFPingAnswered"},
			noMessages},
		{"DuplicatesMessages", conn(func(c dialer.Conn) dialer.Conn { return &duplicatesMessages{Conn: c} }), []string{
			"Conn/WholeMessageBothWays", "Transport/ConnectSendReceive"}, "Conn/TextFrameForUTF8"},
		{"SkipsKeepalives", conn(func(c dialer.Conn) dialer.Conn { return skipsKeepalives{c} }), []string{
			"Conn/EmptyMessageDelivered", "Conn/CRLFMessagesDelivered", "Transport/CRLFPingAnswered"}, control},
		{"DropsEarlyFrames", reading(nil, dropsEarlyFrames), []string{"Conn/FramesWithThe101Read"}, control},
		{"DropsPongs", rewriting(dropsPongs, nil), []string{
			"Conn/PingAnsweredWithPong", "Conn/FragmentedReassembled", "Conn/PongNeverInsideDataFrame"}, control},
		{"PongsAsText", reading(pongsAsText, nil), []string{"Conn/PongNotDelivered"}, control},
		{"IgnoresReadLimit", editOptions(ignoresLimit), []string{
			"Conn/ReadLimitCloses1009", "Conn/ReadLimitBeforePayload", "Conn/ReadLimitCountsFragments",
			"Conn/DefaultReadLimitIs64KiB"}, control},
		{"LimitOffByOne", editOptions(limitOffByOne), []string{"Conn/MaxMessageSizeAccepted"}, noMessages},
		{"SwallowsCloseCodes", conn(func(c dialer.Conn) dialer.Conn { return swallowsCloseCodes{c} }), []string{
			"Conn/ServerCloseCodeReported", "Conn/EveryValidCloseCodeReported", "Conn/EmptyCloseIs1005",
			"Conn/CloseEchoesCode", "Conn/MessageBeforeCloseDelivered", "Conn/WriteAfterServerCloseFails",
			"Conn/ProtocolErrorsCloseWithCode", "Conn/ReadLimitCloses1009", "Conn/DefaultReadLimitIs64KiB", "Conn/ReadLimitHugeContinuation",
			"Transport/ServerCloseCodeReachesDisconnected"}, control},
		{"ToleratesProtocolErrors", toleratesProtocolErrors, []string{
			"Conn/MaskedServerFrameFails", "Conn/RSVBitsFail", "Conn/ReservedOpcodeFails", "Conn/UnexpectedContinuationFails",
			"Conn/FragmentedControlFrameFails", "Conn/LongControlFrameFails", "Conn/BadCloseCodeFails",
			"Conn/BadCloseReasonFails", "Conn/LengthTopBitFails"}, control},
		{"RejectsNewCloseCodes", conn(func(c dialer.Conn) dialer.Conn { return rejectsNewCloseCodes{c} }), []string{
			"Conn/EveryValidCloseCodeReported"}, control},
		{"HidesAbnormalClose", conn(newHidesAbnormalClose), []string{
			"Conn/DroppedTCPIs1006", "Conn/CutMidFrameIs1006", "Conn/ResetIs1006", "Transport/ReconnectAfterServerDrop"}, control},
		{"ForgetsReadError", conn(func(c dialer.Conn) dialer.Conn { return &forgetsReadError{Conn: c} }), []string{
			"Conn/ReadErrorPermanent"}, control},
		{"FlattensConnErrors", conn(func(c dialer.Conn) dialer.Conn { return flattensConnErrors{c} }), []string{
			"Conn/ReadErrorPermanent", "Conn/ReadAfterCloseIsCloseError", "Conn/ClosedErrorsWrapNetErrClosed"}, control},

		// Conn: writing.
		{"SwapsTextAndBinary", rewriting(swapsTextBinary, nil), []string{
			"Conn/TextFrameForUTF8", "Conn/BinaryFrameOtherwise"}, control},
		{"FragmentsWrites", rewriting(fragmentsWrites, nil), []string{"Conn/OneFramePerMessage"}, control},
		{"IgnoresSendLimit", editOptions(ignoresSendLimit), []string{
			"Conn/MaxSendSizeRefused", "Conn/MaxSendSizeDefault64KiB"}, control},
		{"ModifiesInput", conn(func(c dialer.Conn) dialer.Conn { return modifiesInput{c} }), []string{
			"Conn/WriteDoesNotModifyInput"}, noMessages},
		{"MasksInPlace", conn(func(c dialer.Conn) dialer.Conn { return masksInPlace{c} }), []string{
			"Conn/WriteDoesNotModifyInput"}, control},
		{"DefersWrite", conn(func(c dialer.Conn) dialer.Conn { return &defersWrite{Conn: c} }), []string{
			"Conn/WriteDoesNotRetainInput"}, noMessages},
		{"Unmasked", rewriting(unmasked, nil), []string{"Conn/FramesMasked"}, control},
		{"FixedMaskKey", rewriting(fixedMaskKey, nil), []string{"Conn/FreshMaskKeyPerFrame"}, control},
		{"Interleaves", interleaves, []string{
			"Conn/PongNeverInsideDataFrame", "Conn/CloseNeverInsideDataFrame", "Pinger/NeverInsideDataFrame"}, "Conn/TextFrameForUTF8"},

		// Conn: closing and concurrency.
		{"CloseIgnoresCode", conn(func(c dialer.Conn) dialer.Conn { return closeIgnoresCode{c} }), []string{
			"Conn/CloseSendsCodeAndReason", "Transport/PongTimeoutClosesHalfOpen"}, control},
		{"ClosesWith1000", rewriting(closesWith1000, nil), []string{"Conn/CloseEchoesCode", "Conn/CloseSendsCodeAndReason"}, control},
		{"GivesReservedCodesABody", rewriting(givesReservedCodesABody, nil), []string{"Conn/CloseUnsendableCodeHasNoBody"}, control},
		{"SendsBadCloseReason", rewriting(badCloseReason, nil), []string{"Conn/CloseReasonAlwaysUTF8"}, control},
		{"CutsReasonBytewise", conn(func(c dialer.Conn) dialer.Conn { return cutsReasonBytewise{c} }), []string{"Conn/LongCloseReasonCut"}, control},
		{"DropsCloseFrames", rewriting(dropsCloseFrames, nil), []string{
			"Conn/CloseSendsCodeAndReason", "Conn/FramesMasked", "Conn/ServerCloseCodeReported",
			"Conn/ProtocolErrorsCloseWithCode", "Conn/CloseIdempotentConcurrent",
			"Transport/DisconnectSends1000"}, control},
		{"CloseDoesNothing", conn(func(c dialer.Conn) dialer.Conn { return closeDoesNothing{c} }), []string{
			"Conn/CloseUnblocksRead", "Conn/ConcurrentReadWriteClose", "Conn/WriteAfterCloseFails"}, control},
		{"SlowClose", conn(func(c dialer.Conn) dialer.Conn { return slowClose{c} }), []string{
			"Conn/CloseBounded", "Transport/PongTimeoutClosesHalfOpen"}, "Dial/ClosedPortFailsFast"},
		{"ClosePanicsTwice", conn(func(c dialer.Conn) dialer.Conn {
			return &closePanicsTwice{Conn: c, closed: make(chan struct{})}
		}), []string{"Conn/CloseIdempotentConcurrent"}, control},
		{"WriteAfterCloseSucceeds", conn(func(c dialer.Conn) dialer.Conn { return &writeAfterCloseSucceeds{Conn: c} }), []string{
			"Conn/WriteAfterCloseFails", "Conn/WriteAfterServerCloseFails"}, control},
		{"PanicsOnWriteDuringClose", conn(newPanicsOnWriteDuringClose), []string{
			"Conn/WriteAfterCloseFails", "Conn/ConcurrentReadWriteClose", "Transport/SendRacingDisconnect"}, control},
		{"LeaksGoroutine", leaksGoroutine(release), []string{
			"Conn/NoGoroutineAfterClose", "Transport/DisconnectLeavesNoGoroutine", "Transport/DisconnectDuringConnect"}, control},

		// Pinger.
		{"PingDoesNothing", wrapPingers(func(p dialer.Pinger) dialer.Conn { return pingDoesNothing{p} }), []string{
			"Pinger/PingReachesServer", "Pinger/PongReachesHandler", "Pinger/Over125Refused"}, control},
		{"IgnoresPongHandler", wrapPingers(func(p dialer.Pinger) dialer.Conn { return ignoresPongHandler{p} }), []string{
			"Pinger/PongReachesHandler"}, control},
		{"PingTruncates", wrapPingers(func(p dialer.Pinger) dialer.Conn { return pingTruncates{p} }), []string{
			"Pinger/Over125Refused"}, control},
	}
}

// checksLeaks is true of a case that checks that no goroutine outlives
// it: a fault running one must not run in parallel with another.
var checksLeaks = map[string]bool{
	"Conn/NoGoroutineAfterClose":            true,
	"Transport/DisconnectLeavesNoGoroutine": true,
	"Transport/DisconnectDuringConnect":     true,
}

// TestSuiteCatchesFaults runs, for each broken backend, the cases that
// must catch its bug, and checks that each of them fails while a case
// the bug does not touch still passes. Most of the faults fail by a wait
// running out, so those whose cases do not count goroutines run in
// parallel (as many at once as -parallel allows), after the others.
func TestSuiteCatchesFaults(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release); stuckSockets.closeAll() })
	for _, f := range faults(release) {
		t.Run(f.name, func(t *testing.T) {
			if !slices.ContainsFunc(append(slices.Clone(f.breaks), f.control), func(name string) bool { return checksLeaks[name] }) {
				t.Parallel()
			}
			err := conformance.Test(f.newDialer, append(slices.Clone(f.breaks), f.control)...)
			failed := failures(t, err)
			for _, name := range f.breaks {
				ce, ok := failed[name]
				if !ok {
					t.Errorf("%s passed on the %s backend; want it to fail", name, f.name)
					continue
				}
				t.Logf("%s failed as it should: %s", name, firstLine(ce))
			}
			if ce, ok := failed[f.control]; ok {
				t.Errorf("control case %s failed on the %s backend; the fault breaks more than it should:\n%v", f.control, f.name, ce)
			}
		})
	}
}

// TestEveryCaseCatchesAFault checks that the fault table covers the
// suite: a case that no broken backend fails proves nothing.
func TestEveryCaseCatchesAFault(t *testing.T) {
	covered := make(map[string]bool)
	for _, f := range faults(nil) {
		for _, name := range f.breaks {
			covered[name] = true
		}
		if slices.Contains(f.breaks, f.control) {
			t.Errorf("fault %s: its control %s is also in the cases it breaks", f.name, f.control)
		}
	}
	cases := conformance.Cases()
	for _, name := range cases {
		if !covered[name] {
			t.Errorf("case %s is not shown failing on any broken backend", name)
		}
		delete(covered, name)
	}
	for _, name := range slices.Sorted(maps.Keys(covered)) {
		t.Errorf("the fault table names %s, which is not a case", name)
	}
	if len(cases) < 75 {
		t.Errorf("the suite has %d cases; want at least 75", len(cases))
	}
}

// TestTestPassesCorrectBackend runs the whole suite through Test, the
// twin without *testing.T, on the correct backend.
func TestTestPassesCorrectBackend(t *testing.T) {
	if err := conformance.Test(correct); err != nil {
		t.Fatal(err)
	}
}

func TestTestUnknownCase(t *testing.T) {
	err := conformance.Test(correct, "Conn/WholeMessageBothWays", "Conn/NoSuchRule")
	if !errors.Is(err, conformance.ErrUnknownCase) || !strings.Contains(err.Error(), "Conn/NoSuchRule") {
		t.Fatalf("Test with an unknown case: %v; want an error wrapping ErrUnknownCase naming it", err)
	}
}

// TestCaseErrorReport checks what a failure says: the case, what was seen,
// and the rule with its source.
func TestCaseErrorReport(t *testing.T) {
	err := conformance.Test(editOptions(dropsQuery), "Dial/PathAndQueryUnchanged")
	ce := failures(t, err)["Dial/PathAndQueryUnchanged"]
	if ce == nil {
		t.Fatalf("Test on a backend that drops the query: %v; want the case to fail", err)
	}
	text := ce.Error()
	for _, want := range []string{
		"conformance: Dial/PathAndQueryUnchanged (MUST) failed",
		// The check's file:line, then what was seen.
		`cases_dial.go:`,
		`: server saw request targets ["/sip/ws"]; want ["/sip/ws?KEY=1234&transport=ws&x=a%20b"]`,
		// The rule with its grade and the case's source, as slogtest's withSource.
		`MUST: the request target is the URL's path and query exactly as given (SPEC.md "Server URIs"`,
		`(conformance/cases_dial.go:`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report does not say %q:\n%s", want, text)
		}
	}
	if ce.Grade != conformance.Must {
		t.Errorf("CaseError.Grade = %v; want MUST", ce.Grade)
	}
}

// TestRecorderSurvivesPanics checks that a panic in a backend fails its
// case under Test instead of crashing the caller.
func TestRecorderSurvivesPanics(t *testing.T) {
	panics := func() dialer.Dialer {
		return dialFunc(func(ctx context.Context, u string, o dialer.Options) (dialer.Conn, error) {
			panic("backend bug")
		})
	}
	err := conformance.Test(panics, "Dial/OffersSipSubprotocol")
	ce := failures(t, err)["Dial/OffersSipSubprotocol"]
	if ce == nil || !strings.Contains(ce.Error(), "panicked: backend bug") {
		t.Fatalf("Test on a panicking backend: %v; want the case to fail reporting the panic", err)
	}
}

// failures returns the failed cases in err, by name.
func failures(t *testing.T, err error) map[string]*conformance.CaseError {
	t.Helper()
	out := make(map[string]*conformance.CaseError)
	if err == nil {
		return out
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Test returned %v (%T); want an errors.Join of *conformance.CaseError", err, err)
	}
	for _, e := range joined.Unwrap() {
		var ce *conformance.CaseError
		if !errors.As(e, &ce) {
			t.Fatalf("Test returned %v (%T) among its errors; want a *conformance.CaseError", e, e)
		}
		out[ce.Case] = ce
	}
	return out
}

func firstLine(ce *conformance.CaseError) string {
	if len(ce.Log) == 0 {
		return "(no message)"
	}
	line, _, _ := strings.Cut(ce.Log[0], "\n")
	return line
}
