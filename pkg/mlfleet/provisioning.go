package mlfleet

import (
	"os"
)

// SSLOptions are the TLS settings of a cluster's inference front-end (S13), as azureml-core's
// provisioning and attach configurations take them: either your own certificate — Cname,
// Cert (or CertFile) and Key (or KeyFile) together — or a certificate mlfleet issues from
// its own CA for LeafDomainLabel. The zero value sets nothing: a create or attach gets the
// server's default (TLS disabled), an update keeps the current setting.
type SSLOptions struct {
	// Cname is the host name the certificate is for.
	Cname string
	// Cert is the PEM of the certificate (its chain may follow).
	Cert []byte
	// CertFile names a PEM file holding the certificate, instead of Cert (azureml-core's
	// ssl_cert_pem_file).
	CertFile string
	// Key is the PEM of the certificate's private key. The server stores it encrypted and
	// never returns it.
	Key []byte
	// KeyFile names a PEM file holding the key, instead of Key (azureml-core's
	// ssl_key_pem_file).
	KeyFile string
	// LeafDomainLabel asks mlfleet to issue the certificate itself, for this label.
	LeafDomainLabel string
	// OverwriteExistingDomain takes the leaf domain label over if it is already in use;
	// only with LeafDomainLabel.
	OverwriteExistingDomain bool
}

// IsZero reports whether no TLS setting is given.
func (o *SSLOptions) IsZero() bool {
	return o.Cname == "" && len(o.Cert) == 0 && o.CertFile == "" && len(o.Key) == 0 && o.KeyFile == "" &&
		o.LeafDomainLabel == "" && !o.OverwriteExistingDomain
}

// check adds the broken TLS rules of azureml-core to ps.
func (o *SSLOptions) check(ps *problems) {
	if len(o.Cert) > 0 && o.CertFile != "" {
		ps.add("give %s or %s, not both", fieldSSLCert, fieldSSLCertFile)
	}
	if len(o.Key) > 0 && o.KeyFile != "" {
		ps.add("give %s or %s, not both", fieldSSLKey, fieldSSLKeyFile)
	}
	certGiven, keyGiven := len(o.Cert) > 0 || o.CertFile != "", len(o.Key) > 0 || o.KeyFile != ""
	own := o.Cname != "" || certGiven || keyGiven
	ownFields := fieldList{string(fieldSSLCname), string(fieldSSLCert), string(fieldSSLKey)}
	switch {
	case own && (o.Cname == "" || !certGiven || !keyGiven):
		ps.add("TLS with your own certificate needs %s together (or %s alone for a certificate issued by mlfleet)", ownFields, fieldSSLLeaf)
	case own && o.LeafDomainLabel != "":
		ps.add("give either %s, or %s, not both", ownFields, fieldSSLLeaf)
	}
	if o.OverwriteExistingDomain && o.LeafDomainLabel == "" {
		ps.add("%s applies only with %s", fieldSSLOverwrite, fieldSSLLeaf)
	}
}

// ReadFiles reads CertFile and KeyFile into Cert and Key and clears the file names. The
// create, attach and update calls read the files themselves; call ReadFiles to find an
// unreadable file before anything else happens. It returns nil or a *ValidationError.
func (o *SSLOptions) ReadFiles() error {
	var ps problems
	read := func(file *string, into *[]byte, f field) {
		if *file == "" {
			return
		}
		b, err := os.ReadFile(*file)
		if err != nil {
			ps.add("read %s: %v", f, err)
			return
		}
		*into, *file = b, ""
	}
	read(&o.CertFile, &o.Cert, fieldSSLCertFile)
	read(&o.KeyFile, &o.Key, fieldSSLKeyFile)
	return ps.err("TLS settings")
}

// configuration returns the wire form of the options (files read), nil when none is set.
func (o *SSLOptions) configuration() *SSLConfiguration {
	switch {
	case o.LeafDomainLabel != "":
		return &SSLConfiguration{Status: SSLAuto, LeafDomainLabel: o.LeafDomainLabel, OverwriteExistingDomain: o.OverwriteExistingDomain}
	case len(o.Cert) > 0 || o.Cname != "":
		return &SSLConfiguration{Status: SSLEnabled, Cert: string(o.Cert), Key: string(o.Key), Cname: o.Cname}
	}
	return nil
}

// AKSProvisioningConfig describes a cluster to create from a workspace: the parameters of
// azureml-core's AksCompute.provisioning_configuration. Fields left zero are not sent, so
// the server applies its defaults (S1): 3 nodes of Standard_D3_v2, purpose FastProd, a
// PublicIp load balancer, the workspace's location and the location's default Kubernetes
// version.
type AKSProvisioningConfig struct {
	// AgentCount is the number of nodes; 0 means the server's default (3).
	AgentCount int
	// VMSize is the nodes' VM size, e.g. Standard_D2_v2; "" means Standard_D3_v2.
	VMSize string
	// ClusterPurpose is FastProd, DenseProd or DevTest (S5), compared case-insensitively;
	// "" means FastProd. Production purposes need 12 vCPUs; the server checks it.
	ClusterPurpose string
	// SSL sets up TLS for the inference front-end; the zero value leaves it disabled.
	SSL SSLOptions
	// Location is where the cluster runs; "" means the workspace's location.
	Location string
	// VnetResourceGroup is the resource group of an existing virtual network to put the
	// cluster in (S26). The six virtual network fields go together: all of them or none
	// ("" everywhere means mlfleet's own network). The server checks the CIDRs.
	VnetResourceGroup string
	// VnetName is the virtual network's name.
	VnetName string
	// SubnetName is the subnet of the virtual network the nodes live in.
	SubnetName string
	// ServiceCIDR is the range of the cluster's service IPs, e.g. 10.0.0.0/16.
	ServiceCIDR string
	// DNSServiceIP is the cluster DNS service's IP, inside ServiceCIDR, e.g. 10.0.0.10.
	DNSServiceIP string
	// DockerBridgeCIDR is the docker bridge's range, e.g. 172.17.0.1/16; it must not
	// overlap ServiceCIDR.
	DockerBridgeCIDR string
	// LoadBalancerType is PublicIp or InternalLoadBalancer (S14), compared
	// case-insensitively; "" means PublicIp.
	LoadBalancerType string
	// LoadBalancerSubnet is the subnet of an InternalLoadBalancer; "" means aks-subnet.
	LoadBalancerSubnet string
	// Description describes the compute; "" sets none.
	Description string
}

// Validate checks the configuration as azureml-core does before it sends anything: a
// positive agent count, the TLS settings (cname, certificate and key together, or a leaf
// domain label alone; overwrite only with a leaf domain label), the virtual network fields
// all together, a known cluster purpose and load balancer type, a load balancer subnet only
// with InternalLoadBalancer. It returns nil or a *ValidationError listing every problem.
func (c AKSProvisioningConfig) Validate() error {
	var ps problems
	if c.AgentCount < 0 {
		ps.add("%s must be a positive integer", fieldAgentCount)
	}
	ps.checkPurpose(c.ClusterPurpose)
	c.SSL.check(&ps)
	vnet := []struct{ name, v string }{
		{"VnetName", c.VnetName}, {"VnetResourceGroup", c.VnetResourceGroup}, {"SubnetName", c.SubnetName},
		{"ServiceCIDR", c.ServiceCIDR}, {"DNSServiceIP", c.DNSServiceIP}, {"DockerBridgeCIDR", c.DockerBridgeCIDR},
	}
	var all, missing fieldList
	for _, f := range vnet {
		all = append(all, f.name)
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) != 0 && len(missing) != len(vnet) {
		ps.add("a custom virtual network needs %s together (missing: %s)", all, missing)
	}
	ps.checkLoadBalancer(c.LoadBalancerType, c.LoadBalancerSubnet, true)
	return ps.err("AKS provisioning configuration")
}

// options are the create's: create only.
func (c AKSProvisioningConfig) options() *ComputeOptions {
	return &ComputeOptions{IfNoneMatch: true}
}

func (c *AKSProvisioningConfig) readFiles() error { return c.SSL.ReadFiles() }

// compute returns the PUT body of the create, shaped as azureml-core sends it: the
// workspace's location, computeLocation only when given, and only the AKS settings that
// are set. The TLS files must have been read.
func (c AKSProvisioningConfig) compute(subscription, workspaceLocation string) *Compute {
	comp := &Compute{Location: workspaceLocation}
	comp.Properties.ComputeType = ComputeTypeAKS
	comp.Properties.ComputeLocation = c.Location
	comp.Properties.Description = optString(c.Description)
	p := &AKSProperties{
		AgentVMSize:        optString(c.VMSize),
		ClusterPurpose:     optString(canonical(c.ClusterPurpose, ClusterPurposes())),
		SSLConfiguration:   c.SSL.configuration(),
		LoadBalancerType:   optString(canonical(c.LoadBalancerType, LoadBalancerTypes())),
		LoadBalancerSubnet: optString(c.LoadBalancerSubnet),
	}
	if c.AgentCount > 0 {
		n := c.AgentCount
		p.AgentCount = &n
	}
	if c.VnetName != "" {
		p.AKSNetworkingConfiguration = &AKSNetworkingConfiguration{
			SubnetID:    "/subscriptions/" + subscription + "/resourceGroups/" + c.VnetResourceGroup + "/providers/Microsoft.Network/virtualNetworks/" + c.VnetName + "/subnets/" + c.SubnetName,
			ServiceCidr: c.ServiceCIDR, DNSServiceIP: c.DNSServiceIP, DockerBridgeCidr: c.DockerBridgeCIDR,
		}
	}
	comp.Properties.Properties = p
	return comp
}
