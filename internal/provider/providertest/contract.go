package providertest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/provider"
)

// Harness is what the contract needs of a provider implementation.
type Harness struct {
	// Open returns the provider over dir. Opening the same dir again after Close is the
	// same provider after a restart of mlfleet.
	Open func(t *testing.T, dir string) provider.Provider
	// Spec returns the spec of a cluster with provider id id (for a provider that cannot
	// create clusters, one that reaches an existing cluster).
	Spec func(t *testing.T, id string) provider.ClusterSpec
}

// Contract runs the behaviour every provider.Provider promises against h, on one cluster,
// as litestream runs one suite against every replica client:
//
//   - an unknown id: Status and Credentials answer ErrNotFound, Delete nil;
//   - Ensure brings the cluster up, and again is a no-op; Status reports the version the API
//     server answers on GET /version with the admin credentials, and the spec's pools when
//     the provider creates clusters;
//   - Scale changes a pool (or answers ErrUnsupported, as Info says);
//   - authorized IP ranges that leave this machine out close the API server to it, when
//     Info says the provider enforces them;
//   - Close, then a new provider over the same directory, Ensure: the cluster's objects
//     are still there (a restart of mlfleet loses nothing);
//   - Delete, twice: Status answers ErrNotFound; a provider that destroys clusters loses
//     their objects, one that forgets them leaves the cluster as it was.
func Contract(t *testing.T, h Harness) {
	ctx := context.Background()
	dir := t.TempDir()
	const id = "contract-1"
	p := h.Open(t, dir)
	closed := false
	t.Cleanup(func() {
		if !closed {
			p.Close(context.WithoutCancel(ctx))
		}
	})
	info := p.Info()
	if info.Name == "" || (info.CanCreate && len(info.Versions) == 0) {
		t.Fatalf("Info %+v: a name, and versions when it creates clusters", info)
	}

	if _, err := p.Status(ctx, "no-such-cluster"); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Status of an unknown id = %v, want ErrNotFound", err)
	}
	if _, err := p.Credentials(ctx, "no-such-cluster"); !errors.Is(err, provider.ErrNotFound) {
		t.Errorf("Credentials of an unknown id = %v, want ErrNotFound", err)
	}
	if err := p.Delete(ctx, "no-such-cluster"); err != nil {
		t.Errorf("Delete of an unknown id = %v, want nil", err)
	}

	spec := h.Spec(t, id)
	st, err := p.Ensure(ctx, spec)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	if again, err := p.Ensure(ctx, spec); err != nil || again.KubernetesVersion != st.KubernetesVersion || again.Server != st.Server {
		t.Errorf("Ensure again = %+v, %v; want %+v", again, err, st)
	}
	admin := adminClient(t, p, id)
	if v, err := admin.Version(ctx); err != nil || v != st.KubernetesVersion || st.Server == "" {
		t.Errorf("Status says version %q at %q; the API server answers %q, %v", st.KubernetesVersion, st.Server, v, err)
	}
	if info.CanCreate {
		if got := counts(st.Pools); !slices.Equal(got, counts(spec.Pools)) {
			t.Errorf("pools %v, want the spec's %v", got, counts(spec.Pools))
		}
	}
	marker := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "contract-marker", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if _, err := admin.Client.CoreV1().ConfigMaps("default").Create(ctx, marker, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create a ConfigMap with the admin credentials: %v", err)
	}

	t.Run("scale", func(t *testing.T) {
		pool := provider.NodePool{Name: "nodepool1", Count: 1}
		if len(spec.Pools) > 0 {
			pool = spec.Pools[0]
		}
		pool.Count++
		err := p.Scale(ctx, id, pool)
		if !info.CanScale {
			if !errors.Is(err, provider.ErrUnsupported) {
				t.Errorf("Scale = %v, want ErrUnsupported", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Scale: %v", err)
		}
		st, err := p.Status(ctx, id)
		if err != nil || st.Pools[0].Count != pool.Count {
			t.Errorf("after Scale to %d: %+v, %v", pool.Count, st, err)
		}
	})

	t.Run("authorized ranges", func(t *testing.T) {
		if !info.EnforcesAuthorizedIPRanges {
			return
		}
		if err := p.SetAuthorizedIPRanges(ctx, id, []string{"192.0.2.0/24"}); err != nil {
			t.Fatal(err)
		}
		if _, err := adminClient(t, p, id).Version(ctx); err == nil {
			t.Error("the API server answers a client outside its authorized ranges")
		}
		if err := p.SetAuthorizedIPRanges(ctx, id, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := adminClient(t, p, id).Version(ctx); err != nil {
			t.Errorf("ranges cleared, the API server still refuses: %v", err)
		}
	})

	t.Run("restart", func(t *testing.T) {
		if err := p.Close(ctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		closed = true
		p = h.Open(t, dir)
		closed = false
		if _, err := p.Ensure(ctx, spec); err != nil {
			t.Fatalf("Ensure after a restart: %v", err)
		}
		if _, err := adminClient(t, p, id).Client.CoreV1().ConfigMaps("default").Get(ctx, marker.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("the ConfigMap made before the restart: %v", err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		before := adminClient(t, p, id)
		for i := range 2 {
			if err := p.Delete(ctx, id); err != nil {
				t.Fatalf("Delete %d: %v", i+1, err)
			}
		}
		if _, err := p.Status(ctx, id); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Status after Delete = %v, want ErrNotFound", err)
		}
		if _, err := p.Credentials(ctx, id); !errors.Is(err, provider.ErrNotFound) {
			t.Errorf("Credentials after Delete = %v, want ErrNotFound", err)
		}
		if !info.DeleteDestroys {
			// Forgotten, not destroyed: the cluster answers as before.
			if _, err := before.Client.CoreV1().ConfigMaps("default").Get(ctx, marker.Name, metav1.GetOptions{}); err != nil {
				t.Errorf("a forgotten cluster lost its objects: %v", err)
			}
			return
		}
		// Destroyed: the same id starts empty.
		if _, err := p.Ensure(ctx, spec); err != nil {
			t.Fatalf("Ensure after Delete: %v", err)
		}
		_, err := adminClient(t, p, id).Client.CoreV1().ConfigMaps("default").Get(ctx, marker.Name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("a destroyed cluster's ConfigMap: %v, want NotFound", err)
		}
		if err := p.Delete(ctx, id); err != nil {
			t.Errorf("Delete: %v", err)
		}
	})
}

// adminClient connects to cluster id with its admin credentials, with short timeouts.
func adminClient(t *testing.T, p provider.Provider, id string) *kube.Cluster {
	t.Helper()
	creds, err := p.Credentials(context.Background(), id)
	if err != nil {
		t.Fatalf("Credentials: %v", err)
	}
	kc, err := kube.Connect(creds.Admin, "")
	if err != nil {
		t.Fatalf("connect with the admin kubeconfig: %v", err)
	}
	kc.Config.Timeout = 10 * time.Second
	if kc, err = kube.FromConfig(kc.Config); err != nil {
		t.Fatal(err)
	}
	return kc
}

func counts(pools []provider.NodePool) []int {
	out := make([]int, len(pools))
	for i, p := range pools {
		out[i] = p.Count
	}
	return out
}
