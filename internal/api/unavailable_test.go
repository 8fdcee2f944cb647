package api

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

// TestStoreFull: when the server's SQLite store is full (a real file whose size limit,
// PRAGMA max_page_count, stands in for a full disk), a write gets 503 ServiceUnavailable
// that names the store and the data directory to free space in and does not ask the
// client to retry; reads still answer 200.
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
	a := newAPIServer(t, Config{Store: st})

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
	for _, want := range []string{path, "is full", "free space on the file system of " + dir, "Retrying will not help"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "retry the request") {
		t.Errorf("message %q asks the client to retry", msg)
	}
	if got := full.header.Get("x-ms-error-code"); got != "ServiceUnavailable" {
		t.Errorf("x-ms-error-code = %q, want ServiceUnavailable", got)
	}
	if ans := a.call(t, a.admin, "GET", rgURL("rg0"), ""); ans.status != http.StatusOK {
		t.Errorf("read from a full store = %d %s, want 200", ans.status, ans.raw)
	}
}
