package server

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kubernetes/pkg/controller/util/consistency"
)

// TestKlogRetriedByDesign: the ReplicaSet controller's read-your-writes retry, logged by
// klog as an "Unhandled Error" whose err wraps the upstream ConsistencyError with %v, is
// not written to mlfleet's log; other errors and warnings are, and info lines are not.
func TestKlogRetriedByDesign(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(minLevel{Handler: slog.NewJSONHandler(&buf, nil), min: slog.LevelWarn}).With("component", "kubernetes")
	stale := &consistency.ConsistencyError{ReadRV: "203", WroteRV: "212", GroupResource: schema.GroupResource{Group: "apps", Resource: "replicasets"}}

	log.Error("Unhandled Error", "logger", "UnhandledError", "err", fmt.Errorf("sync %q failed with %v", "azureml/azureml-fe-d964696d9", stale))
	if buf.Len() != 0 {
		t.Fatalf("the stale-cache retry was logged: %s", buf.String())
	}
	log.Info("Unhandled Error", "err", errors.New("routine"))
	if buf.Len() != 0 {
		t.Fatalf("an info line was logged: %s", buf.String())
	}
	log.Error("Unhandled Error", "err", errors.New("a real failure"))
	if !strings.Contains(buf.String(), "a real failure") {
		t.Errorf("another error was not logged: %q", buf.String())
	}
	buf.Reset()
	log.Warn("a warning", "err", stale)
	if !strings.Contains(buf.String(), "a warning") {
		t.Errorf("a warning was not logged: %q", buf.String())
	}
}
