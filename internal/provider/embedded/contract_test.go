package embedded_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/embedded"
	"github.com/mlfleet/mlfleet/internal/provider/external"
	"github.com/mlfleet/mlfleet/internal/provider/providertest"
)

func openEmbedded(t *testing.T, dir string) provider.Provider {
	t.Helper()
	p, err := embedded.New(dir, catalog.DefaultVMSizes(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func embeddedSpec(p provider.Provider, id string) provider.ClusterSpec {
	return provider.ClusterSpec{ID: id, Name: id, Location: "westus", KubernetesVersion: p.Info().Versions[0],
		Pools:       []provider.NodePool{{Name: "nodepool1", Count: 2, VMSize: "Standard_D2_v2", Mode: "System"}},
		ServiceCIDR: "10.0.0.0/16", DNSServiceIP: "10.0.0.10"}
}

// TestProviderContract runs the provider contract (providertest.Contract) against both
// providers: the embedded one, and the external one reaching a cluster that another
// embedded provider runs.
func TestProviderContract(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		providertest.Contract(t, providertest.Harness{
			Open: openEmbedded,
			Spec: func(t *testing.T, id string) provider.ClusterSpec {
				return embeddedSpec(openEmbedded(t, t.TempDir()), id)
			},
		})
	})
	t.Run("external", func(t *testing.T) {
		ctx := context.Background()
		backing := openEmbedded(t, t.TempDir())
		t.Cleanup(func() { backing.Close(context.WithoutCancel(ctx)) })
		if _, err := backing.Ensure(ctx, embeddedSpec(backing, "backing")); err != nil {
			t.Fatal(err)
		}
		creds, err := backing.Credentials(ctx, "backing")
		if err != nil {
			t.Fatal(err)
		}
		providertest.Contract(t, providertest.Harness{
			Open: func(*testing.T, string) provider.Provider { return external.New(catalog.DefaultVMSizes()) },
			Spec: func(_ *testing.T, id string) provider.ClusterSpec {
				return provider.ClusterSpec{ID: id, Name: id, Kubeconfig: creds.Admin}
			},
		})
	})
}
