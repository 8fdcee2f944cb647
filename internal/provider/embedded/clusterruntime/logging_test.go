package clusterruntime

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestUpstreamLoggerIsQuieter(t *testing.T) {
	var buf bytes.Buffer
	var stopping atomic.Bool
	log := upstreamLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), &stopping)
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "namespaces"}, "x", errors.New("modified"))

	log.Info("Starting controller")
	log.V(4).Info("Finished syncing")
	log.Error(conflict, "Couldn't update status")
	log.Error(prometheus.AlreadyRegisteredError{}, "unable to register metrics")
	log.Error(errors.New("forbidden"), "cannot list")

	out := buf.String()
	for _, quiet := range []string{"Starting controller", "Finished syncing", "Couldn't update status", "unable to register metrics"} {
		if strings.Contains(out, quiet) {
			t.Errorf("%q logged at Info level:\n%s", quiet, out)
		}
	}
	if !strings.Contains(out, "level=WARN msg=\"cannot list\"") {
		t.Errorf("an unexpected upstream error is not a warning:\n%s", out)
	}

	buf.Reset()
	stopping.Store(true)
	log.Error(errors.New("use of closed network connection"), "Unable to write event")
	if buf.Len() != 0 {
		t.Errorf("upstream error while stopping logged at Info level: %s", buf.String())
	}
}
