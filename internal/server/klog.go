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

// minLevel drops records below min, and lowers the level of the errors in selfHealing.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		r.Level = selfHealingLevel(r)
	}
	if r.Level < h.min {
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

// selfHealing are errors that Kubernetes components log for something they retry or
// repair by themselves, with the level they are worth in mlfleet's log: Debug (not
// shown) for a retry by design, which says nothing is wrong; Warn for a repair. A user
// took each for a fault. They are matched by message and by the text of the record's err
// ("": any), since the components wrap their errors with %v. Under kine (a PostgreSQL store) the watch lags
// by a poll, which is why they show there and seldom on the embedded etcd.
var selfHealing = []struct {
	msg, err string
	level    slog.Level
}{
	// The ReplicaSet controller's read-your-writes check (StaleControllerConsistency…):
	// its informer has not yet seen the pods it wrote, so it requeues until it has.
	{"Unhandled Error", " is not as new as written version: ", slog.LevelDebug},
	// A new apiserver's legacy token tracking writes its ConfigMap before the namespace
	// controller has made kube-system, and retries until it is there.
	{"Error while syncing ConfigMap", `namespaces "kube-system" not found`, slog.LevelDebug},
	// The service IP repair loop found the apiserver's own Service IP unrecorded at
	// start and records it.
	{"Unhandled Error", " is not allocated; repairing", slog.LevelWarn},
	// A request a client gave up on, or one in flight when its cluster stopped (every
	// cluster delete): the apiserver reports the abort, then what the handler did after it.
	{"Timeout or abort while handling", "", slog.LevelWarn},
	{"Post-timeout activity", "", slog.LevelDebug},
	{"Unhandled Error", "post-timeout activity", slog.LevelDebug},
}

// selfHealingLevel returns the level r is worth: its own, or a lower one from selfHealing.
func selfHealingLevel(r slog.Record) slog.Level {
	var text string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			text = a.Value.String()
		}
		return text == ""
	})
	for _, e := range selfHealing {
		if r.Message == e.msg && strings.Contains(text, e.err) {
			return e.level
		}
	}
	return r.Level
}
