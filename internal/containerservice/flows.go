package containerservice

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/operations"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Resume brings every created cluster up again after a restart (in the background). A
// cluster being created is left to its create operation; one being deleted is never
// started again (its delete operation resumes and finishes the job). Clusters start a
// few at a time (ResumeParallelism), those a compute is attached to first: starts
// compete for the same cores, so fewer at once bring the attached ones back sooner.
func (s *Service) Resume(ctx context.Context) error { return s.ResumeWhere(ctx, nil) }

// ResumeWhere is Resume for the clusters whose provider id want accepts (nil: all): a
// replica taking over clusters whose host has gone resumes only those not running here and
// whose hosting lease has lapsed.
func (s *Service) ResumeWhere(ctx context.Context, want func(providerID string) bool) error {
	rows, err := s.cfg.Store.ListResources(ctx, store.ListOptions{Type: TypeManagedCluster})
	if err != nil {
		return fmt.Errorf("list clusters: %w", err)
	}
	claims, err := s.cfg.Store.ListResources(ctx, store.ListOptions{Type: attachmentClaimType})
	if err != nil {
		return fmt.Errorf("list attachments: %w", err)
	}
	attached := map[string]bool{}
	for _, c := range claims {
		attached[strings.ToLower(c.ParentID)] = true
	}
	var first, then []string
	for _, r := range rows {
		mc, err := decode(r)
		if err != nil {
			return err
		}
		if !resumable(mc) {
			continue
		}
		if attached[strings.ToLower(r.ID)] || mc.Properties.Mlfleet.CreatedFor != "" {
			first = append(first, r.ID)
		} else {
			then = append(then, r.ID)
		}
	}
	queue := make(chan string, len(first)+len(then))
	for _, id := range slices.Concat(first, then) {
		queue <- id
	}
	close(queue)
	for range min(s.resumeParallelism(), len(first)+len(then)) {
		go func() {
			for id := range queue {
				if ctx.Err() != nil {
					return
				}
				if err := s.resume(ctx, id, want); err != nil && ctx.Err() == nil && !errors.Is(err, provider.ErrHostedElsewhere) {
					s.log.Error("resume cluster", "cluster", id, "err", err)
				}
			}
		}()
	}
	return nil
}

// attachmentClaimType is the type of the row a compute's attachment claims its cluster
// with ({clusterId}/mlfleetAttachments/current, written by the compute package).
const attachmentClaimType = TypeManagedCluster + "/mlfleetAttachments"

// resumeParallelism is how many clusters Resume starts at once: Config.ResumeParallelism,
// else one more than the cores. A start alone keeps about three quarters of a core busy
// (2.6 s of wall time; ten at once on two cores took 9.5 s), so cores+1 starts keep the
// machine busy without making each start wait for the others.
func (s *Service) resumeParallelism() int {
	if n := s.cfg.ResumeParallelism; n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0) + 1
}

// resumable says whether Resume brings a stored cluster up: not while its create or update
// operation does (with the state it is going to), not once it failed, not while it is being
// deleted.
func resumable(mc *armapi.ManagedCluster) bool {
	switch mc.Properties.ProvisioningState {
	case armapi.StateCreating, armapi.StateUpdating, armapi.StateFailed, armapi.StateDeleting:
		return false
	}
	return true
}

// resume brings one cluster up, under its lock, if it is still there and still resumable
// once the lock is held (a delete may have started since Resume listed it).
func (s *Service) resume(ctx context.Context, id string, want func(string) bool) error {
	unlock := s.locks.lock(id)
	defer unlock()
	r, mc, err := stored(ctx, s.cfg.Store, id)
	if err != nil || mc == nil || !resumable(mc) {
		return err
	}
	spec, err := s.spec(ctx, r, mc)
	if err != nil {
		return err
	}
	if want != nil && !want(spec.ID) {
		return nil
	}
	prov, err := s.provider(mc.Properties.Mlfleet.Provider)
	if err != nil {
		return err
	}
	_, err = prov.Ensure(provider.ResumeOnly(ctx), spec)
	return err
}

// clusterOp is the input of a create operation: only the id. The spec is read from the
// stored row on each attempt, so that a resumed operation ensures the cluster as it is
// stored now, not as it was submitted.
type clusterOp struct {
	ID string `json:"id"`
}

// updateOp is the input of an update operation: what changes. Counts and ranges travel
// in the operation, not in the row, so that the stored cluster shows what runs until the
// provider did the change (a failed scale leaves the old count, which still runs).
type updateOp struct {
	ID     string         `json:"id"`
	Counts map[string]int `json:"counts,omitempty"`
	Ranges *[]string      `json:"ranges,omitempty"`
	// Autoscale says the autoscaler's settings changed (they are stored with the cluster).
	Autoscale bool `json:"autoscale,omitempty"`
	// Nodes says the labels or taints of a pool's nodes changed (they are stored with the
	// cluster, and Ensure applies them).
	Nodes bool `json:"nodes,omitempty"`
}

// runCreate brings a new cluster up and records its live facts.
func (s *Service) runCreate(ctx context.Context, run *operations.Run) error {
	var in clusterOp
	if err := run.Input(&in); err != nil {
		return err
	}
	return s.create(ctx, run, in.ID)
}

// failedCreate is the cleanup of a failed create: the provider's cluster, if it was made,
// is destroyed, and the resource is left Failed with the reason on its operation.
func (s *Service) failedCreate(ctx context.Context, run *operations.Run, _ error) error {
	var in clusterOp
	if err := run.Input(&in); err != nil {
		return err
	}
	_, mc, err := stored(ctx, s.cfg.Store, in.ID)
	if err != nil || mc == nil {
		return err
	}
	// Only a provider that made the cluster destroys it; a registered (external) cluster
	// is the user's, and a failed registration made nothing to clean up. Under the lock,
	// so that a concurrent resume cannot start what is being destroyed.
	if prov, err := s.provider(mc.Properties.Mlfleet.Provider); err == nil && prov.Info().DeleteDestroys {
		unlock := s.locks.lock(in.ID)
		err := prov.Delete(ctx, mc.Properties.Mlfleet.ClusterID)
		unlock()
		if err != nil {
			return providerError("clean up cluster "+mc.Name, err)
		}
	}
	return s.markFailed(ctx, in.ID)
}

// loaded is a stored cluster as a create or an update starts from it: the cluster, its
// provider and the spec the provider is given.
type loaded struct {
	mc   *armapi.ManagedCluster
	prov provider.Provider
	spec provider.ClusterSpec
}

// load reads the stored cluster id, its provider and its spec.
func (s *Service) load(ctx context.Context, id string) (*loaded, error) {
	r, err := s.cfg.Store.GetResource(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get cluster %s: %w", id, err)
	}
	mc, err := decode(r)
	if err != nil {
		return nil, err
	}
	prov, err := s.provider(mc.Properties.Mlfleet.Provider)
	if err != nil {
		return nil, err
	}
	spec, err := s.spec(ctx, r, mc)
	if err != nil {
		return nil, err
	}
	return &loaded{mc: mc, prov: prov, spec: spec}, nil
}

func (s *Service) create(ctx context.Context, run *operations.Run, id string) error {
	l, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	mc, prov, spec := l.mc, l.prov, l.spec
	// On every attempt: after a restart, the cluster is down until its operation brings it
	// up (Resume leaves clusters being created to their operation).
	var st *provider.Status
	err = run.Always(ctx, "ensure cluster", func(ctx context.Context) error {
		unlock := s.locks.lock(id)
		defer unlock()
		st, err = prov.Ensure(ctx, spec)
		return err
	})
	if err != nil {
		return providerError("create cluster "+mc.Name, err)
	}
	return s.record(ctx, id, st)
}

// record saves the live facts of a cluster and marks it Succeeded.
func (s *Service) record(ctx context.Context, id string, st *provider.Status) error {
	return s.modify(ctx, id, func(mc *armapi.ManagedCluster) {
		p := &mc.Properties
		p.ProvisioningState = armapi.StateSucceeded
		p.PowerState.Code = PowerRunning
		if st.KubernetesVersion != "" {
			p.CurrentKubernetesVersion = st.KubernetesVersion
			if p.KubernetesVersion == "" {
				p.KubernetesVersion = st.KubernetesVersion
			}
		}
		p.Mlfleet.APIServerURL = st.Server
		// A registered cluster's pools, counts and sizes are whatever runs (S25); an
		// embedded cluster's are what was asked for, which Ensure made true.
		if p.Mlfleet.Provider != "embedded" && len(st.Pools) > 0 {
			p.AgentPoolProfiles = nil
			for _, lp := range st.Pools {
				ap := armapi.AgentPoolProfile{Name: lp.Name, AgentPoolProperties: armapi.AgentPoolProperties{Count: lp.Count, VMSize: lp.VMSize,
					Mode: orDefault(lp.Mode, "System"), OSType: "Linux", Type: "VirtualMachineScaleSets", OrchestratorVersion: st.KubernetesVersion}}
				// The cluster's own autoscaler, as it reports itself.
				if b := lp.Autoscale; b != nil {
					lo, hi := b.Min, b.Max
					ap.EnableAutoScaling, ap.MinCount, ap.MaxCount = true, &lo, &hi
				}
				p.AgentPoolProfiles = append(p.AgentPoolProfiles, ap)
			}
		}
		if p.Mlfleet.Provider != "embedded" && st.Server != "" {
			if u, err := url.Parse(st.Server); err == nil {
				host := u.Hostname()
				p.FQDN = &host
			}
		}
		for i := range p.AgentPoolProfiles {
			p.AgentPoolProfiles[i].ProvisioningState = armapi.StateSucceeded
		}
	})
}

func (s *Service) runUpdate(ctx context.Context, run *operations.Run) error {
	var in updateOp
	if err := run.Input(&in); err != nil {
		return err
	}
	return s.applyUpdate(ctx, run, in)
}

// failedUpdate is the cleanup of a failed update: the cluster still runs, so it is
// Succeeded again, with its pools; the failure is on the operation.
func (s *Service) failedUpdate(ctx context.Context, run *operations.Run, _ error) error {
	var in updateOp
	if err := run.Input(&in); err != nil {
		return err
	}
	err := s.modify(ctx, in.ID, func(mc *armapi.ManagedCluster) {
		mc.Properties.ProvisioningState = armapi.StateSucceeded
		scaled(mc, in.Counts, false)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// Resume skipped it while it was Updating: make sure it runs, as it is stored.
	return s.resume(ctx, in.ID, nil)
}

func (s *Service) applyUpdate(ctx context.Context, run *operations.Run, in updateOp) error {
	l, err := s.load(ctx, in.ID)
	if err != nil {
		return err
	}
	mc, prov, spec := l.mc, l.prov, l.spec
	// Bring the cluster to the wanted state on every attempt: Ensure with the new counts
	// scales it, and after a restart also brings it up (Resume leaves clusters being updated
	// to their operation, so that it never starts them with the old counts).
	for i, p := range spec.Pools {
		if count, ok := in.Counts[p.Name]; ok {
			spec.Pools[i].Count = count
		}
	}
	if in.Ranges != nil {
		spec.AuthorizedIPRanges = *in.Ranges
	}
	var st *provider.Status
	if err := run.Always(ctx, "ensure cluster", func(ctx context.Context) error {
		unlock := s.locks.lock(in.ID)
		defer unlock()
		// A provider that cannot create (external) has nothing to ensure: an update of a
		// registered cluster only changes stored fields, so read what runs.
		if !prov.Info().CanCreate {
			st, err = prov.Status(ctx, spec.ID)
			return err
		}
		if st, err = prov.Ensure(ctx, spec); err != nil {
			return err
		}
		if in.Ranges != nil {
			return prov.SetAuthorizedIPRanges(ctx, spec.ID, *in.Ranges)
		}
		return nil
	}); err != nil {
		return providerError("update cluster "+mc.Name, err)
	}
	if err := s.modify(ctx, in.ID, func(mc *armapi.ManagedCluster) {
		scaled(mc, in.Counts, true)
		if in.Ranges != nil {
			if mc.Properties.APIServerAccessProfile == nil {
				mc.Properties.APIServerAccessProfile = &armapi.APIServerAccessProfile{}
			}
			mc.Properties.APIServerAccessProfile.AuthorizedIPRanges = *in.Ranges
		}
		mc.Properties.ProvisioningState = armapi.StateSucceeded
		mc.Properties.CurrentKubernetesVersion = st.KubernetesVersion
	}); err != nil {
		return err
	}
	if changed := s.cfg.Changed; changed != nil {
		changed(ctx, in.ID)
	}
	return nil
}

// scaled ends the scaling of the pools counts names: they are Succeeded again, with the
// count they were scaled to when the scaling took place.
func scaled(mc *armapi.ManagedCluster, counts map[string]int, took bool) {
	for i, p := range mc.Properties.AgentPoolProfiles {
		if c, ok := counts[p.Name]; ok {
			if took {
				mc.Properties.AgentPoolProfiles[i].Count = c
			}
			mc.Properties.AgentPoolProfiles[i].ProvisioningState = armapi.StateSucceeded
		}
	}
}

// spec builds the provider's view of a stored cluster.
func (s *Service) spec(ctx context.Context, r *store.Resource, mc *armapi.ManagedCluster) (provider.ClusterSpec, error) {
	p := mc.Properties
	spec := provider.ClusterSpec{ID: p.Mlfleet.ClusterID, Name: mc.Name, Location: mc.Location, KubernetesVersion: currentVersion(mc),
		ServiceCIDR: p.NetworkProfile.ServiceCidr, DNSServiceIP: p.NetworkProfile.DNSServiceIP, Context: p.Mlfleet.Context}
	for _, ap := range p.AgentPoolProfiles {
		pool := nodePool(ap)
		if ap.EnableAutoScaling && ap.MinCount != nil && ap.MaxCount != nil {
			pool.Autoscale = &provider.PoolBounds{Min: *ap.MinCount, Max: *ap.MaxCount}
			if spec.Autoscaler == nil {
				spec.Autoscaler = s.autoscaler(r.ID, p.AutoScalerProfile)
			}
		}
		spec.Pools = append(spec.Pools, pool)
	}
	if p.APIServerAccessProfile != nil {
		spec.AuthorizedIPRanges = p.APIServerAccessProfile.AuthorizedIPRanges
	}
	if p.FQDN != nil {
		spec.FQDN = *p.FQDN
	} else if p.PrivateFQDN != nil {
		spec.FQDN = *p.PrivateFQDN
	}
	if p.Mlfleet.Provider != "embedded" {
		kc, err := s.loadKubeconfig(ctx, r)
		if err != nil {
			return spec, err
		}
		spec.Kubeconfig = kc
	}
	return spec, nil
}

// ProviderIDs returns the provider id of every stored cluster, whatever its state.
func (s *Service) ProviderIDs(ctx context.Context) (map[string]bool, error) {
	mcs, err := s.storedClusters(ctx, false)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, mc := range mcs {
		if id := mc.Properties.Mlfleet.ClusterID; id != "" {
			out[id] = true
		}
	}
	return out, nil
}

// storedClusters decodes every stored cluster, whatever its state. A row that does not
// decode is the error, or with skipUndecodable passed over.
func (s *Service) storedClusters(ctx context.Context, skipUndecodable bool) ([]*armapi.ManagedCluster, error) {
	rows, err := s.cfg.Store.ListResources(ctx, store.ListOptions{Type: TypeManagedCluster})
	if err != nil {
		return nil, fmt.Errorf("list clusters: %w", err)
	}
	out := make([]*armapi.ManagedCluster, 0, len(rows))
	for _, r := range rows {
		mc, err := decode(r)
		if err != nil {
			if skipUndecodable {
				continue
			}
			return nil, err
		}
		out = append(out, mc)
	}
	return out, nil
}

// FQDNs returns the provider id of every stored cluster by its fqdn (lower-case), public or
// private: the names the front door routes by.
func (s *Service) FQDNs(ctx context.Context) (map[string]string, error) {
	mcs, err := s.storedClusters(ctx, true)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, mc := range mcs {
		p := mc.Properties
		if p.Mlfleet.ClusterID == "" {
			continue
		}
		for _, f := range []*string{p.FQDN, p.PrivateFQDN} {
			if f != nil && *f != "" {
				out[strings.ToLower(*f)] = p.Mlfleet.ClusterID
			}
		}
	}
	return out, nil
}
