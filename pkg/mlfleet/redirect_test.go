package mlfleet_test

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestNoWriteRedirects: a server (or something in between) that redirects a DELETE or PUT
// must not make the client send it elsewhere; names that are no names ('.', '..', empty)
// are refused before anything is sent.
func TestNoWriteRedirects(t *testing.T) {
	var elsewhere atomic.Int64
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/elsewhere" {
			elsewhere.Add(1)
			w.WriteHeader(http.StatusAccepted)
			return
		}
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer ts.Close()
	ca := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := mlfleet.NewClient(mlfleet.WithServer(ts.URL), mlfleet.WithToken("t"), mlfleet.WithCAFile(ca), mlfleet.WithSubscription("s"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.BeginDeleteCompute(ctx, "rg", "ws", "myaks", "Detach"); err == nil {
		t.Error("a redirected DELETE succeeded")
	}
	if _, _, err := c.BeginCreateOrUpdateCompute(ctx, "rg", "ws", "myaks", &mlfleet.Compute{}, nil); err == nil {
		t.Error("a redirected PUT succeeded")
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the client followed %d redirected writes", n)
	}
	for _, name := range []string{"..", ".", ""} {
		_, err := c.BeginDeleteCompute(ctx, "rg", "ws", name, "Detach")
		var ve *mlfleet.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("BeginDeleteCompute(%q) = %v, want a ValidationError before sending", name, err)
		}
	}
}
