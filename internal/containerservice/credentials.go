package containerservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Credentials returns the cluster's admin or user kubeconfig.
func (s *Service) Credentials(ctx context.Context, sub, rg, name string, admin bool) (*armapi.CredentialResults, error) {
	mc, err := s.Get(ctx, sub, rg, name)
	if err != nil {
		return nil, err
	}
	// 409 rather than 404: the cluster exists, and its credentials will once the create
	// finished (or after a PUT re-creates a failed one).
	if mc.Properties.ProvisioningState == armapi.StateCreating || mc.Properties.ProvisioningState == armapi.StateFailed {
		return nil, arm.Conflict("Cluster '%s' is %s; credentials exist once it has been created.", name, strings.ToLower(mc.Properties.ProvisioningState))
	}
	creds, err := s.AKSCredentials(ctx, mc)
	if err != nil {
		return nil, err
	}
	kc, kind := creds.User, "clusterUser"
	if admin {
		kc, kind = creds.Admin, "clusterAdmin"
	}
	return &armapi.CredentialResults{Kubeconfigs: []armapi.CredentialResult{{Name: kind, Value: kc}}}, nil
}

// AKSCredentials returns the cluster's kubeconfigs with their entries named as AKS names
// them (aksKubeconfig): what az aks get-credentials and a compute's listKeys hand out.
func (s *Service) AKSCredentials(ctx context.Context, mc *armapi.ManagedCluster) (*provider.Credentials, error) {
	creds, err := s.ClusterCredentials(ctx, mc)
	if err != nil {
		return nil, err
	}
	parsed, err := arm.ParseID(mc.ID)
	if err != nil {
		return nil, fmt.Errorf("credentials of cluster %s: %w", mc.Name, err)
	}
	out := &provider.Credentials{}
	if out.Admin, err = aksKubeconfig(creds.Admin, mc.Properties.Mlfleet.Context, parsed.ResourceGroup, mc.Name, true); err != nil {
		return nil, err
	}
	if out.User, err = aksKubeconfig(creds.User, mc.Properties.Mlfleet.Context, parsed.ResourceGroup, mc.Name, false); err != nil {
		return nil, err
	}
	return out, nil
}

// ClusterCredentials returns the kubeconfigs of a cluster from its provider.
func (s *Service) ClusterCredentials(ctx context.Context, mc *armapi.ManagedCluster) (*provider.Credentials, error) {
	prov, err := s.provider(mc.Properties.Mlfleet.Provider)
	if err != nil {
		return nil, err
	}
	creds, err := prov.Credentials(ctx, mc.Properties.Mlfleet.ClusterID)
	if errors.Is(err, provider.ErrNotFound) {
		return nil, arm.Errorf(http.StatusConflict, CodeClusterNotRunning, "Cluster '%s' is not running on this server right now; retry in a moment.", mc.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("credentials of cluster %s: %w", mc.Name, err)
	}
	return creds, nil
}

// Client returns a client of the cluster with its admin credentials, shared by everyone in
// this process who reaches the cluster: one per cluster, kept while its kubeconfig stays
// the same and dropped when the cluster is deleted (kube.Cache). It does not contact the
// cluster.
func (s *Service) Client(ctx context.Context, mc *armapi.ManagedCluster) (*kube.Cluster, error) {
	creds, err := s.ClusterCredentials(ctx, mc)
	if err != nil {
		return nil, err
	}
	return s.clients.Get(mc.Properties.Mlfleet.ClusterID, creds.Admin, mc.Properties.Mlfleet.Context)
}

// ProbeClient checks the health of the cluster's cached client (kube.Cache.Probe): GET
// /readyz, the client dropped after repeated failures.
func (s *Service) ProbeClient(ctx context.Context, mc *armapi.ManagedCluster) error {
	return s.clients.Probe(ctx, mc.Properties.Mlfleet.ClusterID)
}

// kubeconfigSecret is the id suffix of a registered cluster's sealed kubeconfig: a row of
// its own under the cluster, so that the cluster's body (returned by GET) never holds it.
const kubeconfigSecret = "/mlfleetSecrets/kubeconfig"

// saveKubeconfig writes the sealed kubeconfig through tx. Its OwnerID is the cluster, so
// the sweeper removes it should the cluster's row ever go without it.
func (s *Service) saveKubeconfig(ctx context.Context, tx store.Store, r *store.Resource, kubeconfig []byte) error {
	body, _ := json.Marshal(map[string][]byte{"sealed": s.cfg.Secrets.Seal(kubeconfig)})
	err := tx.CreateResource(ctx, &store.Resource{ID: r.ID + kubeconfigSecret, ParentID: r.ID, Type: TypeManagedCluster + "/mlfleetSecrets",
		Name: "kubeconfig", SubscriptionID: r.SubscriptionID, ResourceGroup: r.ResourceGroup, Body: body, OwnerID: r.ID})
	if err != nil {
		return fmt.Errorf("save kubeconfig: %w", err)
	}
	return nil
}

func (s *Service) loadKubeconfig(ctx context.Context, r *store.Resource) ([]byte, error) {
	sr, err := s.cfg.Store.GetResource(ctx, r.ID+kubeconfigSecret)
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig of %s: %w", r.ID, err)
	}
	var body map[string][]byte
	if err := json.Unmarshal(sr.Body, &body); err != nil {
		return nil, fmt.Errorf("decode kubeconfig of %s: %w", r.ID, err)
	}
	return s.cfg.Secrets.Open(body["sealed"])
}
