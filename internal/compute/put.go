package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/workspaces"
)

type createInput struct {
	ID string `json:"id"`
}

type attachInput struct {
	ID      string         `json:"id"`
	Replace *replaceTarget `json:"replace,omitempty"`
}

type updateInput struct {
	ID string `json:"id"`
	// Scale is the new node count, when it changes.
	Scale *int `json:"scale,omitempty"`
}

type deleteInput struct {
	ID     string `json:"id"`
	Action string `json:"action"`
}

func defaults() settings {
	return settings{AgentCount: DefaultAgentCount, VMSize: DefaultVMSize, Purpose: DefaultPurpose, LB: DefaultLoadBalancer, SSL: sslSettings{Status: "Disabled"}}
}

// create handles a PUT without resourceId: a new cluster from the workspace (S1).
func (s *Service) create(ctx context.Context, w *workspaces.Workspace, id, name string, in Compute, opts Options) (*Result, error) {
	loc, err := computeLocation(w, in)
	if err != nil {
		return nil, err
	}
	if r, err := s.cfg.Store.GetResource(ctx, nameClaimID(loc, name)); err == nil && !heldBy(r, opts.replace) {
		return nil, s.nameTaken(ctx, loc, name)
	}
	var shape arm.Problems
	st := readSettings(in.Properties.Properties, defaults(), s.cfg.Clusters.VMSizes(), true, &shape)
	l := &checkList{}
	l.shape(shape)
	if vm, ok := s.cfg.Clusters.VMSizes().Get(st.VMSize); ok {
		fails, warns := capacity(st.Purpose, st.AgentCount, st.AgentCount*vm.Cores,
			fmt.Sprintf("the requested cluster (%d × %s, %d vCPUs each)", st.AgentCount, vm.Name, vm.Cores))
		for _, f := range fails {
			l.fail("Capacity", "InsufficientCapacity", "properties.properties.agentCount", "%s", f)
		}
		if len(fails) == 0 {
			l.pass("Capacity", "%d × %s = %d vCPUs: enough for %s", st.AgentCount, vm.Name, st.AgentCount*vm.Cores, st.Purpose)
		}
		l.warnings = append(l.warnings, warns...)
	}
	if err := s.checkLeaf(ctx, loc, id, st.SSL, l); err != nil {
		return nil, err
	}
	parsed, _ := arm.ParseID(id)
	forCluster := st
	for _, e := range shape {
		if strings.HasPrefix(e.Target, "properties.properties.aksNetworkingConfiguration") {
			forCluster.Network = nil // already reported, in the compute's terms
		}
	}
	// The cluster is reserved in the same transaction as the compute (below), recording the
	// compute as the one that created it: a user's cluster of that name is never taken for it.
	nc, err := s.cfg.Clusters.Validate(ctx, parsed.SubscriptionID, parsed.ResourceGroup, name, clusterInput(loc, forCluster), id)
	var ae *arm.Error
	switch {
	case err == nil:
		l.pass("Cluster", "a cluster named %s can be created in resource group %s", name, parsed.ResourceGroup)
	case errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		return nil, err // a policy refuses it (S16): served as ARM serves it
	case errors.As(err, &ae) && ae.Code == arm.CodeQuotaExceeded:
		l.fail("Quota", ae.Code, ae.Target, "%s", ae.Message)
	case errors.As(err, &ae) && ae.Status == http.StatusConflict:
		l.fail("Cluster", arm.CodeConflict, "name",
			"Resource group '%s' already has a managed cluster named '%s'. To use it, attach it ('mlfleet ml computetarget attach aks -n %s -i %s'); to create a new one, choose another compute name.",
			parsed.ResourceGroup, name, name, containerservice.ID(parsed.SubscriptionID, parsed.ResourceGroup, name))
	case errors.As(err, &ae) && len(ae.Details) > 0:
		for _, d := range ae.Details {
			l.fail("Cluster", d.Code, d.Target, "%s", d.Message)
		}
	case errors.As(err, &ae):
		l.fail("Cluster", ae.Code, ae.Target, "%s", ae.Message)
	default:
		return nil, err
	}
	if err := l.err(fmt.Sprintf("Compute '%s' cannot be created", name)); err != nil {
		return nil, err
	}
	if opts.ValidateOnly {
		return &Result{Validation: l.validation(), Warnings: l.warnings}, nil
	}
	clusterID := nc.ID()
	c := s.newCompute(id, name, loc, in, st)
	c.Properties.ResourceID = &clusterID
	c.Properties.Mlfleet.CreatedCluster = true
	c.Properties.Mlfleet.Warnings = l.warnings
	op, err := s.insert(ctx, w, c, st, KindCreate, createInput{ID: id}, opts, func(tx store.Store) error {
		_, err := s.cfg.Clusters.Insert(ctx, tx, nc)
		if errors.Is(err, store.ErrConflict) {
			return arm.Conflict("Resource group '%s' already has a managed cluster named '%s' (created a moment ago). To use it, attach it ('mlfleet ml computetarget attach aks -n %s -i %s'); to create a new one, choose another compute name.",
				parsed.ResourceGroup, name, name, clusterID)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Result{Compute: redact(c), Created: true, Operation: op, Warnings: l.warnings}, nil
}

// clusterInput is the managed cluster a compute creates: basic load balancer, the
// location's default version, one system pool (S1, S8, S14, S26).
func clusterInput(loc string, st settings) containerservice.ClusterInput {
	var ci containerservice.ClusterInput
	ci.Location = loc
	ci.Tags = map[string]string{"createdBy": "mlfleet-workspace"}
	count := st.AgentCount
	ci.Properties.AgentPoolProfiles = []containerservice.AgentPoolInput{{Name: "agentpool", Count: &count, VMSize: st.VMSize, Mode: "System"}}
	np := &containerservice.NetworkProfile{LoadBalancerSku: "basic", OutboundType: "loadBalancer"}
	if n := st.Network; n != nil {
		np.ServiceCidr, np.DNSServiceIP, np.DockerBridgeCidr, np.SubnetID = n.ServiceCidr, n.DNSServiceIP, n.DockerBridgeCidr, n.SubnetID
		np.NetworkPlugin = "azure"
	}
	ci.Properties.NetworkProfile = np
	return ci
}

// attach handles a PUT with resourceId: attach an existing cluster (S2).
func (s *Service) attach(ctx context.Context, w *workspaces.Workspace, id, name string, in Compute, opts Options) (*Result, error) {
	var shape arm.Problems
	if p := in.Properties.Properties; p != nil && p.AKSNetworkingConfiguration != nil && *p.AKSNetworkingConfiguration != (AKSNetworkingConfiguration{}) {
		shape.Add(arm.CodeUserError, "properties.properties.aksNetworkingConfiguration", "A virtual network is chosen when a cluster is created; an attached cluster keeps its own.")
	}
	st := readSettings(in.Properties.Properties, defaults(), s.cfg.Clusters.VMSizes(), false, &shape)
	resourceID := *in.Properties.ResourceID
	l, t, err := s.attachChecks(ctx, w, id, resourceID, st, opts.Force)
	if err != nil {
		return nil, err
	}
	all := &checkList{}
	all.shape(shape)
	all.checks = append(all.checks, l.checks...)
	all.errs = append(all.errs, l.errs...)
	all.warnings = l.warnings
	if t != nil {
		if err := s.checkLeaf(ctx, t.Cluster.Location, id, st.SSL, all); err != nil {
			return nil, err
		}
	}
	if err := all.err(fmt.Sprintf("Cluster cannot be attached as compute '%s'", name)); err != nil {
		return nil, err
	}
	if opts.ValidateOnly {
		return &Result{Validation: all.validation(), Warnings: all.warnings}, nil
	}
	mc := t.Cluster
	st.AgentCount = len(t.Obs.Nodes)
	st.VMSize = ""
	if pools := mc.Properties.AgentPoolProfiles; len(pools) > 0 {
		st.VMSize = pools[0].VMSize
	}
	c := s.newCompute(id, name, mc.Location, in, st)
	c.Properties.ResourceID = &mc.ID
	c.Properties.IsAttachedCompute = true
	c.Properties.Mlfleet.Warnings = all.warnings
	c.Properties.Mlfleet.ClusterUID = t.Obs.UID
	c.Properties.Mlfleet.KubernetesVersion = t.Obs.Version
	c.Properties.Mlfleet.Autoscale = autoscaleOf(mc)
	// Claim the cluster with the compute, so that of two concurrent attaches exactly one is
	// accepted. A forced attach takes the claim over in its operation, after detaching the
	// holder.
	var claimCluster func(tx store.Store) error
	if t.Replace == nil {
		body, _ := json.Marshal(claim{ComputeID: id})
		cid, _ := arm.ParseID(mc.ID)
		claimCluster = func(tx store.Store) error {
			err := tx.CreateResource(ctx, &store.Resource{ID: attachmentClaimID(mc.ID), ParentID: mc.ID, Type: typeAttachment, Name: "current",
				SubscriptionID: cid.SubscriptionID, ResourceGroup: cid.ResourceGroup, Body: body, OwnerID: id})
			if errors.Is(err, store.ErrConflict) {
				return errClusterTaken
			}
			if err != nil {
				return fmt.Errorf("claim cluster %s: %w", mc.Name, err)
			}
			return nil
		}
	}
	op, err := s.insert(ctx, w, c, st, KindAttach, attachInput{ID: id, Replace: t.Replace}, opts, claimCluster)
	if errors.Is(err, errClusterTaken) {
		holder, _ := s.attachmentHolder(ctx, mc.ID)
		return nil, arm.Conflict("Cluster '%s' is already attached to %s. A cluster can be attached once: detach it there first, or attach with --force (REST: force=true) to detach it from there.", mc.Name, describeCompute(holder))
	}
	if err != nil {
		return nil, err
	}
	return &Result{Compute: redact(c), Created: true, Operation: op, Warnings: all.warnings}, nil
}

// errClusterTaken is the conflict of an attachment claim: the cluster is attached already.
var errClusterTaken = errors.New("cluster attached already")

// heldBy says whether the claim row r is held by the compute old (nil: never).
func heldBy(r *store.Resource, old *store.Resource) bool {
	if old == nil {
		return false
	}
	var c claim
	return json.Unmarshal(r.Body, &c) == nil && strings.EqualFold(c.ComputeID, old.ID)
}

// update handles a PUT on an existing compute: TLS, load balancer, cluster purpose and node
// count change in place (S12, S20, B5); an identical PUT changes nothing (B2).
func (s *Service) update(ctx context.Context, w *workspaces.Workspace, r *store.Resource, in Compute, opts Options) (*Result, error) {
	c, err := decode(r)
	if err != nil {
		return nil, err
	}
	ops, err := s.cfg.Store.ListOperations(ctx, store.OperationFilter{ResourceID: r.ID, Status: store.StatusInProgress})
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	if len(ops) > 0 {
		return nil, arm.Errorf(http.StatusConflict, arm.CodeOperationInProgress,
			"Compute '%s' is %s (operation %s); wait for it to finish, then retry.", c.Name, strings.ToLower(c.Properties.ProvisioningState), ops[0].ID)
	}
	if !c.Properties.Mlfleet.Attached {
		return nil, arm.Conflict("Compute '%s' is %s and has no working cluster to update: detach it ('mlfleet ml computetarget detach -n %s'), then create or attach it again.", c.Name, strings.ToLower(c.Properties.ProvisioningState), c.Name)
	}
	if rid := deref(in.Properties.ResourceID); rid != "" && !strings.EqualFold(rid, deref(c.Properties.ResourceID)) {
		return nil, arm.BadRequest(arm.CodeUserError, "Compute '%s' is on cluster %s; to use cluster %s, detach this compute first, or attach that cluster under another name.", c.Name, deref(c.Properties.ResourceID), rid).WithTarget("properties.resourceId")
	}
	base, err := s.settingsOf(ctx, c)
	if err != nil {
		return nil, err
	}
	var shape arm.Problems
	st := readSettings(in.Properties.Properties, base, s.cfg.Clusters.VMSizes(), false, &shape)
	if st.VMSize != base.VMSize {
		shape.Add(arm.CodeUserError, "properties.properties.agentVmSize", "The VM size of compute '%s' is %s and cannot be changed: create a new compute with the size you need.", c.Name, base.VMSize)
		st.VMSize = base.VMSize
	}
	l := &checkList{}
	l.shape(shape)
	mc, err := s.attachedCluster(ctx, c)
	if err != nil {
		return nil, err
	}
	var scale *int
	if st.AgentCount != base.AgentCount {
		scale = &st.AgentCount
		s.checkScale(mc, c, st, l)
		if len(mc.Properties.AgentPoolProfiles) == 1 {
			// Checked here so that a quota failure is in the one 400 with every other
			// problem (B1); checked again, atomically, when the operation scales the cluster.
			err := s.cfg.Clusters.CheckScale(ctx, mc, mc.Properties.AgentPoolProfiles[0].Name, st.AgentCount)
			var ae *arm.Error
			switch {
			case errors.As(err, &ae) && ae.Code == arm.CodeQuotaExceeded:
				l.fail("Quota", ae.Code, ae.Target, "%s", ae.Message)
			case err != nil:
				return nil, err
			}
		}
	} else if st.Purpose != base.Purpose {
		o := s.observe(ctx, mc, false)
		if o.Unreachable != nil {
			l.fail("Reachable", "ClusterUnreachable", "properties.resourceId", "Cluster '%s' cannot be reached to check the new cluster purpose: %v.", mc.Name, o.Unreachable)
		} else {
			fails, warns := capacity(st.Purpose, len(o.Nodes), o.Cores, fmt.Sprintf("cluster '%s'", mc.Name))
			for _, f := range append(fails, floorFailures(mc, st.Purpose, s.cfg.Clusters.VMSizes())...) {
				l.fail("Capacity", "InsufficientCapacity", "properties.properties.clusterPurpose", "%s", f)
			}
			l.warnings = append(l.warnings, warns...)
		}
	}
	if err := s.checkLeaf(ctx, c.Properties.ComputeLocation, c.ID, st.SSL, l); err != nil {
		return nil, err
	}
	if err := l.err(fmt.Sprintf("Compute '%s' cannot be updated", c.Name)); err != nil {
		return nil, err
	}
	if opts.ValidateOnly {
		return &Result{Validation: l.validation(), Warnings: l.warnings}, nil
	}
	renew := st.SSL.Renew || (st.SSL.Status == "Auto" && st.SSL.Overwrite)
	st.SSL.Renew, base.SSL.Renew = false, false
	descChanged := in.Properties.Description != nil && deref(in.Properties.Description) != deref(c.Properties.Description)
	// An identical PUT changes nothing (B2), but still answers with an operation that has
	// succeeded, for clients that always follow the Azure-AsyncOperation URL (A4).
	if reflect.DeepEqual(st, base) && !renew && !tagsChanged(in, c) && !descChanged {
		op, err := s.cfg.Engine.Completed(ctx, KindUpdate, r.ID, r.SubscriptionID)
		if err != nil {
			return nil, err
		}
		return &Result{Compute: c, Operation: op}, nil
	}
	// Claims, secret, state and operation commit together; the version read above guards
	// against a concurrent change, which gets a 409 instead of being overwritten.
	count := base.AgentCount
	var op *store.Operation
	err = s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		ops, err := tx.ListOperations(ctx, store.OperationFilter{ResourceID: r.ID, Status: store.StatusInProgress})
		if err != nil {
			return fmt.Errorf("list operations: %w", err)
		}
		if len(ops) > 0 {
			return arm.Errorf(http.StatusConflict, arm.CodeOperationInProgress,
				"Compute '%s' is %s (operation %s); wait for it to finish, then retry.", c.Name, strings.ToLower(c.Properties.ProvisioningState), ops[0].ID)
		}
		if err := s.claimLeaf(ctx, tx, c.Properties.ComputeLocation, c.ID, st.SSL); err != nil {
			return err
		}
		// The old label is released in the same transaction the new one is claimed: a crash
		// must not leave the compute holding two labels, or none.
		if base.SSL.Status == "Auto" && (st.SSL.Status != "Auto" || !strings.EqualFold(st.SSL.Leaf, base.SSL.Leaf)) {
			if err := s.releaseLeaf(ctx, tx, c.Properties.ComputeLocation, base.SSL.Leaf, c.ID); err != nil {
				return err
			}
		}
		if err := s.saveTLS(ctx, tx, r.ID, st.SSL); err != nil {
			return err
		}
		if renew {
			if err := s.forgetIssuedCert(ctx, tx, r.ID); err != nil {
				return err
			}
		}
		// With If-Match, only the compute as it was read may change; without, a change the
		// health monitor made meanwhile is kept and this one applied over it.
		guard := func(cur *store.Resource) error {
			if opts.Preconditions.IfMatch != "" && cur.Version != r.Version {
				return opts.Preconditions.CheckIfMatch(fmt.Sprintf("Compute '%s'", c.Name), true, arm.ETag(cur.Version))
			}
			return nil
		}
		_, err = store.Modify(ctx, tx, r.ID, func(cur *store.Resource) error {
			if err := guard(cur); err != nil {
				return err
			}
			next, err := decode(cur)
			if err != nil {
				return err
			}
			s.render(next, st)
			next.Properties.Properties.AgentCount = &count // changes when the cluster has scaled
			next.Properties.ProvisioningState = StateUpdating
			next.Properties.Mlfleet.Warnings = l.warnings
			if in.Tags != nil {
				next.Tags = in.Tags
			}
			if in.Properties.Description != nil {
				next.Properties.Description = in.Properties.Description
			}
			next.Properties.ModifiedOn = ptr(s.now().UTC())
			next.ETag = ""
			cur.Body = encode(next)
			return nil
		})
		if err != nil {
			return err
		}
		op, err = s.cfg.Engine.SubmitIn(ctx, tx, KindUpdate, r.ID, r.SubscriptionID, updateInput{ID: r.ID, Scale: scale})
		return err
	})
	if err != nil {
		return nil, err
	}
	s.cfg.Engine.Wake()
	c, err = s.getByID(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	return &Result{Compute: c, Operation: op, Warnings: l.warnings}, nil
}

// checkScale checks a change of node count (S20): the cluster must be one mlfleet can
// scale, with one pool, and the new size must still satisfy the cluster purpose (S5).
func (s *Service) checkScale(mc *containerservice.ManagedCluster, c *Compute, st settings, l *checkList) {
	pools := mc.Properties.AgentPoolProfiles
	switch {
	case mc.Properties.Mlfleet.Provider != "embedded":
		l.fail("Scale", arm.CodeUserError, "properties.properties.agentCount",
			"Cluster '%s' comes from the %s provider and is scaled where it runs, not through mlfleet.", mc.Name, mc.Properties.Mlfleet.Provider)
		return
	case len(pools) != 1:
		l.fail("Scale", arm.CodeUserError, "properties.properties.agentCount",
			"Cluster '%s' has %d node pools; scale the pool you mean with 'mlfleet aks scale --nodepool-name'.", mc.Name, len(pools))
		return
	}
	vm, ok := s.cfg.Clusters.VMSizes().Get(pools[0].VMSize)
	if !ok {
		return
	}
	fails, warns := capacity(st.Purpose, st.AgentCount, st.AgentCount*vm.Cores, fmt.Sprintf("cluster '%s' scaled to %d × %s", mc.Name, st.AgentCount, vm.Name))
	for _, f := range fails {
		l.fail("Capacity", "InsufficientCapacity", "properties.properties.agentCount", "%s", f)
	}
	if len(fails) == 0 {
		l.pass("Scale", "%d × %s = %d vCPUs: enough for %s", st.AgentCount, vm.Name, st.AgentCount*vm.Cores, st.Purpose)
	}
	l.warnings = append(l.warnings, warns...)
}

func tagsChanged(in Compute, c *Compute) bool {
	return in.Tags != nil && !reflect.DeepEqual(in.Tags, c.Tags) && !(len(in.Tags) == 0 && len(c.Tags) == 0)
}

// newCompute builds the stored body of a new compute.
func (s *Service) newCompute(id, name, location string, in Compute, st settings) *Compute {
	now := s.now().UTC()
	c := &Compute{ID: id, Name: name, Type: TypeCompute, Location: location, Tags: in.Tags}
	if c.Tags == nil {
		c.Tags = map[string]string{}
	}
	c.SystemData = nil
	c.Properties = ComputeProperties{
		ComputeType: "AKS", ComputeLocation: location, ProvisioningState: StateCreating, Description: in.Properties.Description,
		CreatedOn: &now, ModifiedOn: &now, ProvisioningErrors: nil, DisableLocalAuth: in.Properties.DisableLocalAuth,
		Mlfleet: &ComputeMlfleet{Conditions: []Condition{}, AttachmentID: attachmentID(id)},
	}
	s.render(c, st)
	return c
}

// render writes settings into a compute's AKS properties (the TLS key never: it is sealed
// apart).
func (s *Service) render(c *Compute, st settings) {
	p := c.Properties.Properties
	if p == nil {
		p = &AKSProperties{SystemServices: []SystemService{}}
		c.Properties.Properties = p
	}
	p.AgentCount = ptr(st.AgentCount)
	p.AgentVMSize = nonEmpty(st.VMSize)
	p.ClusterPurpose = ptr(st.Purpose)
	p.LoadBalancerType = ptr(st.LB)
	p.LoadBalancerSubnet = nonEmpty(st.Subnet)
	p.SSLConfiguration = &SSLConfiguration{Status: st.SSL.Status, Cert: st.SSL.Cert, Cname: st.SSL.CName, LeafDomainLabel: st.SSL.Leaf, OverwriteExistingDomain: st.SSL.Overwrite}
	p.AKSNetworkingConfiguration = st.Network
	if p.SystemServices == nil {
		p.SystemServices = []SystemService{}
	}
}

// settingsOf reads the settings of a stored compute, with its sealed TLS key.
func (s *Service) settingsOf(ctx context.Context, c *Compute) (settings, error) {
	p := c.Properties.Properties
	st := settings{AgentCount: derefInt(p.AgentCount), VMSize: deref(p.AgentVMSize), Purpose: deref(p.ClusterPurpose),
		LB: deref(p.LoadBalancerType), Subnet: deref(p.LoadBalancerSubnet), Network: p.AKSNetworkingConfiguration, SSL: sslSettings{Status: "Disabled"}}
	if ssl := p.SSLConfiguration; ssl != nil && ssl.Status != "" {
		st.SSL = sslSettings{Status: ssl.Status, Cert: ssl.Cert, CName: ssl.Cname, Leaf: ssl.LeafDomainLabel, Overwrite: ssl.OverwriteExistingDomain}
	}
	if st.SSL.Status == "Enabled" {
		sec, err := s.loadTLS(ctx, s.cfg.Store, c.ID)
		if err != nil {
			return st, err
		}
		st.SSL.Key = sec.Key
	}
	return st, nil
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// redact returns the compute as GET serves it.
func redact(c *Compute) *Compute {
	cp := *c
	if ssl := c.Properties.Properties.SSLConfiguration; ssl != nil {
		s := *ssl
		s.Key = ""
		props := *c.Properties.Properties
		props.SSLConfiguration = &s
		cp.Properties.Properties = &props
	}
	return &cp
}

func (s *Service) getByID(ctx context.Context, id string) (*Compute, error) {
	r, err := s.cfg.Store.GetResource(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get compute %s: %w", id, err)
	}
	return decode(r)
}
