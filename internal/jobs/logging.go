package jobs

import (
	"context"
	"log/slog"
)

// riverLogger is the logger River gets: log's handler, with River's records
// below warn dropped unless log is enabled at debug. At info River reports
// its routine (the producer's job counts every 5 s while jobs run, the client
// starting and stopping, each maintenance pass), which was a third of
// orderhub's log; its warnings and errors still come through. A failed job
// River reports only at info, so the worker logs that itself (see Work).
func riverLogger(log *slog.Logger) *slog.Logger {
	return slog.New(quietHandler{inner: log.Handler()}).With("component", "river")
}

// quietHandler passes a record below warn only when its inner handler takes
// debug records. It asks the inner handler each time rather than once, so a
// level changed at run time (a slog.LevelVar) applies to River too.
type quietHandler struct{ inner slog.Handler }

func (h quietHandler) Enabled(ctx context.Context, l slog.Level) bool {
	if l < slog.LevelWarn && !h.inner.Enabled(ctx, slog.LevelDebug) {
		return false
	}
	return h.inner.Enabled(ctx, l)
}

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if !h.Enabled(ctx, r.Level) {
		return nil
	}
	return h.inner.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{inner: h.inner.WithAttrs(attrs)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{inner: h.inner.WithGroup(name)}
}
