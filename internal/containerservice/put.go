package containerservice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/resources"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Put creates a cluster, or changes an existing one (node counts, authorized IP ranges,
// tags). It returns the cluster as stored, whether it is new, and the operation when work
// runs in the background (nil when nothing had to change). With If-None-Match: * it only
// creates: an existing cluster is a 409 that says how to change it.
func (s *Service) Put(ctx context.Context, sub, rg, name string, in armapi.ClusterInput, pre arm.Preconditions) (*armapi.ManagedCluster, bool, *store.Operation, error) {
	group, err := s.cfg.Resources.WritableGroup(ctx, sub, rg)
	if err != nil {
		return nil, false, nil, err
	}
	if !clusterName.MatchString(name) {
		return nil, false, nil, arm.BadRequest(arm.CodeInvalidResourceName,
			"Cluster name '%s' is invalid: use 1 to 63 letters, digits, '-' or '_', starting and ending with a letter or digit.", name).WithTarget("resourceName")
	}
	id := ID(sub, group.Name, name)
	what := fmt.Sprintf("Managed cluster '%s'", name)
	existing, err := s.cfg.Store.GetResource(ctx, id)
	var failed *store.Resource
	switch {
	case err == nil:
		if err := pre.CheckIfMatch(what, true, arm.ETag(existing.Version)); err != nil {
			return nil, false, nil, err
		}
		if failed, err = s.failedLeftover(ctx, existing); err != nil {
			return nil, false, nil, err
		}
		if failed == nil {
			if pre.IfNoneMatch {
				return nil, false, nil, s.exists(existing)
			}
			return s.update(ctx, existing, in, pre)
		}
		// A cluster whose create failed is created again, as ARM re-runs a failed PUT:
		// its row is replaced in the same transaction as the insert (see below).
	case !errors.Is(err, store.ErrNotFound):
		return nil, false, nil, fmt.Errorf("get cluster %s: %w", name, err)
	default:
		if err := pre.CheckIfMatch(what, false, ""); err != nil {
			return nil, false, nil, err
		}
	}
	nc, err := s.Prepare(ctx, sub, group.Name, name, in, "")
	if err != nil {
		return nil, false, nil, err
	}
	var op *store.Operation
	err = s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		if failed != nil {
			// At the version read: of two PUTs re-creating the same failed cluster, the
			// second finds the row changed and gets the 409 below, instead of deleting the
			// cluster the first one just inserted.
			if err := removeRows(ctx, tx, failed, failed.Version); err != nil {
				return err
			}
		}
		op, err = s.Insert(ctx, tx, nc)
		return err
	})
	// A conflict here is a concurrent create of the same name: the row's id collided.
	if errors.Is(err, store.ErrConflict) {
		if pre.IfNoneMatch {
			if r, gerr := s.cfg.Store.GetResource(ctx, id); gerr == nil {
				return nil, false, nil, s.exists(r)
			}
		}
		return nil, false, nil, arm.Conflict("Cluster '%s' is being created by another request; wait for it, then retry.", name)
	}
	if err != nil {
		return nil, false, nil, err
	}
	// Wake only after the commit: an engine woken inside the transaction could look for the
	// operation before it is visible and sleep until its next poll.
	s.cfg.Engine.Wake()
	setETag(nc.cluster, arm.ETag(1)) // a new row's first version
	return nc.cluster, true, op, nil
}

// Patch changes the fields in sets of an existing cluster through the same update as a PUT
// (ARM's PATCH, which the official clients call to update tags): fields in leaves empty stay
// as they are, and tags, when sent, replace the whole set. It never creates a cluster, nor
// creates again one whose create failed: a missing cluster is a 404. It returns the cluster
// and the operation when work runs in the background (nil when only tags changed).
func (s *Service) Patch(ctx context.Context, sub, rg, name string, in armapi.ClusterInput, pre arm.Preconditions) (*armapi.ManagedCluster, *store.Operation, error) {
	group, err := s.cfg.Resources.WritableGroup(ctx, sub, rg)
	if err != nil {
		return nil, nil, err
	}
	existing, err := s.cfg.Store.GetResource(ctx, ID(sub, group.Name, name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, arm.NotFound(arm.CodeResourceNotFound, "The managed cluster '%s' could not be found in resource group '%s'.", name, group.Name)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get cluster %s: %w", name, err)
	}
	if err := pre.CheckIfMatch(fmt.Sprintf("Managed cluster '%s'", name), true, arm.ETag(existing.Version)); err != nil {
		return nil, nil, err
	}
	mc, _, op, err := s.update(ctx, existing, in, pre)
	return mc, op, err
}

// failedLeftover returns r when it is a cluster whose create failed and on which nothing
// runs: a new PUT creates it again. nil otherwise.
func (s *Service) failedLeftover(ctx context.Context, r *store.Resource) (*store.Resource, error) {
	mc, err := decode(r)
	if err != nil || mc.Properties.ProvisioningState != armapi.StateFailed {
		return nil, err
	}
	ops, err := s.cfg.Store.ListOperations(ctx, store.OperationFilter{ResourceID: r.ID, Status: store.StatusInProgress})
	if err != nil || len(ops) > 0 {
		return nil, err
	}
	return r, nil
}

// removeRows deletes a cluster's row (only at version ifVersion when that is set) and the
// rows under it, through tx.
func removeRows(ctx context.Context, tx store.Store, r *store.Resource, ifVersion int64) error {
	children, err := tx.ListResources(ctx, store.ListOptions{Scope: r.ID})
	if err != nil {
		return err
	}
	for _, c := range children {
		if err := tx.DeleteResource(ctx, c.ID, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	if err := tx.DeleteResource(ctx, r.ID, ifVersion); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete cluster %s: %w", r.Name, err)
	}
	return nil
}

// exists is the 409 of a create (If-None-Match: *) on an existing cluster.
func (s *Service) exists(r *store.Resource) error {
	return arm.Conflict("Managed cluster '%s' already exists in resource group '%s'; use 'mlfleet aks update' or 'mlfleet aks scale' to change it, or choose another name.", r.Name, r.ResourceGroup)
}

// NewCluster is a validated request to create a cluster, ready to Insert. Validation and
// insert are split so that compute can validate a cluster with its own checks (all
// problems in one 400, B1) and insert it in the transaction that writes the compute (N7).
type NewCluster struct {
	resource   *store.Resource
	cluster    *armapi.ManagedCluster
	kubeconfig []byte
}

// ID returns the new cluster's ARM id.
func (nc *NewCluster) ID() string { return nc.resource.ID }

// Prepare validates a request to create cluster name in resource group rg (every problem
// together, policy included) and returns it ready to Insert. createdFor, when set, is the
// id of the compute that creates the cluster from its workspace: the cluster records it,
// and only that compute may delete it. Prepare writes nothing.
func (s *Service) Prepare(ctx context.Context, sub, rg, name string, in armapi.ClusterInput, createdFor string) (*NewCluster, error) {
	group, err := s.cfg.Resources.WritableGroup(ctx, sub, rg)
	if err != nil {
		return nil, err
	}
	mc, kubeconfig, err := s.validateNew(ctx, sub, group, name, in, createdFor != "")
	if err != nil {
		return nil, err
	}
	id := ID(sub, group.Name, name)
	mc.ID = id
	mc.Properties.Mlfleet.ClusterID = ClusterID(id)
	uniqueFQDN(mc)
	mc.Properties.Mlfleet.CreatedFor = createdFor
	mc.SystemData = resources.Touch(ctx, nil, s.now())
	body := clusterRecord.Encode(mc)
	r := &store.Resource{ID: id, ParentID: group.ID, Type: TypeManagedCluster, Name: name, SubscriptionID: sub,
		ResourceGroup: group.Name, Location: mc.Location, Body: body}
	return &NewCluster{resource: r, cluster: mc, kubeconfig: kubeconfig}, nil
}

// Insert writes a prepared cluster, its sealed kubeconfig and its create operation through
// tx, a transaction of the store; the caller wakes the engine once it committed. Returns
// an error wrapping store.ErrConflict when a cluster of that name exists, and a 400
// QuotaExceeded when the cluster does not fit in its subscription's quotas in its region,
// counted in tx (see quota.go).
func (s *Service) Insert(ctx context.Context, tx store.Store, nc *NewCluster) (*store.Operation, error) {
	r := *nc.resource
	// Written first, so that a cluster of that name is a conflict whatever the quotas.
	if err := tx.CreateResource(ctx, &r); err != nil {
		return nil, fmt.Errorf("create cluster %s: %w", r.Name, err)
	}
	if err := s.reserve(ctx, tx, r.SubscriptionID, r.Location, s.createRequest(nc.cluster), r.ID); err != nil {
		return nil, err
	}
	if nc.kubeconfig != nil {
		if err := s.saveKubeconfig(ctx, tx, &r, nc.kubeconfig); err != nil {
			return nil, err
		}
	}
	return s.cfg.Engine.SubmitIn(ctx, tx, KindCreate, r.ID, r.SubscriptionID, clusterOp{ID: r.ID})
}

// update changes an existing cluster in place: node counts, node labels and taints and tags
// of existing pools, authorized IP ranges and tags. Anything else is refused with the reason.
func (s *Service) update(ctx context.Context, r *store.Resource, in armapi.ClusterInput, pre arm.Preconditions) (*armapi.ManagedCluster, bool, *store.Operation, error) {
	stored, err := clusterRecord.Read(r.ID, r.Body)
	if err != nil {
		return nil, false, nil, err
	}
	mc := *stored
	withDefaults(&mc)
	cur := mc
	cur.Properties.AgentPoolProfiles = slices.Clone(mc.Properties.AgentPoolProfiles)
	// Checked here for a quick, precise answer, and again in the transaction below, where
	// it counts.
	if err := s.idle(ctx, s.cfg.Store, r.ID, &mc); err != nil {
		return nil, false, nil, err
	}
	var errs arm.Problems
	p := in.Properties
	if in.Location != "" {
		if loc, _ := arm.NormalizeLocation(in.Location); loc != mc.Location {
			errs.Add("InvalidParameter", "location", "Cluster '%s' is in %s; its location cannot be changed.", mc.Name, mc.Location)
		}
	}
	// The API server's FQDN is built from the DNS prefix and the kubeconfigs handed out name
	// it, so AKS refuses a change rather than ignore it; a PUT that repeats the prefix (az aks
	// update sends the whole cluster back) passes.
	if p.DNSPrefix != "" && !strings.EqualFold(p.DNSPrefix, mc.Properties.DNSPrefix) {
		errs.Add("PropertyChangeNotAllowed", "properties.dnsPrefix", "Cluster '%s' has DNS prefix '%s'; it cannot be changed. Create a new cluster for another prefix.", mc.Name, mc.Properties.DNSPrefix)
	}
	// The version as stored passes (a registered cluster upgraded where it runs keeps the
	// one it was registered with); another is checked against what runs, and kept as
	// asked when it is that version or its major.minor.
	if req := requestedVersion(p.KubernetesVersion); req != "" && req != mc.Properties.KubernetesVersion {
		if kept := checkVersionChange("properties.kubernetesVersion", fmt.Sprintf("Cluster '%s'", mc.Name), req, currentVersion(&mc), &errs); kept != "" {
			mc.Properties.KubernetesVersion = kept
		}
	}
	checkIdentityUnchanged(in, &mc, &errs)
	checkProfiles(in, &mc.Properties, &cur.Properties, &errs)
	want := updateOp{ID: r.ID, Counts: map[string]int{}}
	info := s.providerInfo(mc.Properties.Mlfleet.Provider)
	autoscaled := slices.ContainsFunc(mc.Properties.AgentPoolProfiles, func(x armapi.AgentPoolProfile) bool { return x.EnableAutoScaling })
	for i, ap := range p.AgentPoolProfiles {
		target := fmt.Sprintf("properties.agentPoolProfiles[%d]", i)
		idx := poolIndex(&mc, orDefault(ap.Name, DefaultPoolName))
		if idx < 0 {
			errs.Add("InvalidParameter", target+".name", "Cluster '%s' has no agent pool '%s'; adding pools is not supported. Its agent pools are: %s.", mc.Name, ap.Name, poolNames(&mc))
			continue
		}
		cur := mc.Properties.AgentPoolProfiles[idx]
		checkPowerState(target, ap.PowerState, cur.Name, &errs)
		checkUnsupportedPoolSettings(target, cur.Name, ap.AgentPoolSettings, &errs)
		// The pool as read passes: a registered cluster upgraded where it runs keeps the
		// orchestratorVersion it was registered with next to its current one.
		if req := requestedVersion(ap.OrchestratorVersion); req != "" && req != cur.OrchestratorVersion {
			if kept := checkVersionChange(target+".orchestratorVersion", fmt.Sprintf("Agent pool '%s' of cluster '%s'", cur.Name, mc.Name), req,
				orDefault(cur.CurrentOrchestratorVersion, currentVersion(&mc)), &errs); kept != "" {
				mc.Properties.AgentPoolProfiles[idx].OrchestratorVersion = kept
			}
		}
		if ap.Mode != "" && !strings.EqualFold(ap.Mode, orDefault(cur.Mode, "System")) {
			errs = append(errs, modeChange(cur).WithTarget(target+".mode"))
		}
		if ap.VMSize != "" && !strings.EqualFold(ap.VMSize, cur.VMSize) {
			errs.Add("InvalidParameter", target+".vmSize", "The VM size of agent pool '%s' is %s and cannot be changed; create a new cluster with the size you need.", cur.Name, cur.VMSize)
		}
		next := cur
		// Labels, taints and tags are stored with the cluster at once: the update
		// operation's Ensure applies the stored spec to the nodes.
		if updatePoolSettings(target, ap.AgentPoolSettings, cur, &next, info, &errs) {
			want.Nodes = true
		}
		settings := &mc.Properties.AgentPoolProfiles[idx]
		settings.NodeLabels, settings.NodeTaints, settings.Tags = next.NodeLabels, next.NodeTaints, next.Tags
		count := poolScaling(target, ap, &next, ap.Count != nil, true, &errs)
		if next.EnableAutoScaling != cur.EnableAutoScaling || !slices.Equal(ptrs(next.MinCount, next.MaxCount), ptrs(cur.MinCount, cur.MaxCount)) {
			if !info.CanScale {
				errs.Add("InvalidParameter", target+".enableAutoScaling", "Clusters of the %s provider are scaled where they run: their autoscaling cannot be changed through mlfleet.", info.Name)
				continue
			}
			pool := &mc.Properties.AgentPoolProfiles[idx]
			pool.EnableAutoScaling, pool.MinCount, pool.MaxCount = next.EnableAutoScaling, next.MinCount, next.MaxCount
		}
		autoscaled = autoscaled || next.EnableAutoScaling
		// A pool whose autoscaler stays on, or is turned on, gets the count poolScaling
		// chose; one whose autoscaler is off after this request, including one this
		// request turns off, takes the count sent, as AKS applies it in the same PUT.
		if next.EnableAutoScaling {
			if count != cur.Count && !info.CanScale {
				errs.Add("InvalidParameter", target+".count", "Clusters of the %s provider are scaled where they run, not through mlfleet.", info.Name)
			} else if count != cur.Count {
				want.Counts[cur.Name] = count
			}
		} else if ap.Count != nil && *ap.Count != cur.Count {
			if !info.CanScale {
				errs.Add("InvalidParameter", target+".count", "Clusters of the %s provider are scaled where they run, not through mlfleet.", info.Name)
			} else if *ap.Count < 1 || *ap.Count > 100 {
				errs.Add("InvalidParameter", target+".count", "Agent pool '%s' node count %d is out of range: use 1 to 100.", cur.Name, *ap.Count)
			} else {
				want.Counts[cur.Name] = *ap.Count
			}
		}
	}
	if autoscaled || p.AutoScalerProfile != nil {
		merged := mergeProfile(p.AutoScalerProfile, cur.Properties.AutoScalerProfile, &errs)
		switch {
		case info.CanScale:
			mc.Properties.AutoScalerProfile = merged
		case p.AutoScalerProfile != nil && !profileEqual(merged, mergeProfile(nil, cur.Properties.AutoScalerProfile, &arm.Problems{})):
			errs.Add("InvalidParameter", "properties.autoScalerProfile", "Clusters of the %s provider are scaled where they run: change their cluster autoscaler's settings in the cluster itself, not through mlfleet.", info.Name)
		}
	}
	if ap := p.APIServerAccessProfile; ap != nil {
		cur := mc.Properties.APIServerAccessProfile
		if cur == nil {
			cur = &armapi.APIServerAccessProfile{}
		}
		if ap.EnablePrivateCluster != cur.EnablePrivateCluster {
			errs.Add("InvalidParameter", "properties.apiServerAccessProfile.enablePrivateCluster", "A cluster cannot be made private or public after creation.")
		}
		if cur.EnablePrivateCluster && len(ap.AuthorizedIPRanges) > 0 {
			errs.Add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "A private cluster cannot have authorized IP ranges: its API server has no public endpoint.")
		}
		for _, x := range ap.AuthorizedIPRanges {
			if _, err := parseRange(x); err != nil {
				errs.Add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "Authorized IP range '%s' is not an IP address or CIDR.", x)
			}
		}
		if !slices.Equal(ap.AuthorizedIPRanges, cur.AuthorizedIPRanges) {
			switch {
			case len(ap.AuthorizedIPRanges) > 0 && mc.Properties.NetworkProfile.LoadBalancerSku == "basic":
				errs.Add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "API server authorized IP ranges need a standard load balancer; this cluster has a basic one.")
			case !info.EnforcesAuthorizedIPRanges:
				errs.Add("InvalidParameter", "properties.apiServerAccessProfile.authorizedIPRanges", "The %s provider cannot enforce authorized IP ranges.", info.Name)
			default:
				ranges := append([]string{}, ap.AuthorizedIPRanges...)
				want.Ranges = &ranges
			}
		}
	}
	if err := errs.Err("", "The cluster request"); err != nil {
		return nil, false, nil, err
	}
	if guard := s.cfg.ChangeGuard; guard != nil && (len(want.Counts) > 0 || want.Ranges != nil || autoscaleChanged(&cur, &mc)) {
		next := mc
		next.Properties.AgentPoolProfiles = slices.Clone(mc.Properties.AgentPoolProfiles)
		for i, p := range next.Properties.AgentPoolProfiles {
			if n, ok := want.Counts[p.Name]; ok {
				next.Properties.AgentPoolProfiles[i].Count = n
			}
		}
		if want.Ranges != nil {
			ap := armapi.APIServerAccessProfile{}
			if cur := mc.Properties.APIServerAccessProfile; cur != nil {
				ap = *cur
			}
			ap.AuthorizedIPRanges = *want.Ranges
			next.Properties.APIServerAccessProfile = &ap
		}
		if err := guard(ctx, &next); err != nil {
			return nil, false, nil, err
		}
	}
	if in.Tags != nil {
		mc.Tags = in.Tags
	}
	mc.SystemData = resources.Touch(ctx, mc.SystemData, s.now())
	var op *store.Operation
	request := s.scaleRequest(&mc, want.Counts)
	// A change of the autoscaler runs as an operation too: it reconfigures the provider.
	want.Autoscale = autoscaleChanged(&cur, &mc)
	if len(want.Counts) > 0 || want.Ranges != nil || want.Autoscale || want.Nodes {
		mc.Properties.ProvisioningState = armapi.StateUpdating
	}
	// A pool whose count changes is Scaling until its operation ends, as AKS shows it.
	for i, p := range mc.Properties.AgentPoolProfiles {
		if _, ok := want.Counts[p.Name]; ok {
			mc.Properties.AgentPoolProfiles[i].ProvisioningState = armapi.StateScaling
		}
	}
	r.Body = clusterRecord.Encode(&mc)
	// The change and its operation commit together; the version read above guards against
	// a concurrent change (which gets the 409 below instead of being overwritten), the
	// quota lock against concurrent creates and scales in the region.
	err = s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		if err := s.idle(ctx, tx, r.ID, &mc); err != nil {
			return err
		}
		if err := s.reserve(ctx, tx, r.SubscriptionID, mc.Location, request, ""); err != nil {
			return err
		}
		w := *r
		if err := tx.UpdateResource(ctx, &w); err != nil {
			return fmt.Errorf("update cluster %s: %w", mc.Name, err)
		}
		r.Version = w.Version
		op = nil
		if mc.Properties.ProvisioningState == armapi.StateUpdating {
			var err error
			op, err = s.cfg.Engine.SubmitIn(ctx, tx, KindUpdate, r.ID, r.SubscriptionID, want)
			return err
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, false, nil, arm.Errorf(http.StatusConflict, arm.CodeOperationInProgress,
			"Cluster '%s' was changed by another request at the same time; read it again and retry.", mc.Name)
	}
	if err != nil {
		return nil, false, nil, err
	}
	if op != nil {
		s.cfg.Engine.Wake()
	}
	setETag(&mc, arm.ETag(r.Version))
	return &mc, false, op, nil
}

// idle refuses a change while another operation runs on the cluster, with a 409
// OperationInProgress: two operations on one cluster would each Ensure their own counts,
// and the last to finish would win.
func (s *Service) idle(ctx context.Context, st store.Store, id string, mc *armapi.ManagedCluster) error {
	ops, err := st.ListOperations(ctx, store.OperationFilter{ResourceID: id, Status: store.StatusInProgress})
	if err != nil {
		return fmt.Errorf("list operations: %w", err)
	}
	if len(ops) > 0 {
		return arm.Errorf(http.StatusConflict, arm.CodeOperationInProgress,
			"Cluster '%s' is %s (operation %s); wait for it to finish, then retry.", mc.Name, strings.ToLower(mc.Properties.ProvisioningState), ops[0].ID)
	}
	return nil
}
