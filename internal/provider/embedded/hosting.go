package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/embedded/kubeapiserver"
)

// Leases are the hosting leases of this replica (hosting.Keeper): with them, a cluster
// starts here only once this replica holds its lease, and stops when the lease is lost.
type Leases interface {
	Acquire(ctx context.Context, clusterID string) (token int64, holder string, err error)
	Release(ctx context.Context, clusterID string) error
	// Seize takes the lease from its holder for a delete, and returns how long that holder
	// may still serve the cluster.
	Seize(ctx context.Context, clusterID string) (time.Duration, error)
	// Forget removes a deleted cluster's lease.
	Forget(ctx context.Context, clusterID string) error
	// Holder returns the replica holding the cluster's unexpired lease ("" when none).
	Holder(ctx context.Context, clusterID string) (string, error)
	// Self is this replica's id.
	Self() string
	// Place returns the replica that should host a new cluster ("" when the cluster has
	// been hosted before, or no replica is alive).
	Place(ctx context.Context, clusterID string) (string, error)
}

// HostBy makes the provider host a cluster only while this replica holds its lease in
// leases; Ensure on a cluster another replica hosts returns provider.ErrHostedElsewhere.
// The lease keeper must call Fence when it loses a lease. Call it before the first Ensure.
func (p *Provider) HostBy(leases Leases) { p.leases = leases }

// Identities keep each cluster's identity (kubeapiserver.Identity, JSON) where every
// replica finds it: sealed in the shared store. Get returns nil and no error when the
// cluster has none yet; Ensure stores value unless one is stored, and returns the stored one.
type Identities interface {
	Get(ctx context.Context, clusterID string) ([]byte, error)
	Ensure(ctx context.Context, clusterID string, value []byte) ([]byte, error)
	Delete(ctx context.Context, clusterID string) error
}

// ShareIdentities makes every cluster this replica starts use the identity stored in ids
// (its CA, service account key and kubeconfig client certificates), storing its own first
// when the cluster has none: a cluster that moves to another replica keeps its kubeconfigs
// and tokens valid, and a replica that does not host a cluster can still hand out its
// kubeconfigs (through its own front door). Call it before the first Ensure.
func (p *Provider) ShareIdentities(ids Identities) { p.identities = ids }

// sharedIdentity is what Identities store for one cluster.
type sharedIdentity struct {
	ClusterID string                 `json:"clusterId"`
	FQDN      string                 `json:"fqdn"`
	Files     kubeapiserver.Identity `json:"files"`
}

// adoptIdentity installs the cluster's shared identity in its data directory before it
// starts, publishing the local one (created now if need be) when none is shared yet.
func (p *Provider) adoptIdentity(ctx context.Context, spec provider.ClusterSpec) error {
	dataDir := filepath.Join(p.dir, spec.ID)
	b, err := p.identities.Get(ctx, spec.ID)
	if err != nil {
		return fmt.Errorf("load identity of %s: %w", spec.Name, err)
	}
	if b == nil {
		files, err := kubeapiserver.LoadOrCreateIdentity(dataDir, spec.ID)
		if err != nil {
			return err
		}
		mine, err := json.Marshal(sharedIdentity{ClusterID: spec.ID, FQDN: strings.ToLower(spec.FQDN), Files: files})
		if err != nil {
			return err
		}
		if b, err = p.identities.Ensure(ctx, spec.ID, mine); err != nil {
			return fmt.Errorf("share identity of %s: %w", spec.Name, err)
		}
	}
	id, err := decodeIdentity(spec.ID, b)
	if err != nil {
		return err
	}
	return id.Files.Install(dataDir)
}

func decodeIdentity(clusterID string, b []byte) (*sharedIdentity, error) {
	var id sharedIdentity
	if err := json.Unmarshal(b, &id); err != nil {
		return nil, fmt.Errorf("decode identity of %s: %w", clusterID, err)
	}
	if id.ClusterID != clusterID {
		return nil, fmt.Errorf("identity of %s: stored for cluster %q", clusterID, id.ClusterID)
	}
	return &id, nil
}

// Fence stops serving a cluster whose lease this replica lost, at once: it leaves the front
// door first, then its runtime and apiserver stop (in the background), keeping the data.
func (p *Provider) Fence(id string) {
	p.mu.Lock()
	c := p.clusters[id]
	srv := p.up[id]
	p.mu.Unlock()
	if srv != nil {
		p.unregister(srv)
	}
	if c == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.mu.Lock()
		defer c.mu.Unlock()
		p.stop(ctx, c)
		p.log.Warn("cluster fenced: its hosting lease was lost", "cluster", c.spec.Name, "id", id)
	}()
}

func (p *Provider) remoteCredentials(ctx context.Context, id string) (*provider.Credentials, error) {
	// Only a cluster another replica runs is reachable through the front door; one that
	// runs nowhere (a host died, or this replica is starting it) answers ErrNotFound, so
	// that callers wait for it to come up instead of dialling nobody.
	if p.leases != nil {
		holder, err := p.leases.Holder(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("hosting lease of %s: %w", id, err)
		}
		if holder == "" || holder == p.leases.Self() {
			return nil, provider.ErrNotFound
		}
	}
	b, err := p.identities.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("load identity of %s: %w", id, err)
	}
	if b == nil {
		return nil, provider.ErrNotFound
	}
	ident, err := decodeIdentity(id, b)
	if err != nil {
		return nil, err
	}
	admin, user, err := ident.Files.Kubeconfigs(id, p.frontDoor, ident.FQDN)
	if err != nil {
		return nil, err
	}
	return &provider.Credentials{Admin: admin, User: user}, nil
}

// Running returns the ids of the clusters running in this process, sorted. It never
// waits for a cluster that is starting or stopping.
func (p *Provider) Running() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(maps.Keys(p.up))
}

// stateDirs are the directories under the provider's directory that are not a cluster's.
var stateDirs = map[string]bool{"etcd": true, "kine": true}

// Idle returns the ids of the clusters that have a data directory here but do not run
// here, sorted: those another replica hosts, and those deleted through another replica
// (which fenced this one) or left by a crash, whose directory is garbage.
func (p *Provider) Idle() ([]string, error) {
	entries, err := os.ReadDir(p.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range entries {
		if e.IsDir() && !stateDirs[e.Name()] && p.up[e.Name()] == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// RemoveData removes the data directory of a cluster that is not running here (the caller
// knows it is deleted); it does nothing when the cluster runs.
func (p *Provider) RemoveData(id string) error {
	if id == "" || stateDirs[id] || strings.ContainsAny(id, `/\`) || id == "." || id == ".." {
		return fmt.Errorf("remove cluster data: invalid id %q", id)
	}
	c := p.entry(id)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.server != nil {
		return nil
	}
	if err := os.RemoveAll(filepath.Join(p.dir, id)); err != nil {
		return fmt.Errorf("remove data of %s: %w", id, err)
	}
	p.mu.Lock()
	delete(p.clusters, id)
	p.mu.Unlock()
	return nil
}
