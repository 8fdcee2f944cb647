package mlfleet

import "strings"

// aksResourceIDShape is the id of a managed cluster, as attach takes it.
const aksResourceIDShape = "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name}"

// AKSAttachConfig names an existing cluster to attach to a workspace and the settings of
// the attachment: azureml-core's AksCompute.attach_configuration. The cluster is named
// either by ResourceGroup and ClusterName (a managed cluster of the client's subscription)
// or by ResourceID, not both.
type AKSAttachConfig struct {
	// ResourceGroup is the cluster's resource group, in the client's subscription; with
	// ClusterName, instead of ResourceID.
	ResourceGroup string
	// ClusterName is the name of the managed cluster in ResourceGroup.
	ClusterName string
	// ResourceID is the cluster's ARM id, as `mlfleet aks show --query id` prints it.
	ResourceID string
	// ClusterPurpose is FastProd, DenseProd or DevTest (S5), compared case-insensitively;
	// "" means FastProd. The server checks the live cluster's vCPUs against it.
	ClusterPurpose string
	// SSL sets up TLS for the inference front-end; the zero value leaves it disabled.
	SSL SSLOptions
	// LoadBalancerType is PublicIp or InternalLoadBalancer (S14); "" means PublicIp.
	LoadBalancerType string
	// LoadBalancerSubnet is the subnet of an InternalLoadBalancer; "" means aks-subnet.
	LoadBalancerSubnet string
	// Force takes the cluster over when it is attached elsewhere: that attachment is
	// detached first (S11). Without it such an attach fails with a 409 Conflict.
	Force bool
}

// Validate checks the configuration as azureml-core does before it sends anything: the
// cluster named one way exactly, a resource id of the managed-cluster shape, a known
// cluster purpose and load balancer type, a load balancer subnet only with
// InternalLoadBalancer, and the TLS settings. It returns nil or a *ValidationError listing
// every problem.
func (c AKSAttachConfig) Validate() error {
	var ps problems
	switch {
	case c.ResourceID != "" && (c.ResourceGroup != "" || c.ClusterName != ""):
		ps.add("give either %s, or %s, not both", fieldList{string(fieldResourceGroup), string(fieldClusterName)}, fieldResourceID)
	case c.ResourceID == "" && (c.ResourceGroup == "" || c.ClusterName == ""):
		ps.add("name the cluster with %s, or with %s", fieldList{string(fieldResourceGroup), string(fieldClusterName)}, fieldResourceID)
	case c.ResourceID != "":
		checkAKSResourceID(&ps, c.ResourceID)
	}
	ps.checkPurpose(c.ClusterPurpose)
	c.SSL.check(&ps)
	ps.checkLoadBalancer(c.LoadBalancerType, c.LoadBalancerSubnet, true)
	return ps.err("AKS attach configuration")
}

// checkAKSResourceID checks the shape of a managed cluster's id the way azureml-core does
// (split on '/', nine parts, provider Microsoft.ContainerService), and also that no part
// is empty and the fixed parts are where ARM puts them.
func checkAKSResourceID(ps *problems, id string) {
	parts := strings.Split(id, "/")
	shapeOK := len(parts) == 9 && parts[0] == "" && strings.EqualFold(parts[1], "subscriptions") &&
		strings.EqualFold(parts[3], "resourceGroups") && strings.EqualFold(parts[5], "providers")
	for i := 1; shapeOK && i < len(parts); i++ {
		shapeOK = parts[i] != ""
	}
	switch {
	case !shapeOK:
		ps.add("invalid %s %q: expected %s", fieldResourceID, id, aksResourceIDShape)
	case !strings.EqualFold(parts[6], "Microsoft.ContainerService"):
		ps.add("invalid %s %q: provider %s is not Microsoft.ContainerService; attach takes the id of a managed cluster (%s)", fieldResourceID, id, parts[6], aksResourceIDShape)
	case !strings.EqualFold(parts[7], "managedClusters"):
		ps.add("invalid %s %q: expected %s", fieldResourceID, id, aksResourceIDShape)
	}
}

// resourceID returns the id of the cluster to attach.
func (c AKSAttachConfig) resourceID(subscription string) string {
	if c.ResourceID != "" {
		return c.ResourceID
	}
	return "/subscriptions/" + subscription + "/resourceGroups/" + c.ResourceGroup + "/providers/Microsoft.ContainerService/managedClusters/" + c.ClusterName
}

// compute returns the PUT body of the attach, shaped as azureml-core sends it: the
// workspace's location, the cluster's id and only the settings that are set. The TLS
// files must have been read.
func (c AKSAttachConfig) compute(subscription, workspaceLocation string) *Compute {
	comp := &Compute{Location: workspaceLocation}
	comp.Properties.ComputeType = ComputeTypeAKS
	id := c.resourceID(subscription)
	comp.Properties.ResourceID = &id
	comp.Properties.IsAttachedCompute = true
	comp.Properties.Properties = &AKSProperties{
		ClusterPurpose:     optString(canonical(c.ClusterPurpose, ClusterPurposes())),
		SSLConfiguration:   c.SSL.configuration(),
		LoadBalancerType:   optString(canonical(c.LoadBalancerType, LoadBalancerTypes())),
		LoadBalancerSubnet: optString(c.LoadBalancerSubnet),
	}
	return comp
}

// options are the attach's: create only, and Force as set.
func (c AKSAttachConfig) options() *ComputeOptions {
	return &ComputeOptions{Force: c.Force, IfNoneMatch: true}
}

func (c *AKSAttachConfig) readFiles() error { return c.SSL.ReadFiles() }
