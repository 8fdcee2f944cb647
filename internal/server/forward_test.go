package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	st, box, emb := peerParts(t)
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

// TestPeerDrainError: a drain failure on the hosting replica reaches the caller as a
// provider.DrainError, so that its operation fails as the user's to fix (400
// PodDrainFailure naming the budget), as it does when the cluster runs on the caller.
func TestPeerDrainError(t *testing.T) {
	sent := &provider.DrainError{Node: "aks-nodepool1-12345678-vmss000002", Pod: "default/web-1", Budget: "default/web-pdb",
		Err: errors.New("Cannot evict pod as it would violate the pod's disruption budget.")}
	wire, err := json.Marshal(answerOf(nil, fmt.Errorf("scale node pool nodepool1 to 2: %w", sent)))
	if err != nil {
		t.Fatal(err)
	}
	var a peerAnswer
	if err := json.Unmarshal(wire, &a); err != nil {
		t.Fatal(err)
	}
	var got *provider.DrainError
	if err := a.result("host", nil); !errors.As(err, &got) || got.Node != sent.Node || got.Pod != sent.Pod || got.Budget != sent.Budget ||
		got.Err.Error() != sent.Err.Error() {
		t.Fatalf("answer of a drain failure read back as %v, want %v", err, sent)
	}
}

// TestPeerCallsWhileStopping: once a replica shuts down (Close), a call forwarded to it
// is answered as ErrHostStopping, which the caller takes as "try the cluster's next host"
// and never as the call's own failure; a call to a replica that does not answer is
// ErrUnreachable, and neither error names the replica's address or the peer URL, which
// would reach the user in the operation's error.
func TestPeerCallsWhileStopping(t *testing.T) {
	ctx := context.Background()
	st, box, emb := peerParts(t)
	calls := servePeerCalls(http.NotFoundHandler(), emb, box, slog.Default())
	srv := httptest.NewTLSServer(calls)
	defer srv.Close()
	hostAddr := strings.TrimPrefix(srv.URL, "https://")
	gone := httptest.NewTLSServer(http.NotFoundHandler())
	goneAddr := strings.TrimPrefix(gone.URL, "https://")
	gone.Close()
	for id, addr := range map[string]string{"host": hostAddr, "gone": goneAddr} {
		if err := st.HeartbeatReplica(ctx, &store.Replica{ID: id, Address: addr, StartedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	f := newForwarder(st, box, nil)
	f.client = srv.Client()
	// The answers' Retry-After, read on the way back from the real server.
	var retryAfter []string
	tr := f.client.Transport
	f.client.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := tr.RoundTrip(r)
		if err == nil && r.URL.Host == hostAddr {
			retryAfter = append(retryAfter, resp.Header.Get("Retry-After"))
		}
		return resp, err
	})

	if err := f.Call(ctx, "host", "status", "c", nil); !errors.Is(err, provider.ErrNotFound) {
		t.Fatalf("status before the stop: %v, want ErrNotFound", err)
	}
	calls.Close()
	err := f.Call(ctx, "host", "status", "c", nil)
	if !errors.Is(err, embedded.ErrHostStopping) || errors.Is(err, provider.ErrNotFound) {
		t.Errorf("status on a stopping replica: %v, want ErrHostStopping", err)
	}
	// The 503 of a stopping replica says when to call again, as every 503 does: the next
	// host has the cluster within a second or two.
	if len(retryAfter) != 2 || retryAfter[1] != "1" {
		t.Errorf("Retry-After of the answers before and after the stop = %q, want the second 1", retryAfter)
	}
	unreachable := f.Call(ctx, "gone", "status", "c", nil)
	if !errors.Is(unreachable, embedded.ErrUnreachable) {
		t.Errorf("call to a replica that does not listen: %v, want ErrUnreachable", unreachable)
	}
	for _, err := range []error{err, unreachable} {
		if msg := fmt.Sprint(err); strings.Contains(msg, hostAddr) || strings.Contains(msg, goneAddr) ||
			strings.Contains(msg, peerCallPath) || strings.Contains(msg, "https://") {
			t.Errorf("error %q names an internal address", msg)
		}
	}
}

// roundTripFunc is an http.RoundTripper that is a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// peerParts returns what a replica's peer calls need: a store, a secret box and an
// embedded provider with no cluster.
func peerParts(t *testing.T) (store.Store, *secrets.Box, *embedded.Provider) {
	t.Helper()
	key, _ := secrets.NewKey()
	box, err := secrets.New(key)
	if err != nil {
		t.Fatal(err)
	}
	emb, err := embedded.New(t.TempDir(), catalog.DefaultVMSizes(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	return storetest.OpenSQLite(t), box, emb
}
