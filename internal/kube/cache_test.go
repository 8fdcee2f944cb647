package kube

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// kubeconfigFor is a kubeconfig for an API server at url, with a token to tell copies apart.
func kubeconfigFor(url, token string) []byte {
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: %q}
contexts:
- name: ctx
  context: {cluster: c, user: u}
current-context: ctx
`, url, token)
}

func TestCache(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	var probes atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		probes.Add(1)
		if !healthy.Load() {
			http.Error(w, "etcd not ready", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	ctx := context.Background()

	c := NewCache()
	a, err := c.Get("c1", kubeconfigFor(srv.URL, "t1"), "")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := c.Get("c1", kubeconfigFor(srv.URL, "t1"), ""); b != a {
		t.Error("same kubeconfig: want the cached client")
	}
	if b, _ := c.Get("c1", kubeconfigFor(srv.URL, "t2"), ""); b == a {
		t.Error("new credentials: want a new client")
	}
	if _, err := c.Get("c2", []byte("not yaml: ["), ""); err == nil || c.Len() != 1 {
		t.Errorf("bad kubeconfig: err %v, %d cached", err, c.Len())
	}

	if err := c.Probe(ctx, "c1"); err != nil || c.Health("c1") != (Health{Cached: true}) {
		t.Fatalf("healthy probe: %v, %+v", err, c.Health("c1"))
	}
	if err := c.Probe(ctx, "unknown"); err != nil || probes.Load() != 1 {
		t.Errorf("probe of an uncached cluster: %v, %d probes", err, probes.Load())
	}

	healthy.Store(false)
	for i := 1; i <= 3; i++ {
		if err := c.Probe(ctx, "c1"); err == nil {
			t.Fatalf("probe %d of an unhealthy server succeeded", i)
		}
		if h := c.Health("c1"); i < 3 && h != (Health{Cached: true, Failures: i}) {
			t.Errorf("after %d failures: %+v", i, h)
		}
	}
	if h := c.Health("c1"); h.Cached || c.Len() != 0 {
		t.Errorf("after 3 failures the client should be dropped: %+v", h)
	}
	healthy.Store(true)
	if b, _ := c.Get("c1", kubeconfigFor(srv.URL, "t2"), ""); b == nil || c.Len() != 1 {
		t.Error("Get after a drop builds a new client")
	}
	c.Forget("c1")
	if c.Len() != 0 {
		t.Error("Forget left the client")
	}
}

// TestCacheConcurrent runs Get, Probe and Forget of the same clusters at once (go test -race).
func TestCacheConcurrent(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }))
	defer srv.Close()
	c := NewCache()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			id := fmt.Sprintf("c%d", i%2)
			for j := range 20 {
				if _, err := c.Get(id, kubeconfigFor(srv.URL, fmt.Sprint(j%3)), ""); err != nil {
					t.Error(err)
					return
				}
				_ = c.Probe(context.Background(), id)
				if j%5 == 0 {
					c.Forget(id)
				}
			}
		})
	}
	wg.Wait()
}
