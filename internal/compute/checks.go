package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// checkList records every check of a request with its outcome.
type checkList struct {
	checks   []armapi.Check
	errs     arm.Problems
	warnings []string
}

func (l *checkList) pass(name, format string, args ...any) {
	l.checks = append(l.checks, armapi.Check{Name: name, Passed: true, Message: fmt.Sprintf(format, args...)})
}

func (l *checkList) fail(name, code, target, format string, args ...any) {
	e := arm.BadRequest(code, format, args...).WithTarget(target)
	l.checks = append(l.checks, armapi.Check{Name: name, Passed: false, Message: e.Message})
	l.errs = append(l.errs, e)
}

// shape adds the failures of the request's own fields as one check.
func (l *checkList) shape(errs arm.Problems) {
	if len(errs) == 0 {
		l.pass("Settings", "cluster purpose, TLS, load balancer and network settings are valid")
		return
	}
	for _, e := range errs {
		l.checks = append(l.checks, armapi.Check{Name: "Settings", Passed: false, Message: e.Message})
	}
	l.errs = append(l.errs, errs...)
}

// err turns the failures into the error to answer: a 409 when the only problem is an
// existing attachment (S11), a 400 QuotaExceeded when it is a quota, else one 400 UserError
// listing them all (B1).
// Every check, passed or not, rides along in additionalInfo (type "ComputeChecks"), so that
// a failed dry run still shows the whole list.
func (l *checkList) err(what string) error {
	if len(l.errs) == 0 {
		return nil
	}
	// A conflict or a quota alone keeps its own status and code, which clients branch on
	// (S11's 409, N8's QuotaExceeded); with other failures beside it, one 400 listing all
	// lets the user fix everything before the next try (B1).
	var e *arm.Error
	switch {
	case len(l.errs) == 1 && l.errs[0].Code == arm.CodeConflict:
		e = arm.Conflict("%s", l.errs[0].Message)
		e.Target = l.errs[0].Target
	case len(l.errs) == 1 && l.errs[0].Code == arm.CodeQuotaExceeded:
		e = arm.BadRequest(arm.CodeQuotaExceeded, "%s", l.errs[0].Message)
		e.Target = l.errs[0].Target
	default:
		e = l.errs.Err(arm.CodeUserError, what).(*arm.Error)
	}
	e.AdditionalInfo = []any{map[string]any{"type": "ComputeChecks", "info": map[string]any{"checks": l.checks}}}
	return e
}

func (l *checkList) validation() *armapi.ComputeValidation {
	return &armapi.ComputeValidation{Valid: len(l.errs) == 0, Checks: l.checks, Warnings: l.warnings}
}

// observation is what the live checks of one cluster found.
type observation struct {
	Cluster *armapi.ManagedCluster
	Kube    *kube.Cluster
	// Unreachable is why the API server could not be used; nil when it answered.
	Unreachable error
	// BlockedFrom is set when the cluster's authorized IP ranges keep this server out.
	BlockedFrom netip.Addr
	Version     string
	Nodes       []kube.Node
	UID         string
	Marker      *kube.Marker
	Missing     []string
	FrontEnd    *kube.FrontEnd
}

// observe reads what mlfleet needs to know of a live cluster. permissions adds the (slower)
// permission review.
func (s *Service) observe(ctx context.Context, mc *armapi.ManagedCluster, permissions bool) *observation {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
	defer cancel()
	o := &observation{Cluster: mc}
	kc, err := s.cfg.Clusters.Client(ctx, mc)
	if err != nil {
		o.Unreachable = err
		return o
	}
	o.Kube = kc
	// Before any call: a listener that drops connections from outside its ranges looks like
	// a timeout, while knowing our source address lets the check name the range to add (S15).
	if ap := mc.Properties.APIServerAccessProfile; ap != nil && len(ap.AuthorizedIPRanges) > 0 {
		if src, ok := sourceAddress(kc); ok && !allowed(src, ap.AuthorizedIPRanges) {
			o.BlockedFrom = src
			o.Unreachable = fmt.Errorf("its authorized IP ranges (%s) do not let this control plane (%s) in", strings.Join(ap.AuthorizedIPRanges, ", "), src)
			return o
		}
	}
	if o.Version, err = kc.Version(ctx); err != nil {
		o.Unreachable = err
		return o
	}
	if o.Nodes, err = kc.Nodes(ctx, s.cfg.Clusters.VMSizes()); err != nil {
		o.Unreachable = err
		return o
	}
	if o.UID, err = kc.UID(ctx); err != nil {
		o.Unreachable = err
		return o
	}
	// Credentials that may not read the marker or the front-end are no sign of an
	// unreachable cluster: the permission review reports them, in words.
	if o.Marker, err = kc.Marker(ctx); err != nil && !errors.Is(err, kube.ErrForbidden) {
		o.Unreachable = err
		return o
	}
	if o.FrontEnd, err = kc.FrontEnd(ctx); err != nil && !errors.Is(err, kube.ErrForbidden) {
		o.Unreachable = err
		return o
	}
	if permissions {
		if o.Missing, err = kc.MissingPermissions(ctx); err != nil {
			o.Unreachable = err
		}
	}
	return o
}

func allowed(src netip.Addr, ranges []string) bool {
	for _, r := range ranges {
		p, err := netip.ParsePrefix(r)
		if err != nil {
			a, err := netip.ParseAddr(r)
			if err != nil {
				continue
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Contains(src) {
			return true
		}
	}
	return false
}

// replaceTarget is an attachment that a forced attach detaches first.
type replaceTarget struct {
	ComputeID    string `json:"computeId,omitempty"`
	AttachmentID string `json:"attachmentId"`
}

// attachTarget is what the checks of an attach found out.
type attachTarget struct {
	Cluster *armapi.ManagedCluster
	Obs     *observation
	Replace *replaceTarget
}

// attachChecks runs every precondition of attaching the cluster resourceID to compute
// self (S9–S11, S13–S15, S5, B1). Failures are in the list; the error is for failures of
// mlfleet itself.
func (s *Service) attachChecks(ctx context.Context, w *armapi.Workspace, self, resourceID string, st settings, force bool) (*checkList, *attachTarget, error) {
	l := &checkList{}
	id, err := arm.ParseID(resourceID)
	if err != nil || id.ResourceGroup == "" || !strings.EqualFold(id.Type(), containerservice.TypeManagedCluster) {
		l.fail("ResourceId", arm.CodeInvalidResourceID, "properties.resourceId",
			"Resource id '%s' is not the id of a managed cluster: use /subscriptions/{sub}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name} (see 'mlfleet aks show -n NAME -g GROUP --query id').", resourceID)
		return l, nil, nil
	}
	// The checks up to the cluster's state stop at the first failure: each later one
	// needs what the earlier found. From there on, every check runs and reports (B1).
	l.pass("ResourceId", "%s is a managed cluster id", resourceID)
	wsID, _ := arm.ParseID(w.ID)
	// "/subscriptions/x/…" is a malformed id, not a cluster of subscription x: said as ARM
	// says it of a path (InvalidSubscriptionId), rather than as another subscription.
	if !arm.IsSubscriptionID(id.SubscriptionID) {
		l.fail("Subscription", arm.CodeInvalidSubscriptionID, "properties.resourceId",
			"%s; the workspace's is %s. Resource id '%s' is malformed.", arm.InvalidSubscriptionIDMessage(id.SubscriptionID), wsID.SubscriptionID, resourceID)
		return l, nil, nil
	}
	if !strings.EqualFold(id.SubscriptionID, wsID.SubscriptionID) {
		l.fail("Subscription", "ClusterInAnotherSubscription", "properties.resourceId",
			"Cluster '%s' is in subscription %s but workspace '%s' is in subscription %s: a cluster can be attached only to a workspace of its own subscription.", id.Name(), id.SubscriptionID, w.Name, wsID.SubscriptionID)
		return l, nil, nil
	}
	l.pass("Subscription", "same subscription as the workspace")
	mc, err := s.cfg.Clusters.GetByID(ctx, resourceID)
	var ae *arm.Error
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		l.fail("ClusterExists", "ClusterNotFound", "properties.resourceId",
			"Cluster '%s' does not exist in resource group '%s'; create it ('mlfleet aks create') or register it ('mlfleet aks import') first.", id.Name(), id.ResourceGroup)
		return l, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	l.pass("ClusterExists", "cluster %s exists", mc.Name)
	// An attached compute lives in its cluster's region, where its name must be free (S4):
	// checked here, with the others, so that a dry run refuses what the real request's name
	// claim would (B1).
	if err := s.checkNameFree(ctx, mc.Location, self, l); err != nil {
		return nil, nil, err
	}
	// Updating is fine: a scale or a change of ranges under way leaves the cluster running.
	if state := mc.Properties.ProvisioningState; state != armapi.StateSucceeded && state != armapi.StateUpdating {
		l.fail("ClusterState", "ClusterNotReady", "properties.resourceId",
			"Cluster '%s' is %s; attach it once it has been created successfully (see 'mlfleet aks show').", mc.Name, strings.ToLower(state))
		return l, nil, nil
	}
	t := &attachTarget{Cluster: mc}
	o := s.observe(ctx, mc, true)
	t.Obs = o
	switch {
	case o.BlockedFrom.IsValid():
		ranges := mc.Properties.APIServerAccessProfile.AuthorizedIPRanges
		l.fail("AuthorizedIPRanges", "ControlPlaneNotAuthorized", "properties.resourceId",
			"Cluster '%s' accepts API server connections only from %s, and mlfleet's control plane connects from %s. Add %s/%d to its authorized IP ranges: mlfleet aks update -n %s -g %s --api-server-authorized-ip-ranges %s,%s/%d",
			mc.Name, strings.Join(ranges, ", "), o.BlockedFrom, o.BlockedFrom, o.BlockedFrom.BitLen(), mc.Name, id.ResourceGroup, strings.Join(ranges, ","), o.BlockedFrom, o.BlockedFrom.BitLen())
		return l, t, nil
	case o.Unreachable != nil:
		l.fail("Reachable", "ClusterUnreachable", "properties.resourceId",
			"Cluster '%s' cannot be reached with the credentials mlfleet holds for it: %v. Check that its API server is up and reachable from the mlfleet server.", mc.Name, o.Unreachable)
		return l, t, nil
	}
	l.pass("Reachable", "API server answered, Kubernetes %s", o.Version)
	l.pass("AuthorizedIPRanges", "the control plane may reach the API server")
	if len(o.Missing) > 0 {
		l.fail("Permissions", "InsufficientPermissions", "properties.resourceId",
			"The credentials mlfleet holds for cluster '%s' may not %s. Grant them (for example bind the cluster-admin role to that identity) and retry.", mc.Name, strings.Join(o.Missing, ", "))
	} else {
		l.pass("Permissions", "the credentials may install and remove the components")
	}
	// The version the API server reports, not the one stored (S8, S9): a cluster never
	// counts as running a version it does not run.
	versions := s.cfg.Clusters.Versions()
	if v, ok := versions.Find(mc.Location, o.Version); !ok || v.Version != o.Version {
		l.fail("KubernetesVersion", arm.CodeUnsupportedKubernetesVersion, "properties.resourceId",
			"Cluster '%s' runs Kubernetes %s, which is not supported in %s. Supported versions: %s. Upgrade the cluster to one of them, then attach it.",
			mc.Name, o.Version, mc.Location, strings.Join(versions.Names(mc.Location), ", "))
	} else if v.Preview {
		l.pass("KubernetesVersion", "Kubernetes %s is supported (preview)", o.Version)
		l.warnings = append(l.warnings, fmt.Sprintf("Cluster '%s' runs Kubernetes %s, a preview version: it works but carries no SLA.", mc.Name, o.Version))
	} else {
		l.pass("KubernetesVersion", "Kubernetes %s is supported", o.Version)
	}
	fails, warns, summary := liveCapacity(st.Purpose, o.Nodes, fmt.Sprintf("cluster '%s'", mc.Name))
	for _, f := range fails {
		l.fail("Capacity", "InsufficientCapacity", "properties.properties.clusterPurpose", "%s", f)
	}
	floor := floorFailures(mc, st.Purpose, s.cfg.Clusters.VMSizes())
	for _, f := range floor {
		l.fail("Capacity", "InsufficientCapacity", "properties.properties.clusterPurpose", "%s", f)
	}
	if len(fails) == 0 && len(floor) == 0 {
		l.pass("Capacity", "%s: enough for %s", summary, st.Purpose)
	}
	l.warnings = append(l.warnings, warns...)

	// Both records are asked: the store's claim knows this server's computes, the marker in
	// the cluster also those of another control plane or of the same cluster registered
	// under another id (S11).
	holder, err := s.attachmentHolder(ctx, mc.ID)
	if err != nil {
		return nil, nil, err
	}
	var other *replaceTarget
	var otherDesc string
	switch {
	case holder != "" && !strings.EqualFold(holder, self):
		other = &replaceTarget{ComputeID: holder, AttachmentID: attachmentID(holder)}
		otherDesc = describeCompute(holder)
	case o.Marker != nil && o.Marker.AttachmentID != attachmentID(self):
		other = &replaceTarget{ComputeID: o.Marker.ComputeID, AttachmentID: o.Marker.AttachmentID}
		otherDesc = describeCompute(o.Marker.ComputeID)
	}
	switch {
	case other == nil:
		l.pass("Attachment", "cluster %s is not attached to another compute", mc.Name)
	case force:
		// Force detaches the other compute: the caller must be allowed to, there.
		if other.ComputeID != "" {
			if err := auth.PrincipalFrom(ctx).Check(actionDeleteCompute, other.ComputeID); err != nil {
				return nil, nil, err
			}
		}
		// A detach is refused while deployments run on the compute: forcing must not be
		// the way around that.
		users, err := s.computeUsers(ctx, s.cfg.Store, other.ComputeID)
		if err != nil {
			return nil, nil, err
		}
		if len(users) > 0 {
			l.fail("Attachment", arm.CodeConflict, "properties.resourceId",
				"Cluster '%s' is attached to %s, which %s use. Delete them, or move them to another compute, before taking the cluster with --force.", mc.Name, otherDesc, strings.Join(users, ", "))
			break
		}
		t.Replace = other
		l.pass("Attachment", "cluster %s is attached to %s, which will be detached first (force)", mc.Name, otherDesc)
	default:
		l.fail("Attachment", arm.CodeConflict, "properties.resourceId",
			"Cluster '%s' is already attached to %s. A cluster can be attached once: detach it there first, or attach with --force (REST: force=true) to detach it from there.", mc.Name, otherDesc)
	}
	return l, t, nil
}

// attachmentHolder returns the id of the compute attached to a cluster, "" when none.
func (s *Service) attachmentHolder(ctx context.Context, clusterID string) (string, error) {
	return claimHolder(ctx, s.cfg.Store, attachmentClaimID(clusterID), "attachment of "+clusterID)
}

// claimHolder returns the id of the compute holding the claim row id, read through st,
// "" when there is no such row; what names the claim in errors.
func claimHolder(ctx context.Context, st store.Store, id, what string) (string, error) {
	r, err := st.GetResource(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	var c claim
	if err := json.Unmarshal(r.Body, &c); err != nil {
		return "", fmt.Errorf("decode %s: %w", what, err)
	}
	return c.ComputeID, nil
}

// describeCompute names a compute by its id for messages.
func describeCompute(id string) string {
	p, err := arm.ParseID(id)
	if err != nil || len(p.Names) < 2 {
		return fmt.Sprintf("compute %s", id)
	}
	return fmt.Sprintf("compute '%s' of workspace '%s' (resource group '%s', id %s)", p.Names[1], p.Names[0], p.ResourceGroup, id)
}

// floorFailures applies the purpose rule (S5) to the autoscaling floor of mc (B6): the
// nodes its autoscaler may shrink it to, minCount of each autoscaled pool and the count of
// the others. Nil when no pool autoscales or the floor is enough.
func floorFailures(mc *armapi.ManagedCluster, purpose string, sizes *catalog.VMSizes) []string {
	nodes, cores, auto := 0, 0, false
	for _, p := range mc.Properties.AgentPoolProfiles {
		n := p.Count
		if p.EnableAutoScaling && p.MinCount != nil {
			n, auto = *p.MinCount, true
		}
		if vm, ok := sizes.Get(p.VMSize); ok {
			nodes, cores = nodes+n, cores+n*vm.Cores
		}
	}
	if !auto {
		return nil
	}
	fails, _ := capacity(purpose, nodes, cores, fmt.Sprintf("the autoscaling floor of cluster '%s' (the sum of its pools' minCount)", mc.Name))
	for i := range fails {
		fails[i] += " The cluster autoscaler may shrink it that far: raise minCount ('mlfleet aks update --update-cluster-autoscaler --min-count N --max-count M')."
	}
	return fails
}

// checkNameFree checks that the name of compute self is free in location, or already
// claimed by self (a resumed operation, or a failed compute of the same id being replaced).
func (s *Service) checkNameFree(ctx context.Context, location, self string, l *checkList) error {
	id, err := arm.ParseID(self)
	if err != nil {
		return err
	}
	name := id.Name()
	r, err := s.cfg.Store.GetResource(ctx, nameClaimID(location, name))
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return fmt.Errorf("check compute name %s: %w", name, err)
	case !claimedBy(r, self):
		var taken *arm.Error
		if !errors.As(s.nameTaken(ctx, location, name), &taken) {
			return fmt.Errorf("check compute name %s: no conflict to report", name)
		}
		l.fail("Name", arm.CodeConflict, "name", "%s", taken.Message)
		return nil
	}
	l.pass("Name", "compute name %s is free in region %s", name, location)
	return nil
}
