package sipgows

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// LevelTrace is the slog level hclog's Trace maps to: below slog.LevelDebug,
// as Trace is below Debug in hclog.
const LevelTrace = slog.LevelDebug - 4

// ModuleKey is the attribute key that carries an hclog logger's name
// (Named, ResetNamed), as hclog's own JSON output names it.
const ModuleKey = "@module"

// HCLogFromSlog returns an hclog.Logger that writes to l's handler, for the
// transport's and the bridge's Logger when the rest of a program (sipgo,
// diago) logs with log/slog. A nil l means slog.Default().
//
// Levels map one to one (Trace to LevelTrace, Debug, Info, Warn and Error
// to slog's), and IsTrace, IsDebug... answer from the handler's Enabled, so
// a guarded call costs one Enabled call. A disabled call allocates nothing;
// an enabled one makes a slog.Record with the caller's source position.
// Named and ResetNamed set the ModuleKey attribute ("transport",
// "sipgows.transport"...); With adds its pairs to the handler as slog's
// Logger.With does, and ImpliedArgs returns them. SetLevel adds a floor
// below which nothing is logged, shared with the loggers derived from this
// one, as hclog's are; GetLevel returns the floor, or the lowest level the
// handler enables. hclog.Fmt values are formatted when logged.
func HCLogFromSlog(l *slog.Logger) hclog.Logger {
	if l == nil {
		l = slog.Default()
	}
	return &slogLogger{h: l.Handler(), floor: new(atomic.Int32)}
}

type slogLogger struct {
	h       slog.Handler
	name    string
	implied []any
	floor   *atomic.Int32 // an hclog.Level; NoLevel = the handler decides
}

// slogLevel maps an hclog level to slog's; ok is false for Off.
func slogLevel(l hclog.Level) (slog.Level, bool) {
	switch l {
	case hclog.Trace:
		return LevelTrace, true
	case hclog.Debug:
		return slog.LevelDebug, true
	case hclog.NoLevel, hclog.Info:
		return slog.LevelInfo, true
	case hclog.Warn:
		return slog.LevelWarn, true
	case hclog.Error:
		return slog.LevelError, true
	}
	return 0, false
}

func (s *slogLogger) enabled(l hclog.Level) bool {
	if f := hclog.Level(s.floor.Load()); f != hclog.NoLevel && l < f {
		return false
	}
	sl, ok := slogLevel(l)
	return ok && s.h.Enabled(context.Background(), sl)
}

// log writes one record, with the position of the caller of the method
// that called log.
func (s *slogLogger) log(level hclog.Level, msg string, args []any) {
	sl, _ := slogLevel(level)
	var pcs [1]uintptr
	runtime.Callers(3, pcs[:]) // runtime.Callers, log, the method
	r := slog.NewRecord(time.Now(), sl, msg, pcs[0])
	if s.name != "" {
		r.AddAttrs(slog.String(ModuleKey, s.name))
	}
	copied := false
	for i, a := range args {
		if f, ok := a.(hclog.Format); ok {
			if !copied {
				args, copied = append([]any(nil), args...), true // the caller's slice is theirs
			}
			args[i] = formatArg(f)
		}
	}
	r.Add(args...)
	_ = s.h.Handle(context.Background(), r)
}

func formatArg(f hclog.Format) string {
	if len(f) == 0 {
		return ""
	}
	if format, ok := f[0].(string); ok {
		return fmt.Sprintf(format, f[1:]...)
	}
	return fmt.Sprint(f...)
}

func (s *slogLogger) Log(level hclog.Level, msg string, args ...any) {
	if s.enabled(level) {
		s.log(level, msg, args)
	}
}

func (s *slogLogger) Trace(msg string, args ...any) {
	if s.enabled(hclog.Trace) {
		s.log(hclog.Trace, msg, args)
	}
}

func (s *slogLogger) Debug(msg string, args ...any) {
	if s.enabled(hclog.Debug) {
		s.log(hclog.Debug, msg, args)
	}
}

func (s *slogLogger) Info(msg string, args ...any) {
	if s.enabled(hclog.Info) {
		s.log(hclog.Info, msg, args)
	}
}

func (s *slogLogger) Warn(msg string, args ...any) {
	if s.enabled(hclog.Warn) {
		s.log(hclog.Warn, msg, args)
	}
}

func (s *slogLogger) Error(msg string, args ...any) {
	if s.enabled(hclog.Error) {
		s.log(hclog.Error, msg, args)
	}
}

func (s *slogLogger) IsTrace() bool { return s.enabled(hclog.Trace) }
func (s *slogLogger) IsDebug() bool { return s.enabled(hclog.Debug) }
func (s *slogLogger) IsInfo() bool  { return s.enabled(hclog.Info) }
func (s *slogLogger) IsWarn() bool  { return s.enabled(hclog.Warn) }
func (s *slogLogger) IsError() bool { return s.enabled(hclog.Error) }

func (s *slogLogger) ImpliedArgs() []any { return append([]any(nil), s.implied...) }

func (s *slogLogger) With(args ...any) hclog.Logger {
	if len(args) == 0 {
		return s
	}
	c := *s
	c.h = slog.New(s.h).With(args...).Handler()
	c.implied = append(append([]any(nil), s.implied...), args...)
	return &c
}

func (s *slogLogger) Name() string { return s.name }

func (s *slogLogger) Named(name string) hclog.Logger {
	c := *s
	if c.name != "" {
		c.name += "." + name
	} else {
		c.name = name
	}
	return &c
}

func (s *slogLogger) ResetNamed(name string) hclog.Logger {
	c := *s
	c.name = name
	return &c
}

func (s *slogLogger) SetLevel(level hclog.Level) { s.floor.Store(int32(level)) }

func (s *slogLogger) GetLevel() hclog.Level {
	if f := hclog.Level(s.floor.Load()); f != hclog.NoLevel {
		return f
	}
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if s.enabled(l) {
			return l
		}
	}
	return hclog.Off
}

func (s *slogLogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(s.StandardWriter(opts), "", 0)
}

func (s *slogLogger) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	if opts == nil {
		opts = &hclog.StandardLoggerOptions{}
	}
	return &stdWriter{l: s, opts: *opts}
}

// stdWriter logs each line written to it, as hclog's standard writer does:
// at ForceLevel, or at the level of a "[DEBUG]"-style prefix with
// InferLevels, or at Info.
type stdWriter struct {
	l    *slogLogger
	opts hclog.StandardLoggerOptions
}

func (w *stdWriter) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		msg := strings.TrimRight(string(line), "\r\n")
		level := hclog.Info
		switch {
		case w.opts.ForceLevel != hclog.NoLevel:
			level, msg = w.opts.ForceLevel, stripLevel(msg)
		case w.opts.InferLevels:
			level, msg = inferLevel(msg)
		}
		if w.l.enabled(level) {
			sl, _ := slogLevel(level)
			r := slog.NewRecord(time.Now(), sl, msg, 0)
			if w.l.name != "" {
				r.AddAttrs(slog.String(ModuleKey, w.l.name))
			}
			_ = w.l.h.Handle(context.Background(), r)
		}
	}
	return len(p), nil
}

var levelPrefixes = []struct {
	prefix string
	level  hclog.Level
}{
	{"[TRACE]", hclog.Trace}, {"[DEBUG]", hclog.Debug}, {"[INFO]", hclog.Info},
	{"[WARN]", hclog.Warn}, {"[ERROR]", hclog.Error}, {"[ERR]", hclog.Error},
}

func inferLevel(msg string) (hclog.Level, string) {
	for _, p := range levelPrefixes {
		if rest, ok := strings.CutPrefix(msg, p.prefix); ok {
			return p.level, strings.TrimSpace(rest)
		}
	}
	return hclog.Info, msg
}

func stripLevel(msg string) string {
	_, rest := inferLevel(msg)
	return rest
}
