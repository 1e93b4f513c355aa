package wsgobwas

import (
	"strconv"
	"testing"

	"github.com/sipws/sipws/conformance"
	"github.com/sipws/sipws/dialer"
	"github.com/sipws/sipws/internal/wstest"
)

// TestConformance runs the suite every dialer.Dialer must pass, with the
// default read buffer and with the smallest, under which most messages
// come in frames larger than the buffer and go through reassembly.
func TestConformance(t *testing.T) {
	for _, size := range []int{DefaultReadBufferSize, minReadBufferSize} {
		t.Run("ReadBufferSize="+strconv.Itoa(size), func(t *testing.T) {
			conformance.Run(t, func(*testing.T) dialer.Dialer { return &Dialer{ReadBufferSize: size} })
		})
	}
}

// TestBackend and FuzzReadMessage run wstest's tests shared with package
// ws: exact timing over net.Pipe, one write per frame, and the frame
// reader fuzzed through a scripted server.
func TestBackend(t *testing.T) {
	wstest.RunBackend(t, func(nd wstest.NetDial) dialer.Dialer { return &Dialer{NetDial: nd} })
}

func FuzzReadMessage(f *testing.F) {
	wstest.FuzzReadMessage(f, func(nd wstest.NetDial) dialer.Dialer { return &Dialer{NetDial: nd} })
}
