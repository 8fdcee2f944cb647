package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kubernetes/pkg/controller/util/consistency"
)

// TestKlogSelfHealing: errors Kubernetes components log for what they retry or repair by
// themselves, as klog hands them over ("err" holding the component's wrapped error), are
// left out of mlfleet's log or written as warnings; other errors and warnings are written
// as they are, info lines are not.
func TestKlogSelfHealing(t *testing.T) {
	stale := &consistency.ConsistencyError{ReadRV: "203", WroteRV: "212", GroupResource: schema.GroupResource{Group: "apps", Resource: "replicasets"}}
	tests := []struct {
		name      string
		level     slog.Level
		msg       string
		err       error
		wantLevel string // "" = not written
	}{
		{"stale cache retry", slog.LevelError, "Unhandled Error", fmt.Errorf("sync %q failed with %v", "azureml/azureml-fe-d964696d9", stale), ""},
		{"kube-system not made yet", slog.LevelError, "Error while syncing ConfigMap", errors.New(`namespaces "kube-system" not found`), ""},
		{"service IP repaired", slog.LevelError, "Unhandled Error", errors.New("the ClusterIP [IPv4]: 10.0.0.1 for Service default/kubernetes is not allocated; repairing"), "WARN"},
		{"aborted request", slog.LevelError, "Timeout or abort while handling", nil, "WARN"},
		{"after an aborted request", slog.LevelError, "Post-timeout activity", nil, ""},
		{"the handler's end after an abort", slog.LevelError, "Unhandled Error",
			errors.New("FinishRequest: post-timeout activity - time-elapsed: 159.889µs, panicked: false, err: context canceled, panic-reason: <nil>"), ""},
		{"another error", slog.LevelError, "Unhandled Error", errors.New("etcd is down"), "ERROR"},
		{"the same text elsewhere", slog.LevelError, "Failed to create pod", errors.New(`namespaces "kube-system" not found`), "ERROR"},
		{"a warning", slog.LevelWarn, "Unhandled Error", stale, "WARN"},
		{"an info line", slog.LevelInfo, "Unhandled Error", errors.New("routine"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(minLevel{Handler: slog.NewJSONHandler(&buf, nil), min: slog.LevelWarn}).With("component", "kubernetes")
			args := []any{"logger", "UnhandledError"}
			if tt.err != nil {
				args = append(args, "err", tt.err)
			}
			log.Log(t.Context(), tt.level, tt.msg, args...)
			if tt.wantLevel == "" {
				if buf.Len() != 0 {
					t.Fatalf("written: %s", buf.String())
				}
				return
			}
			var rec struct{ Level, Msg, Err string }
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("not written as one JSON line: %v: %q", err, buf.String())
			}
			wantErr := ""
			if tt.err != nil {
				wantErr = tt.err.Error()
			}
			if rec.Level != tt.wantLevel || rec.Msg != tt.msg || rec.Err != wantErr {
				t.Errorf("written as %+v, want level %s with the message and error", rec, tt.wantLevel)
			}
		})
	}
}
