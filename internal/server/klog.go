package server

import (
	"context"
	"log/slog"

	"k8s.io/klog/v2"
)

// routeKlog sends the logs that Kubernetes libraries write to klog's global logger (the
// embedded apiservers and controllers) into mlfleet's structured log, warnings and errors
// only: their routine info lines would drown the control plane's own.
func routeKlog(log *slog.Logger) {
	klog.SetSlogLogger(slog.New(minLevel{Handler: log.Handler().WithAttrs([]slog.Attr{slog.String("component", "kubernetes")}), min: slog.LevelWarn}))
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{Handler: h.Handler.WithAttrs(a), min: h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: h.Handler.WithGroup(name), min: h.min}
}
