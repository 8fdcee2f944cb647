package kubeapiserver

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestQuietStartAndStop: a new cluster's apiserver, started and stopped cleanly, logs at
// ERROR none of what upstream's defaults made it log on every start: "Found stale data,
// removed previous endpoints on kubernetes service" (upstream's none reconciler said it had
// removed something), "The manifest file is empty, ignoring." (metrics options applied
// unset); nor "Unable to remove endpoints" on the way down.
func TestQuietStartAndStop(t *testing.T) {
	// Not parallel: klog's logger belongs to the whole process.
	var errs testutil.Buffer
	klog.SetSlogLogger(slog.New(slog.NewTextHandler(&errs, &slog.HandlerOptions{Level: slog.LevelError})))
	t.Cleanup(func() {
		if os.Getenv("KUBEAPISERVER_TEST_LOGS") == "" {
			klog.SetLogger(logr.Discard())
		} else {
			klog.ClearLogger()
		}
	})
	s := startServer(t, Config{ID: "quiet", DataDir: filepath.Join(t.TempDir(), "s"), EtcdEndpoints: testEtcd.Endpoints()})
	// The kubernetes service controller's start runs in a post-start hook, which the server
	// is ready only after; its stop runs in a pre-shutdown hook, before Stop returns.
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"Found stale data", "The manifest file is empty", "Unable to remove endpoints"} {
		if strings.Contains(errs.String(), msg) {
			t.Errorf("the apiserver logged %q at ERROR:\n%s", msg, errs.String())
		}
	}
}
