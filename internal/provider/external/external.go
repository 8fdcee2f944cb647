// Package external is the provider of existing clusters, anywhere (kind, k3s, EKS, GKE,
// on-premises): a cluster is reached by the kubeconfig it was registered with, and its
// version, node count and VM sizes are read from the live cluster. Deleting it only forgets
// it; the cluster itself is never changed by this provider. The pools a cluster autoscaler
// manages (named in kube-system/cluster-autoscaler-status) are reported with its bounds.
package external

import (
	"context"
	"fmt"
	"sync"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/provider"
)

var _ provider.Provider = (*Provider)(nil)

// Provider registers existing clusters.
type Provider struct {
	sizes       *catalog.VMSizes
	routerImage string
	// local trusts kubeconfigs with exec plugins, auth providers and file paths.
	local    bool
	mu       sync.Mutex
	clusters map[string]registered
}

type registered struct {
	kubeconfig []byte
	cluster    *kube.Cluster
}

// Option configures a Provider.
type Option func(*Provider)

// WithRouterImage sets the image of the inference router (azureml-fe) that the
// provider's clusters run (serve --router-image). Without one, online endpoints cannot
// serve on external clusters, and Info says so.
func WithRouterImage(image string) Option {
	return func(p *Provider) { p.routerImage = image }
}

// WithLocalCredentials lets registered clusters' kubeconfigs run exec plugins and auth
// providers and read files on this machine (serve --allow-kubeconfig-exec), as EKS's and
// GKE's need. Without it such a kubeconfig is refused: whoever may register a cluster
// could otherwise run any program on the server.
func WithLocalCredentials() Option {
	return func(p *Provider) { p.local = true }
}

// New returns an external provider; sizes names nodes' VM sizes from their capacity when
// they carry no instance-type label.
func New(sizes *catalog.VMSizes, opts ...Option) *Provider {
	p := &Provider{sizes: sizes, clusters: map[string]registered{}}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Info implements provider.Provider.
func (p *Provider) Info() provider.Info {
	return provider.Info{Name: "external", ServesEndpoints: p.routerImage != "", RouterImage: p.routerImage, LocalCredentials: p.local}
}

// Ensure connects with spec.Kubeconfig, reads the live cluster and remembers it.
// Idempotent.
func (p *Provider) Ensure(ctx context.Context, spec provider.ClusterSpec) (*provider.Status, error) {
	connect := kube.Connect
	if p.local {
		connect = kube.ConnectLocal
	}
	c, err := connect(spec.Kubeconfig, spec.Context)
	if err != nil {
		return nil, fmt.Errorf("register cluster %s: %w", spec.Name, err)
	}
	st, err := p.read(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("register cluster %s: %w", spec.Name, err)
	}
	p.mu.Lock()
	p.clusters[spec.ID] = registered{kubeconfig: spec.Kubeconfig, cluster: c}
	p.mu.Unlock()
	return st, nil
}

// Status reads the live cluster.
func (p *Provider) Status(ctx context.Context, id string) (*provider.Status, error) {
	r, err := p.get(id)
	if err != nil {
		return nil, err
	}
	return p.read(ctx, r.cluster)
}

func (p *Provider) read(ctx context.Context, c *kube.Cluster) (*provider.Status, error) {
	v, err := c.Version(ctx)
	if err != nil {
		return nil, err
	}
	nodes, err := c.Nodes(ctx, p.sizes)
	if err != nil {
		return nil, err
	}
	groups, err := c.AutoscalerStatus(ctx)
	if err != nil {
		return nil, err
	}
	st := &provider.Status{KubernetesVersion: v, Server: c.Config.Host}
	pools := kube.Pools(nodes)
	names := make([]string, len(pools))
	for i, p := range pools {
		names[i] = p.Name
	}
	bounds := map[string]*provider.PoolBounds{}
	for _, g := range groups {
		if p := kube.PoolOf(g.Name, names); p != "" {
			bounds[p] = &provider.PoolBounds{Min: g.Min, Max: g.Max}
		}
	}
	for _, pool := range pools {
		st.Pools = append(st.Pools, provider.NodePool{Name: pool.Name, Count: pool.Count, VMSize: pool.VMSize, Mode: "System", Autoscale: bounds[pool.Name]})
	}
	return st, nil
}

// Scale is not supported: external clusters are scaled where they run.
func (p *Provider) Scale(context.Context, string, provider.NodePool) error {
	return provider.ErrUnsupported
}

// SetAuthorizedIPRanges is not supported: the provider does not own the API server.
func (p *Provider) SetAuthorizedIPRanges(context.Context, string, []string) error {
	return provider.ErrUnsupported
}

// Credentials returns the registered kubeconfig, as both admin and user credentials.
func (p *Provider) Credentials(_ context.Context, id string) (*provider.Credentials, error) {
	r, err := p.get(id)
	if err != nil {
		return nil, err
	}
	return &provider.Credentials{Admin: r.kubeconfig, User: r.kubeconfig}, nil
}

// Delete forgets the cluster. Idempotent.
func (p *Provider) Delete(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.clusters, id)
	return nil
}

// Close forgets every cluster.
func (p *Provider) Close(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clusters = map[string]registered{}
	return nil
}

func (p *Provider) get(id string) (registered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.clusters[id]
	if !ok {
		return registered{}, provider.ErrNotFound
	}
	return r, nil
}
