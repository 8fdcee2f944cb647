package server

import (
	"context"
	"log/slog"
	"strings"

	"k8s.io/klog/v2"
)

// routeKlog sends the logs that Kubernetes libraries write to klog's global logger (the
// embedded apiservers and controllers) into mlfleet's structured log, warnings and errors
// only: their routine info lines would drown the control plane's own.
func routeKlog(log *slog.Logger) {
	klog.SetSlogLogger(slog.New(minLevel{Handler: log.Handler().WithAttrs([]slog.Attr{slog.String("component", "kubernetes")}), min: slog.LevelWarn}))
}

// minLevel drops records below min, and the errors of retriedByDesign.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) Handle(ctx context.Context, r slog.Record) error {
	if retriedByDesign(r) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(a), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}

// retriedByDesign reports whether r is an error a Kubernetes controller logs for a sync it
// puts back in its queue on purpose, which says nothing is wrong. The one known is the
// ReplicaSet controller's read-your-writes check (StaleControllerConsistencyReplicaSet):
// its informer has not yet seen the pods it wrote, so it waits for the watch to catch up.
// Under kine (a PostgreSQL store) the watch lags by a poll, so every scale of a Deployment
// logged it a few times, as an ERROR a user would take for a fault. The controller wraps
// the error with %v, so only its text can be matched.
func retriedByDesign(r slog.Record) bool {
	if r.Level < slog.LevelError {
		return false
	}
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == "err" && strings.Contains(a.Value.String(), " is not as new as written version: ")
		return !found
	})
	return found
}
