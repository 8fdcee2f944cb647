package compute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/background"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// Start runs the health monitor (B4) until ctx ends or Close is called: every
// MonitorInterval it observes each attached compute's cluster and refreshes its conditions,
// live facts and derived provisioning state; in between, it observes at once the clusters
// RefreshClusterSoon names.
func (s *Service) Start(ctx context.Context) {
	s.monitorOnce.Do(func() {
		ctx, cancel := context.WithCancel(ctx)
		s.monitorStop = cancel
		s.monitorDone = make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			background.Every(ctx, s.cfg.MonitorInterval, func(ctx context.Context) {
				if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("health monitor", "err", err)
				}
			})
		})
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-s.soon:
					s.RefreshCluster(ctx, id)
				}
			}
		})
		go func() {
			defer close(s.monitorDone)
			wg.Wait()
		}()
	})
}

// RefreshClusterSoon asks the health monitor to observe the compute attached to cluster
// clusterID as soon as it can, and returns at once: for callers that must not wait on the
// cluster, such as its autoscaler, which runs inside the cluster and would otherwise be
// held by a stop of the cluster waiting for it. A request made while many are queued is
// dropped (the cluster is queued already, or the next health pass sees it).
func (s *Service) RefreshClusterSoon(clusterID string) {
	select {
	case s.soon <- clusterID:
	default:
	}
}

// Close stops the health monitor.
func (s *Service) Close(ctx context.Context) error {
	if s.monitorStop == nil {
		return nil
	}
	s.monitorStop()
	return background.Wait(ctx, s.monitorDone)
}

// Refresh observes every attached compute once (what the monitor does on each tick).
func (s *Service) Refresh(ctx context.Context) error {
	rows, err := s.cfg.Store.ListResources(ctx, store.ListOptions{Type: TypeCompute})
	if err != nil {
		return fmt.Errorf("list computes: %w", err)
	}
	for _, r := range rows {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.cfg.Monitors != nil && !s.cfg.Monitors(r.ID) {
			continue // another replica's
		}
		s.refresh(ctx, r)
	}
	return nil
}

// RefreshCluster observes at once the compute attached to cluster clusterID, if any: the
// clusters' service calls it when an operation has changed the cluster (a scale), so that
// the compute's node count and capacity follow without waiting for the next health pass.
// Whichever replica ran the operation refreshes, the monitor's owner or not: the write
// is conditional, as the monitor's is.
func (s *Service) RefreshCluster(ctx context.Context, clusterID string) {
	holder, err := s.attachmentHolder(ctx, clusterID)
	if err != nil || holder == "" {
		return
	}
	r, err := s.cfg.Store.GetResource(ctx, holder)
	if err != nil {
		return
	}
	s.refresh(ctx, r)
}

// refresh observes one compute's cluster and records what it found. A compute an operation
// works on is left to it: the operation records the state when it ends, and a write in
// between would report a half-made attach.
func (s *Service) refresh(ctx context.Context, r *store.Resource) {
	c, err := decode(r)
	if err != nil || !c.Properties.Mlfleet.Attached || busy(c.Properties.ProvisioningState) {
		return
	}
	var o *observation
	mc, err := s.attachedCluster(ctx, c)
	var ae *arm.Error
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusConflict:
		// The cluster was deleted under the compute: say so until it is detached.
		id, _ := arm.ParseID(deref(c.Properties.ResourceID))
		o = &observation{Cluster: &armapi.ManagedCluster{Name: id.Name()}, Unreachable: errors.New("the cluster no longer exists; detach this compute")}
	case err != nil:
		return
	default:
		// The cached client is probed first: a client that keeps failing is dropped, so
		// that this observation connects afresh.
		_ = s.cfg.Clusters.ProbeClient(ctx, mc)
		o = s.observe(ctx, mc, false)
	}
	if err := s.modifyIfChanged(ctx, r.ID, func(c *armapi.Compute) {
		if busy(c.Properties.ProvisioningState) || !c.Properties.Mlfleet.Attached {
			return // an operation started meanwhile: it records the state
		}
		s.apply(c, o)
		c.Properties.ProvisioningState = derivedState(c.Properties.Mlfleet.Conditions)
	}); err != nil {
		s.log.Warn("record compute health", "compute", r.ID, "err", err)
	}
}

// busy says whether a provisioning state belongs to a running operation.
func busy(state string) bool {
	return state == armapi.StateCreating || state == armapi.StateUpdating || state == armapi.StateDeleting
}

// apply records an observation on a compute: conditions, live facts, provisioning errors.
func (s *Service) apply(c *armapi.Compute, o *observation) {
	p := c.Properties.Properties
	purpose := deref(p.ClusterPurpose)
	now := s.now().UTC()
	set := func(typ string, ok bool, reason, format string, args ...any) {
		status := "False"
		if ok {
			status = "True"
		}
		setCondition(&c.Properties.Mlfleet.Conditions, armapi.Condition{Type: typ, Status: status, Reason: reason, Message: fmt.Sprintf(format, args...)}, now)
	}
	unknown := func(typ string) {
		setCondition(&c.Properties.Mlfleet.Conditions, armapi.Condition{Type: typ, Status: "Unknown", Reason: "ClusterUnreachable", Message: "the cluster cannot be reached"}, now)
	}
	name := o.Cluster.Name
	c.Properties.Mlfleet.Autoscale = autoscaleOf(o.Cluster)
	if o.Unreachable != nil {
		set(armapi.ConditionReachable, false, "ClusterUnreachable", "Cluster '%s' cannot be reached: %v", name, o.Unreachable)
		unknown(armapi.ConditionVersionSupported)
		unknown(armapi.ConditionCapacitySufficient)
		unknown(armapi.ConditionComponentsReady)
	} else {
		set(armapi.ConditionReachable, true, "APIServerResponding", "Kubernetes %s answers", o.Version)
		c.Properties.Mlfleet.KubernetesVersion = o.Version
		c.Properties.Mlfleet.ClusterUID = o.UID
		ok, reason, msg := versionCondition(s.cfg.Clusters.Versions(), o.Cluster.Location, o.Version)
		set(armapi.ConditionVersionSupported, ok, reason, "%s", msg)
		fails, _, summary := liveCapacity(purpose, o.Nodes, fmt.Sprintf("cluster '%s'", name))
		if len(fails) == 0 {
			set(armapi.ConditionCapacitySufficient, true, "Sufficient", "%s", summary)
		} else {
			set(armapi.ConditionCapacitySufficient, false, "InsufficientCapacity", "%s", fails[0])
		}
		want := replicas(purpose)
		switch fe := o.FrontEnd; {
		case fe == nil:
			set(armapi.ConditionComponentsReady, false, "NotInstalled", "the inference front-end azureml-fe is missing from namespace azureml")
		case fe.ReadyReplicas < want:
			set(armapi.ConditionComponentsReady, false, "FrontEndNotReady", "azureml-fe has %d of %s ready", fe.ReadyReplicas, count(int(want), "replica"))
		default:
			set(armapi.ConditionComponentsReady, true, "Ready", "azureml-fe has %s ready", count(int(fe.ReadyReplicas), "replica"))
		}
		// The live nodes, not the stored request: an autoscaled or registered cluster
		// changes size on its own, and azureml-core reads agentCount (S2, B6).
		if len(o.Nodes) > 0 {
			p.AgentCount = ptr(len(o.Nodes))
			sizes := map[string]int{}
			best := ""
			for _, n := range o.Nodes {
				sizes[n.VMSize]++
				if sizes[n.VMSize] > sizes[best] {
					best = n.VMSize
				}
			}
			p.AgentVMSize = ptr(best)
		}
		p.SystemServices = []armapi.SystemService{}
		if fe := o.FrontEnd; fe != nil {
			p.SystemServices = append(p.SystemServices, armapi.SystemService{SystemServiceType: "ScoringFrontEnd", PublicIPAddress: nonEmpty(fe.Address), Version: fe.Version})
		}
	}
	if fqdn := o.Cluster.Properties.FQDN; fqdn != nil && o.Unreachable == nil {
		p.ClusterFqdn = ptr(*fqdn)
	} else if pf := o.Cluster.Properties.PrivateFQDN; pf != nil {
		p.ClusterFqdn = ptr(*pf)
	}
	c.Properties.ProvisioningErrors = nil
	for _, cond := range c.Properties.Mlfleet.Conditions {
		if cond.Status == "False" && !advisory(cond.Type) {
			c.Properties.ProvisioningErrors = append(c.Properties.ProvisioningErrors, armapi.ProvisioningError{Error: armapi.ErrorDetail{Code: cond.Reason, Message: cond.Message}})
		}
	}
}

// setCondition sets one condition, keeping its transition time unless its status changes.
func setCondition(conds *[]armapi.Condition, c armapi.Condition, now time.Time) {
	i := slices.IndexFunc(*conds, func(x armapi.Condition) bool { return x.Type == c.Type })
	if i < 0 {
		c.LastTransitionTime = now
		*conds = append(*conds, c)
		return
	}
	c.LastTransitionTime = (*conds)[i].LastTransitionTime
	if (*conds)[i].Status != c.Status {
		c.LastTransitionTime = now
	}
	(*conds)[i] = c
}

// derivedState summarizes the conditions (B4, STYLE 14): Succeeded when all hold, Unknown
// when the cluster cannot be reached, Failed when another one does not hold. Unreachable
// is Unknown rather than Failed because the other conditions could not be looked at: the
// cluster may be fine, and a network blip must not read as a broken compute. An advisory
// condition that does not hold is a warning and leaves the state as the others make it.
func derivedState(conds []armapi.Condition) string {
	state := armapi.StateSucceeded
	for _, c := range conds {
		switch {
		case c.Type == armapi.ConditionReachable && c.Status != "True":
			return armapi.StateUnknown
		case c.Status == "False" && !advisory(c.Type):
			state = armapi.StateFailed
		}
	}
	return state
}

// advisory says whether a condition that does not hold is a warning rather than a failure
// of the compute. VersionSupported is: a cluster whose Kubernetes version left the catalog
// (a new --versions-file) keeps running, as AKS keeps a cluster on a version out of
// support running, and its deployments keep serving. The version is checked where it
// matters, when a cluster is attached (S9).
func advisory(conditionType string) bool {
	return conditionType == armapi.ConditionVersionSupported
}

// versionCondition is the VersionSupported condition of a cluster of location running
// version: whether the catalog lists it, the reason, and the message (the catalog's
// versions, comma-separated, when it does not).
func versionCondition(versions *catalog.Versions, location, version string) (bool, string, string) {
	if v, ok := versions.Find(location, version); ok && v.Version == version {
		reason := "Supported"
		if v.Preview {
			reason = "Preview"
		}
		return true, reason, fmt.Sprintf("Kubernetes %s is supported in %s", version, location)
	}
	names := versions.Names(location)
	if len(names) == 0 {
		return false, "OutOfSupport", fmt.Sprintf("Kubernetes %s is out of support: the version catalog lists no versions for %s. The cluster keeps running; new clusters there cannot be created until the catalog lists some", version, location)
	}
	return false, "OutOfSupport", fmt.Sprintf("Kubernetes %s is out of support in %s (supported: %s). The cluster keeps running, as AKS keeps a cluster on a version out of support running, but new attaches of this version are refused", version, location, strings.Join(names, ", "))
}

// autoscaleOf is the autoscaling range of a one-pool cluster, nil when it has none.
func autoscaleOf(mc *armapi.ManagedCluster) *armapi.ComputeAutoscale {
	pools := mc.Properties.AgentPoolProfiles
	if len(pools) != 1 || !pools[0].EnableAutoScaling || pools[0].MinCount == nil || pools[0].MaxCount == nil {
		return nil
	}
	return &armapi.ComputeAutoscale{MinCount: *pools[0].MinCount, MaxCount: *pools[0].MaxCount}
}
