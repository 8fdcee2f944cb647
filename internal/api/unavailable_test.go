package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestStoreFull: when the server's SQLite store is full (a real file whose size limit,
// PRAGMA max_page_count, stands in for a full disk), a write gets 503 ServiceUnavailable
// with Retry-After that says to free space in the server's data directory, does not ask
// the client to retry and names no path: the server log has the path and SQLite's error under the request id
// the answer gives. Reads still answer 200.
func TestStoreFull(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "mlfleet.db")
	// Migrate the file, then learn its size in pages: the server's store may grow by a
	// little (its principals and tokens) and no more.
	setup, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := setup.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	var pages int
	err = db.QueryRow(`PRAGMA page_count`).Scan(&pages)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.Open(t, fmt.Sprintf("%s?_pragma=max_page_count(%d)", path, pages+100))
	var log testutil.Buffer
	a := newAPIServer(t, Config{Store: st, Logger: slog.New(slog.NewTextHandler(&log, nil))})

	// Resource groups with ARM's largest tags until the file is full.
	tags := map[string]string{}
	for i := range 50 {
		tags[fmt.Sprintf("tag%02d-%s", i, strings.Repeat("n", 400))] = strings.Repeat("v", 256)
	}
	body, _ := json.Marshal(tags)
	var full answer
	for i := 0; ; i++ {
		if i == 200 {
			t.Fatal("200 resource groups of 36 KiB each fit in the limited store")
		}
		ans := a.call(t, a.admin, "PUT", rgURL(fmt.Sprintf("rg%d", i)), `{"location":"westus","tags":`+string(body)+`}`)
		if ans.status < 300 {
			continue
		}
		full = ans
		break
	}
	if full.status != http.StatusServiceUnavailable || errorCode(full.body) != "ServiceUnavailable" {
		t.Fatalf("write to a full store = %d %s, want 503 ServiceUnavailable", full.status, full.raw)
	}
	msg, _ := full.body["error"].(map[string]any)["message"].(string)
	requestID := full.header.Get("x-ms-request-id")
	for _, want := range []string{"is full", "free space on the file system of the server's data directory", "Retrying will not help",
		"the server log has the details under request id " + requestID} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
	// ARM never shows a host's paths, nor the driver's error (SQLite's "(13)"); any caller,
	// a Reader included, gets this answer.
	for _, leak := range []string{dir, "database or disk is full", "(13)"} {
		if strings.Contains(msg, leak) {
			t.Errorf("message %q shows the client %q", msg, leak)
		}
	}
	// The server log keeps them, under the request id the client was given.
	var logged string
	for line := range strings.Lines(log.String()) {
		if strings.Contains(line, requestID) {
			logged = line
		}
	}
	for _, want := range []string{path, "database or disk is full", "free space on the file system of " + dir} {
		if !strings.Contains(logged, want) {
			t.Errorf("log line of request %s = %q, want it to contain %q (log:\n%s)", requestID, logged, want, log.String())
		}
	}
	if strings.Contains(msg, "retry the request") {
		t.Errorf("message %q asks the client to retry", msg)
	}
	if got := full.header.Get("x-ms-error-code"); got != "ServiceUnavailable" {
		t.Errorf("x-ms-error-code = %q, want ServiceUnavailable", got)
	}
	// ARM clients (azure-core, azcore, mlfleet's) retry a 503 after its Retry-After.
	if got := full.header.Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After = %q, want 5", got)
	}
	if ans := a.call(t, a.admin, "GET", rgURL("rg0"), ""); ans.status != http.StatusOK {
		t.Errorf("read from a full store = %d %s, want 200", ans.status, ans.raw)
	}
}

// TestReadyzRetryAfter: /readyz answers 503 with Retry-After while the server cannot
// serve (its store does not answer), as every 503 of the API does.
func TestReadyzRetryAfter(t *testing.T) {
	t.Parallel()
	a := newAPIServer(t, Config{Ready: func(context.Context) error { return errors.New("store does not answer") }})
	ans := a.call(t, "", "GET", "/readyz", "")
	if ans.status != http.StatusServiceUnavailable || ans.header.Get("Retry-After") != unavailableRetryAfter {
		t.Errorf("/readyz of a server that is not ready = %d with Retry-After %q, want 503 with %q", ans.status, ans.header.Get("Retry-After"), unavailableRetryAfter)
	}
}
