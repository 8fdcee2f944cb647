package mlfleet

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// AKSCompute is an inference cluster of a workspace, a compute of type AKS: what
// azureml-core's AksCompute is to Python. It holds the compute as last read from the server
// and the operation last started through it (create, attach, update, scale, detach or
// delete), which WaitForCompletion follows. Get one from Workspace.CreateAKS, AttachAKS,
// Compute or Computes. An AKSCompute is not safe for concurrent use.
type AKSCompute struct {
	c                      *Client
	group, workspace, name string

	comp      *Compute // as last read; nil until then
	op        *Poller  // the operation started through this handle, until it is waited for
	opRemoves bool     // op detaches or deletes the compute
	warnings  []string
}

// put sends a create, attach, update or scale and keeps its operation.
func (a *AKSCompute) put(ctx context.Context, body *Compute, opts *ComputeOptions) error {
	accepted, p, err := a.c.BeginCreateOrUpdateCompute(ctx, a.group, a.workspace, a.name, body, opts)
	if err != nil {
		return err
	}
	a.comp, a.op, a.opRemoves, a.warnings = accepted, p, false, nil
	if accepted.Properties.Mlfleet != nil {
		a.warnings = accepted.Properties.Mlfleet.Warnings
	}
	return nil
}

// remove starts a detach or delete.
func (a *AKSCompute) remove(ctx context.Context, action string) error {
	p, err := a.c.BeginDeleteCompute(ctx, a.group, a.workspace, a.name, action)
	if err != nil {
		return err
	}
	if p == nil {
		// ARM answers the DELETE of a missing resource 204; the server's own 404 (with its
		// message and request id) is what a read of it answers.
		if _, gerr := a.c.GetCompute(ctx, a.group, a.workspace, a.name); gerr != nil {
			return gerr
		}
		return &Error{StatusCode: http.StatusNotFound, Code: "ResourceNotFound",
			Message: fmt.Sprintf("Compute '%s' does not exist in workspace '%s'.", a.name, a.workspace)}
	}
	a.op, a.opRemoves, a.warnings = p, true, nil
	if a.comp != nil {
		a.comp.Properties.ProvisioningState = "Deleting"
	}
	return nil
}

// Refresh reads the compute again. A compute that no longer exists is an *Error for which
// IsNotFound is true.
func (a *AKSCompute) Refresh(ctx context.Context) error {
	comp, err := a.c.GetCompute(ctx, a.group, a.workspace, a.name)
	if err != nil {
		return err
	}
	a.comp = comp
	return nil
}

// Detach starts detaching the compute (S3): the server removes the compute and what
// mlfleet installed in the cluster, and keeps the cluster and its other workloads. Call
// WaitForCompletion to wait for the end. A compute that does not exist is an *Error for
// which IsNotFound is true.
func (a *AKSCompute) Detach(ctx context.Context) error { return a.remove(ctx, ActionDetach) }

// Delete starts deleting the compute and the cluster it created (S3). A cluster that was
// attached is refused with an *Error: detach it instead. Call WaitForCompletion to wait
// for the end.
func (a *AKSCompute) Delete(ctx context.Context) error { return a.remove(ctx, ActionDelete) }

// Update starts changing the compute's settings in place (S12): cluster purpose, load
// balancer, TLS; what cfg leaves zero is kept. It checks cfg first (a *ValidationError
// when it fails), reads the compute to start from its current settings, and returns
// without waiting: call WaitForCompletion.
func (a *AKSCompute) Update(ctx context.Context, cfg AKSUpdateConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := cfg.SSL.ReadFiles(); err != nil {
		return err
	}
	if err := a.Refresh(ctx); err != nil {
		return err
	}
	body, err := cfg.apply(a.comp)
	if err != nil {
		return err
	}
	return a.put(ctx, body, nil)
}

// Scale starts changing the number of nodes of the compute's cluster (S20); the VM size
// cannot change. agentCount must be positive (a *ValidationError otherwise); a scale-down
// below what the cluster purpose needs is refused by the server. Call WaitForCompletion
// to wait for the end.
func (a *AKSCompute) Scale(ctx context.Context, agentCount int) error {
	if err := ValidateAgentCount(agentCount); err != nil {
		return err
	}
	if err := a.Refresh(ctx); err != nil {
		return err
	}
	body := putBody(a.comp)
	body.Properties.Properties.AgentCount = &agentCount
	return a.put(ctx, body, nil)
}

// GetCredentials returns the kubeconfigs of the compute's cluster: the cluster user's and
// cluster-admin's (azureml-core's AksCompute.get_credentials).
func (a *AKSCompute) GetCredentials(ctx context.Context) (user, admin []byte, err error) {
	keys, err := a.c.ComputeKeys(ctx, a.group, a.workspace, a.name)
	if err != nil {
		return nil, nil, err
	}
	return []byte(keys.UserKubeConfig), []byte(keys.AdminKubeConfig), nil
}

// Nodes returns the nodes of the compute's cluster.
func (a *AKSCompute) Nodes(ctx context.Context) ([]ComputeNode, error) {
	return a.c.ComputeNodes(ctx, a.group, a.workspace, a.name)
}

// Name returns the compute's name.
func (a *AKSCompute) Name() string { return a.name }

// ResourceGroup returns the resource group of the compute's workspace.
func (a *AKSCompute) ResourceGroup() string { return a.group }

// WorkspaceName returns the name of the compute's workspace.
func (a *AKSCompute) WorkspaceName() string { return a.workspace }

// Compute returns the compute as last read from the server (nil before the first read).
func (a *AKSCompute) Compute() *Compute { return a.comp }

// ID returns the compute's ARM id.
func (a *AKSCompute) ID() string {
	if a.comp == nil {
		return ""
	}
	return a.comp.ID
}

// Location returns where the compute's cluster runs.
func (a *AKSCompute) Location() string {
	if a.comp == nil {
		return ""
	}
	if a.comp.Properties.ComputeLocation != "" {
		return a.comp.Properties.ComputeLocation
	}
	return a.comp.Location
}

// ProvisioningState returns the compute's state as last read: Creating, Updating,
// Deleting, Succeeded, Failed, Canceled or Unknown. After Detach or Delete it is Deleting
// until WaitForCompletion sees the operation end; then it is the operation's final status,
// as azureml-core's wait_for_completion reports it: Succeeded once the compute is gone.
func (a *AKSCompute) ProvisioningState() string {
	if a.comp == nil {
		return ""
	}
	return a.comp.Properties.ProvisioningState
}

// ProvisioningErrors returns the errors of a compute whose state is Failed.
func (a *AKSCompute) ProvisioningErrors() []*Error {
	if a.comp == nil {
		return nil
	}
	var out []*Error
	for _, pe := range a.comp.Properties.ProvisioningErrors {
		out = append(out, errorOf(pe.Error))
	}
	return out
}

func errorOf(d ErrorDetail) *Error {
	e := &Error{Code: d.Code, Message: d.Message, Target: d.Target}
	for _, sub := range d.Details {
		e.Details = append(e.Details, errorOf(sub))
	}
	return e
}

// IsAttached reports whether the compute is an attached cluster (true) or a cluster the
// workspace created (false).
func (a *AKSCompute) IsAttached() bool { return a.comp != nil && a.comp.Properties.IsAttachedCompute }

// ClusterResourceID returns the ARM id of the compute's managed cluster.
func (a *AKSCompute) ClusterResourceID() string {
	if a.comp == nil || a.comp.Properties.ResourceID == nil {
		return ""
	}
	return *a.comp.Properties.ResourceID
}

func (a *AKSCompute) props() *AKSProperties {
	if a.comp == nil || a.comp.Properties.Properties == nil {
		return &AKSProperties{}
	}
	return a.comp.Properties.Properties
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// AgentCount returns the number of nodes of the compute's cluster.
func (a *AKSCompute) AgentCount() int { return deref(a.props().AgentCount) }

// VMSize returns the VM size of the cluster's nodes.
func (a *AKSCompute) VMSize() string { return deref(a.props().AgentVMSize) }

// ClusterPurpose returns FastProd, DenseProd or DevTest.
func (a *AKSCompute) ClusterPurpose() string { return deref(a.props().ClusterPurpose) }

// ClusterFQDN returns the host name of the cluster's API server.
func (a *AKSCompute) ClusterFQDN() string { return deref(a.props().ClusterFqdn) }

// LoadBalancerType returns PublicIp or InternalLoadBalancer.
func (a *AKSCompute) LoadBalancerType() string { return deref(a.props().LoadBalancerType) }

// LoadBalancerSubnet returns the subnet of an InternalLoadBalancer ("" for PublicIp).
func (a *AKSCompute) LoadBalancerSubnet() string { return deref(a.props().LoadBalancerSubnet) }

// SSLConfiguration returns the TLS setup of the inference front-end, without its key (nil
// when the server reported none).
func (a *AKSCompute) SSLConfiguration() *SSLConfiguration { return a.props().SSLConfiguration }

// SystemServices returns the services mlfleet runs in the cluster, with their addresses.
func (a *AKSCompute) SystemServices() []SystemService { return a.props().SystemServices }

// Conditions returns what holds about the cluster now (B4): Reachable, VersionSupported,
// CapacitySufficient, ComponentsReady.
func (a *AKSCompute) Conditions() []Condition {
	if a.comp == nil || a.comp.Properties.Mlfleet == nil {
		return nil
	}
	return a.comp.Properties.Mlfleet.Conditions
}

// KubernetesVersion returns the version the cluster's API server reports.
func (a *AKSCompute) KubernetesVersion() string {
	if a.comp == nil || a.comp.Properties.Mlfleet == nil {
		return ""
	}
	return a.comp.Properties.Mlfleet.KubernetesVersion
}

// Warnings returns what the server said the user should know about the operation last
// started through this handle without refusing it (a small DevTest cluster, a preview
// Kubernetes version).
func (a *AKSCompute) Warnings() []string { return a.warnings }

// AKSUpdateConfig changes an AKS compute's settings in place, without a detach (S12):
// azureml-core's AksUpdateConfiguration, plus the cluster purpose. What is left zero keeps
// its current value.
type AKSUpdateConfig struct {
	// ClusterPurpose is FastProd, DenseProd or DevTest (S5), compared case-insensitively.
	ClusterPurpose string
	// LoadBalancerType is PublicIp or InternalLoadBalancer (S14); switching to PublicIp
	// drops the subnet.
	LoadBalancerType string
	// LoadBalancerSubnet is the subnet of an InternalLoadBalancer: the compute's load
	// balancer must be internal, or LoadBalancerType must make it so.
	LoadBalancerSubnet string
	// SSL replaces the TLS setup of the inference front-end.
	SSL SSLOptions
	// DisableSSL turns TLS off; not with SSL.
	DisableSSL bool
}

// Validate checks the configuration before anything is sent: something to change, a
// known cluster purpose and load balancer type, no subnet with PublicIp, the TLS rules of
// the provisioning configuration, and DisableSSL alone. It returns nil or a
// *ValidationError listing every problem. A subnet given without a type is checked by
// Update against the compute's current load balancer.
func (c AKSUpdateConfig) Validate() error {
	var ps problems
	if c.ClusterPurpose == "" && c.LoadBalancerType == "" && c.LoadBalancerSubnet == "" && c.SSL.IsZero() && !c.DisableSSL {
		ps.add("nothing to update: set %s, %s, %s, %s or %s", fieldClusterPurpose, fieldLoadBalancerType, fieldLoadBalancerSubnet, fieldSSL, fieldDisableSSL)
	}
	ps.checkPurpose(c.ClusterPurpose)
	ps.checkLoadBalancer(c.LoadBalancerType, c.LoadBalancerSubnet, false)
	if c.DisableSSL && !c.SSL.IsZero() {
		ps.add("%s cannot be combined with %s", fieldDisableSSL, fieldSSL)
	} else {
		c.SSL.check(&ps)
	}
	return ps.err("AKS update configuration")
}

// apply returns the PUT body that changes cur as c says. The TLS files must have been
// read.
func (c AKSUpdateConfig) apply(cur *Compute) (*Compute, error) {
	b := putBody(cur)
	p := b.Properties.Properties
	if c.ClusterPurpose != "" {
		p.ClusterPurpose = optString(canonical(c.ClusterPurpose, ClusterPurposes()))
	}
	if c.LoadBalancerType != "" {
		p.LoadBalancerType = optString(canonical(c.LoadBalancerType, LoadBalancerTypes()))
		if *p.LoadBalancerType == LoadBalancerPublicIP {
			p.LoadBalancerSubnet = nil
		}
	}
	if c.LoadBalancerSubnet != "" {
		if cur := deref(p.LoadBalancerType); !strings.EqualFold(cur, LoadBalancerInternal) {
			if cur == "" {
				cur = LoadBalancerPublicIP
			}
			var ps problems
			ps.add("%s applies only to an %s, and the compute's load balancer is %s: set %s %s too",
				fieldLoadBalancerSubnet, LoadBalancerInternal, cur, fieldLoadBalancerType, LoadBalancerInternal)
			return nil, ps.err("AKS update configuration")
		}
		p.LoadBalancerSubnet = optString(c.LoadBalancerSubnet)
	}
	if c.DisableSSL {
		p.SSLConfiguration = &SSLConfiguration{Status: SSLDisabled}
	} else {
		p.SSLConfiguration = c.SSL.configuration()
	}
	return b, nil
}

// putBody returns the PUT body that keeps a compute as GET returned it: read-only fields
// are dropped, resourceId is kept only for an attached compute (a created compute is
// updated, not re-attached), and the TLS and network configurations are left unset so the
// server keeps them (GET never returns the TLS key, so sending the configuration back
// would lose it).
func putBody(cur *Compute) *Compute {
	b := &Compute{Location: cur.Location, Tags: cur.Tags}
	p := &b.Properties
	p.ComputeType = cur.Properties.ComputeType
	p.ComputeLocation = cur.Properties.ComputeLocation
	p.Description = cur.Properties.Description
	p.DisableLocalAuth = cur.Properties.DisableLocalAuth
	p.IsAttachedCompute = cur.Properties.IsAttachedCompute
	if cur.Properties.IsAttachedCompute {
		p.ResourceID = cur.Properties.ResourceID
	}
	p.Properties = &AKSProperties{}
	if ap := cur.Properties.Properties; ap != nil {
		p.Properties.AgentCount = ap.AgentCount
		p.Properties.AgentVMSize = ap.AgentVMSize
		p.Properties.ClusterPurpose = ap.ClusterPurpose
		p.Properties.LoadBalancerType = ap.LoadBalancerType
		p.Properties.LoadBalancerSubnet = ap.LoadBalancerSubnet
	}
	return b
}
