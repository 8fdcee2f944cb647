package clusterruntime

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// upstreamLogger returns the logger handed to the upstream controllers (through
// klog.NewContext): log's handler, one step quieter. Upstream Info messages ("Starting
// controller", "Caches are synced", one per controller and cluster) become Debug, klog
// verbosity V(n) becomes Debug-n, and upstream errors become Warn, except the routine
// ones (see routine) and all of them once stopping is set, which become Debug: a stopping
// runtime cuts requests and connections short, and the controllers complain.
func upstreamLogger(log *slog.Logger, stopping *atomic.Bool) logr.Logger {
	return logr.FromSlogHandler(quieterHandler{log.With("component", "kube-controllers").Handler(), stopping})
}

// quieterHandler lowers the level of every record before handing it on.
type quieterHandler struct {
	next     slog.Handler
	stopping *atomic.Bool
}

func quieter(l slog.Level) slog.Level {
	if l >= slog.LevelError {
		return slog.LevelWarn
	}
	return l - (slog.LevelInfo - slog.LevelDebug)
}

func (h quieterHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, quieter(l))
}

func (h quieterHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = quieter(r.Level)
	if r.Level > slog.LevelDebug && (h.stopping.Load() || routine(r)) {
		r.Level = slog.LevelDebug
	}
	if !h.next.Enabled(ctx, r.Level) {
		// logr hands errors over without asking Enabled first.
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h quieterHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quieterHandler{h.next.WithAttrs(attrs), h.stopping}
}

func (h quieterHandler) WithGroup(name string) slog.Handler {
	return quieterHandler{h.next.WithGroup(name), h.stopping}
}

// routine tells whether a record reports an error that is part of normal operation:
// optimistic-concurrency conflicts and objects deleted meanwhile, which the controllers
// retry or drop on their own, requests cut short by Stop, and the second registration of
// a controller's metrics, which every cluster after the first in a process makes (the
// first one's stay).
func routine(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		err, ok := a.Value.Any().(error)
		if !ok {
			return true
		}
		var dup prometheus.AlreadyRegisteredError
		found = apierrors.IsConflict(err) || apierrors.IsNotFound(err) || errors.As(err, &dup) || errors.Is(err, context.Canceled)
		return !found
	})
	return found
}
