package sipgows

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// recorder is a slog.Handler that records what it handles and the levels
// it was asked about.
type recorder struct {
	min   slog.Level
	attrs []slog.Attr
	log   *recLog
}

type recLog struct {
	mu      sync.Mutex
	records []record
	asked   []slog.Level
}

type record struct {
	level slog.Level
	msg   string
	attrs map[string]string
	pc    uintptr
}

func newRecorder(min slog.Level) *recorder { return &recorder{min: min, log: &recLog{}} }

func (h *recorder) Enabled(_ context.Context, l slog.Level) bool {
	h.log.mu.Lock()
	h.log.asked = append(h.log.asked, l)
	h.log.mu.Unlock()
	return l >= h.min
}

func (h *recorder) Handle(_ context.Context, r slog.Record) error {
	rec := record{level: r.Level, msg: r.Message, attrs: map[string]string{}, pc: r.PC}
	for _, a := range h.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	h.log.mu.Lock()
	h.log.records = append(h.log.records, rec)
	h.log.mu.Unlock()
	return nil
}

func (h *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(slices.Clone(h.attrs), as...)
	return &c
}

func (h *recorder) WithGroup(string) slog.Handler { return h }

func (h *recorder) records() []record {
	h.log.mu.Lock()
	defer h.log.mu.Unlock()
	return slices.Clone(h.log.records)
}

func (h *recorder) asked() []slog.Level {
	h.log.mu.Lock()
	defer h.log.mu.Unlock()
	return slices.Clone(h.log.asked)
}

func TestHCLogFromSlog(t *testing.T) {
	t.Run("Levels", func(t *testing.T) {
		// hclog's Trace maps below slog's Debug; the others one to one.
		h := newRecorder(LevelTrace)
		l := HCLogFromSlog(slog.New(h))
		l.Trace("t")
		l.Debug("d")
		l.Info("i")
		l.Warn("w")
		l.Error("e")
		l.Log(hclog.Warn, "lw")
		l.Log(hclog.NoLevel, "ln")
		want := []record{{level: LevelTrace, msg: "t"}, {level: slog.LevelDebug, msg: "d"}, {level: slog.LevelInfo, msg: "i"},
			{level: slog.LevelWarn, msg: "w"}, {level: slog.LevelError, msg: "e"}, {level: slog.LevelWarn, msg: "lw"},
			{level: slog.LevelInfo, msg: "ln"}}
		got := h.records()
		if len(got) != len(want) {
			t.Fatalf("%d records, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i].level != want[i].level || got[i].msg != want[i].msg {
				t.Errorf("record %d: %v %q, want %v %q", i, got[i].level, got[i].msg, want[i].level, want[i].msg)
			}
		}
		if !(LevelTrace < slog.LevelDebug) {
			t.Errorf("LevelTrace %v is not below slog.LevelDebug", LevelTrace)
		}
	})
	t.Run("NamedAndWith", func(t *testing.T) {
		h := newRecorder(slog.LevelInfo)
		root := HCLogFromSlog(slog.New(h))
		l := root.Named("sipgows").Named("transport").With("server", "ws://a")
		l.With("pipe", 2).Info("m", "k", 1)
		got := h.records()[0].attrs
		want := map[string]string{ModuleKey: "sipgows.transport", "server": "ws://a", "pipe": "2", "k": "1"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("attribute %s = %q, want %q (all: %v)", k, got[k], v, got)
			}
		}
		if l.Name() != "sipgows.transport" || root.Name() != "" || l.ResetNamed("x").Name() != "x" {
			t.Errorf("names %q %q %q, want sipgows.transport, empty, x", l.Name(), root.Name(), l.ResetNamed("x").Name())
		}
		if got := l.ImpliedArgs(); !slices.Equal(got, []any{"server", "ws://a"}) || len(root.ImpliedArgs()) != 0 {
			t.Errorf("ImpliedArgs %v (root %v), want [server ws://a] (root none)", got, root.ImpliedArgs())
		}
	})
	t.Run("IsAnswersFromEnabled", func(t *testing.T) {
		h := newRecorder(slog.LevelInfo)
		l := HCLogFromSlog(slog.New(h))
		got := []bool{l.IsTrace(), l.IsDebug(), l.IsInfo(), l.IsWarn(), l.IsError()}
		if !slices.Equal(got, []bool{false, false, true, true, true}) {
			t.Errorf("IsTrace..IsError = %v with a handler at Info", got)
		}
		if asked := h.asked(); !slices.Equal(asked, []slog.Level{LevelTrace, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError}) {
			t.Errorf("the handler was asked about %v, want each level once, in order", asked)
		}
	})
	t.Run("DisabledAllocatesNothing", func(t *testing.T) {
		l := HCLogFromSlog(slog.New(newRecorder(slog.LevelInfo)))
		args := []any{"server", "ws://a", "n", 3} // the caller's slice, as a call site builds it
		allocs := testing.AllocsPerRun(100, func() {
			l.Trace("m", args...)
			l.Debug("m", args...)
			l.Log(hclog.Debug, "m", args...)
			_ = l.IsDebug()
		})
		if allocs != 0 {
			t.Errorf("disabled calls: %v allocations, want 0", allocs)
		}
	})
	t.Run("Source", func(t *testing.T) {
		h := newRecorder(slog.LevelInfo)
		HCLogFromSlog(slog.New(h)).Info("here")
		fr, _ := runtime.CallersFrames([]uintptr{h.records()[0].pc}).Next()
		if !strings.HasSuffix(fr.File, "hclog_test.go") || !strings.Contains(fr.Function, "TestHCLogFromSlog") {
			t.Errorf("source %s:%d %s, want the caller in hclog_test.go", fr.File, fr.Line, fr.Function)
		}
	})
	t.Run("SetLevel", func(t *testing.T) {
		h := newRecorder(LevelTrace)
		l := HCLogFromSlog(slog.New(h))
		child := l.Named("c")
		if l.GetLevel() != hclog.Trace {
			t.Errorf("GetLevel %v, want Trace (the handler's)", l.GetLevel())
		}
		l.SetLevel(hclog.Warn) // shared with child, as hclog's loggers share it
		child.Info("dropped")
		child.Warn("kept")
		if got := h.records(); len(got) != 1 || got[0].msg != "kept" || child.GetLevel() != hclog.Warn || child.IsInfo() {
			t.Errorf("records %v, child level %v; want only the Warn record, level Warn", got, child.GetLevel())
		}
		l.SetLevel(hclog.Off)
		l.Error("off")
		if len(h.records()) != 1 {
			t.Error("logged at Off")
		}
	})
	t.Run("FmtAndStandardLogger", func(t *testing.T) {
		h := newRecorder(slog.LevelDebug)
		l := HCLogFromSlog(slog.New(h))
		args := []any{"k", hclog.Fmt("%d-%s", 1, "a")}
		l.Info("m", args...)
		if got := h.records()[0].attrs["k"]; got != "1-a" {
			t.Errorf("hclog.Fmt value logged as %q, want 1-a", got)
		}
		if _, ok := args[1].(hclog.Format); !ok {
			t.Error("the caller's args were modified")
		}
		l.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}).Print("[WARN] disk full")
		l.StandardLogger(nil).Print("plain")
		got := h.records()[1:]
		if len(got) != 2 || got[0].level != slog.LevelWarn || got[0].msg != "disk full" || got[1].level != slog.LevelInfo || got[1].msg != "plain" {
			t.Errorf("standard logger records %v, want Warn \"disk full\" and Info \"plain\"", got)
		}
	})
}
