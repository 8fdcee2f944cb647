package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/embedded"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

// TestPeerCalls: a call forwarded to a replica reaches its embedded provider (a cluster it
// does not run answers ErrNotFound, which the caller sees as such); a call sealed with
// another key, a replayed old call and a call to a replica with no row are refused, the
// last as unreachable; other paths go to the API handler.
func TestPeerCalls(t *testing.T) {
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	key, _ := secrets.NewKey()
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	emb, err := embedded.New(t.TempDir(), catalog.DefaultVMSizes(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewTLSServer(servePeerCalls(api, emb, box, slog.Default()))
	defer srv.Close()
	if err := st.HeartbeatReplica(ctx, &store.Replica{ID: "host", Address: strings.TrimPrefix(srv.URL, "https://"), StartedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f := newForwarder(st, box, nil)
	f.client = srv.Client()

	var status provider.Status
	if err := f.Call(ctx, "host", "status", "no-such-cluster", &status); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("status of a cluster the host does not run: %v, want ErrNotFound", err)
	}
	if err := f.Call(ctx, "host", "no-such-method", "x", nil); err == nil || !strings.Contains(err.Error(), "unknown provider call") {
		t.Errorf("unknown method: %v", err)
	}
	if err := f.Call(ctx, "gone", "status", "c", nil); !errors.Is(err, embedded.ErrUnreachable) {
		t.Errorf("call to a replica with no row: %v, want ErrUnreachable", err)
	}

	post := func(body []byte) int {
		resp, err := srv.Client().Post(srv.URL+peerCallPath, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	otherKey, _ := secrets.NewKey()
	other, _ := secrets.New(otherKey)
	call, _ := json.Marshal(peerCall{Method: "status", At: time.Now().UnixMilli(), In: json.RawMessage(`"c"`)})
	if code := post(other.Seal(call)); code != http.StatusForbidden {
		t.Errorf("call sealed with another key: %d, want 403", code)
	}
	old, _ := json.Marshal(peerCall{Method: "status", At: time.Now().Add(-time.Hour).UnixMilli(), In: json.RawMessage(`"c"`)})
	if code := post(box.Seal(old)); code != http.StatusForbidden {
		t.Errorf("an hour-old call: %d, want 403", code)
	}
	resp, err := srv.Client().Get(srv.URL + "/subscriptions")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("another path: %d, want the API handler's", resp.StatusCode)
	}
}
