package sipgows

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sipws/sipws/sipmsg"
	"github.com/sipws/sipws/transport"
)

// fakeTransport is a transport.Transport in memory, for the cases that
// check the bridge alone: Send records, or fails with err; deliver plays a
// message the transport received.
type fakeTransport struct {
	cfg transport.Config
	ev  atomic.Pointer[transport.Events]

	mu     sync.Mutex
	sent   [][]byte
	err    error
	onSend func(msg []byte) // called by Send, if set, before it returns
}

func newFake(cfg transport.Config) *fakeTransport {
	f := &fakeTransport{cfg: cfg}
	f.SetEvents(cfg.Events)
	return f
}

func (f *fakeTransport) Connect(context.Context) error    { return nil }
func (f *fakeTransport) Disconnect(context.Context) error { return nil }
func (f *fakeTransport) Status() transport.Status         { return transport.StatusOpen }
func (f *fakeTransport) SetEvents(e transport.Events)     { f.ev.Store(&e) }
func (f *fakeTransport) Config() transport.Config         { return f.cfg }

func (f *fakeTransport) Send(_ context.Context, msg []byte) error {
	f.mu.Lock()
	err, on := f.err, f.onSend
	if err == nil && on == nil {
		f.sent = append(f.sent, bytes.Clone(msg))
	}
	f.mu.Unlock()
	if on != nil {
		on(msg)
	}
	return err
}

func (f *fakeTransport) setErr(err error) {
	f.mu.Lock()
	f.err = err
	f.mu.Unlock()
}

func (f *fakeTransport) sentMessages() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.sent...)
}

// deliver plays raw as a message the transport received and checked.
func (f *fakeTransport) deliver(t testing.TB, raw []byte) {
	t.Helper()
	var m sipmsg.Message
	if err := m.Parse(raw); err != nil {
		t.Fatalf("deliver %q: %v", raw, err)
	}
	if cb := f.ev.Load().Message; cb != nil {
		cb(&m)
	}
}

var _ transport.Transport = (*fakeTransport)(nil)
