package operations_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// loggingTo returns cfg with its engine's log written to log as well as to the test's
// output, for tests that read what the server log keeps.
func loggingTo(t *testing.T, cfg operations.Config, log *testutil.Buffer) operations.Config {
	cfg.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), log), nil))
	return cfg
}

// checkHidden checks that ae, the error operation opID ended with, is the 500 that names
// the operation and not raw, the error's own text, which the server log keeps instead.
func checkHidden(t *testing.T, ae *arm.Error, opID, raw string, log *testutil.Buffer) {
	t.Helper()
	if ae.Code != arm.CodeInternalServerError || !strings.Contains(ae.Message, "operation id "+opID) {
		t.Errorf("operation error = (%s) %q, want InternalServerError naming operation id %s", ae.Code, ae.Message, opID)
	}
	if strings.Contains(ae.Message, raw) {
		t.Errorf("operation error %q shows the client the server's error %q", ae.Message, raw)
	}
	if log != nil && !loggedWith(log, opID, raw) {
		t.Errorf("the server log has no line naming operation %s with %q:\n%s", opID, raw, log)
	}
}

// loggedWith reports whether a line of log names operation opID and has text.
func loggedWith(log *testutil.Buffer, opID, text string) bool {
	for line := range strings.Lines(log.String()) {
		if strings.Contains(line, opID) && strings.Contains(line, text) {
			return true
		}
	}
	return false
}

// TestEngineStoreUnavailable: a step whose write the store refuses because its database
// cannot take writes (a real SQLite file whose size limit, PRAGMA max_page_count, stands in
// for a full disk) ends the operation with 503 ServiceUnavailable, the API's answer to the
// same error: it says what the server's operator must do, names the operation id and shows
// neither the file's path nor SQLite's error, which the server log keeps under that id. The
// cleanup is given the same error. The engine's own small writes still fit, as they do on a
// full disk, where existing pages are reused.
func TestEngineStoreUnavailable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "mlfleet.db")
	s := storetest.Open(t, path)
	// The handler's writes go through a second pool on the same file, limited to the pages
	// the file has (max_page_count is clamped to the current size): any write that needs a
	// new page fails with SQLITE_FULL.
	full := storetest.Open(t, path+"?_pragma=max_page_count(1)")
	var log testutil.Buffer
	var cl cleanupLog
	e := newEngine(t, s, loggingTo(t, operations.Config{}, &log), func(ctx context.Context, run *operations.Run) error {
		if err := run.Step(ctx, "one", func(context.Context) error { return run.SetState(madeState{Made: "vm1"}) }); err != nil {
			return err
		}
		return run.Step(ctx, "two", func(ctx context.Context) error {
			return full.CreateResource(ctx, &store.Resource{
				ID: resourceID + "/providers/Tests.Big/things/big", ParentID: resourceID, Type: "Tests.Big/things", Name: "big",
				SubscriptionID: subID, ResourceGroup: "rg1", Body: []byte(`{"pad":"` + strings.Repeat("x", 256<<10) + `"}`),
			})
		})
	})
	e.OnFailure(kind, cl.cleanup(nil))
	start(t, e)
	op := submit(t, e, nil)
	got := waitStatus(t, s, op.ID, store.StatusFailed)

	ae := errorOf(t, got)
	if ae.Code != arm.CodeServiceUnavailable {
		t.Fatalf("operation error = (%s) %q, want ServiceUnavailable", ae.Code, ae.Message)
	}
	for _, want := range []string{"is full", "free space on the file system of the server's data directory", "Retrying will not help",
		"the server log has the details under operation id " + op.ID} {
		if !strings.Contains(ae.Message, want) {
			t.Errorf("operation error %q does not contain %q", ae.Message, want)
		}
	}
	for _, leak := range []string{dir, "database or disk is full", "(13)"} {
		if strings.Contains(ae.Message, leak) {
			t.Errorf("operation error %q shows the client %q", ae.Message, leak)
		}
	}
	for _, want := range []string{path, "database or disk is full"} {
		if !loggedWith(&log, op.ID, want) {
			t.Errorf("the server log has no line naming operation %s with %q:\n%s", op.ID, want, log.String())
		}
	}
	if cause := causeOf(t, cl.only(t)); cause.Code != ae.Code || cause.Message != ae.Message {
		t.Errorf("cleanup cause = (%s) %q, want the operation's error (%s) %q", cause.Code, cause.Message, ae.Code, ae.Message)
	}
}
