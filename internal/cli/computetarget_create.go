package cli

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// The client-side checks below are those azureml-core makes before it sends anything
// (AksCompute provisioning and attach configurations); they fail as usage errors. Every
// other rule (names, vCPUs, CIDRs, versions, certificates) is the server's.

// oneOf returns the allowed value v names (case-insensitively), "" for "".
func oneOf(flag, v string, allowed ...string) (string, error) {
	if v == "" {
		return "", nil
	}
	for _, a := range allowed {
		if strings.EqualFold(a, v) {
			return a, nil
		}
	}
	return "", usagef("invalid value %q for %s: allowed values are %s", v, flag, strings.Join(allowed, ", "))
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// sslFlags are the TLS options of the inference front-end (S13).
type sslFlags struct {
	certFile, keyFile, cname, leafLabel string
	overwrite, disable                  bool
}

func (s *sslFlags) bind(cmd *cobra.Command, withDisable bool) {
	fl := cmd.Flags()
	fl.StringVar(&s.certFile, "ssl-cert-file", "", "PEM file of the TLS certificate (with --ssl-key-file and --ssl-cname)")
	fl.StringVar(&s.keyFile, "ssl-key-file", "", "PEM file of the TLS certificate's private key")
	fl.StringVar(&s.cname, "ssl-cname", "", "Host name the certificate is for")
	fl.StringVar(&s.leafLabel, "ssl-leaf-domain-label", "", "Leaf domain label of a certificate mlfleet issues itself (instead of cert, key and cname)")
	fl.BoolVar(&s.overwrite, "ssl-overwrite-domain", false, "Take the leaf domain label over if it is already in use")
	if withDisable {
		fl.BoolVar(&s.disable, "ssl-disable", false, "Turn TLS off")
	}
}

func (s *sslFlags) given() bool {
	return s.certFile != "" || s.keyFile != "" || s.cname != "" || s.leafLabel != "" || s.overwrite || s.disable
}

func (s *sslFlags) validate() error {
	own := s.certFile != "" || s.keyFile != "" || s.cname != ""
	switch {
	case s.disable && (own || s.leafLabel != "" || s.overwrite):
		return usagef("--ssl-disable cannot be combined with other --ssl-* options")
	case own && (s.certFile == "" || s.keyFile == "" || s.cname == ""):
		return usagef("TLS with your own certificate needs --ssl-cname, --ssl-cert-file and --ssl-key-file together (or --ssl-leaf-domain-label alone for a certificate issued by mlfleet)")
	case own && s.leafLabel != "":
		return usagef("give either --ssl-cname, --ssl-cert-file and --ssl-key-file, or --ssl-leaf-domain-label, not both")
	case s.overwrite && s.leafLabel == "":
		return usagef("--ssl-overwrite-domain applies only with --ssl-leaf-domain-label")
	}
	return nil
}

// config returns the sslConfiguration the flags ask for, reading the PEM files; nil when
// no TLS option was given. Call validate first.
func (s *sslFlags) config() (*mlfleet.SSLConfiguration, error) {
	switch {
	case s.disable:
		return &mlfleet.SSLConfiguration{Status: mlfleet.SSLDisabled}, nil
	case s.leafLabel != "":
		return &mlfleet.SSLConfiguration{Status: mlfleet.SSLAuto, LeafDomainLabel: s.leafLabel, OverwriteExistingDomain: s.overwrite}, nil
	case s.certFile != "":
		cert, err := os.ReadFile(s.certFile)
		if err != nil {
			return nil, usagef("read --ssl-cert-file: %v", err)
		}
		key, err := os.ReadFile(s.keyFile)
		if err != nil {
			return nil, usagef("read --ssl-key-file: %v", err)
		}
		return &mlfleet.SSLConfiguration{Status: mlfleet.SSLEnabled, Cert: string(cert), Key: string(key), Cname: s.cname}, nil
	}
	return nil, nil
}

// lbFlags choose the inference front-end's load balancer (S14).
type lbFlags struct{ lbType, subnet string }

func (l *lbFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&l.lbType, "load-balancer-type", "", "Load balancer of the inference front-end: PublicIp or InternalLoadBalancer")
	cmd.Flags().StringVar(&l.subnet, "load-balancer-subnet", "", "Subnet of an InternalLoadBalancer (server default: aks-subnet)")
}

// normalize checks the type's spelling and returns it canonical.
func (l *lbFlags) normalize() error {
	t, err := oneOf("--load-balancer-type", l.lbType, mlfleet.LoadBalancerPublicIP, mlfleet.LoadBalancerInternal)
	l.lbType = t
	return err
}

// validate checks the flags of a create or attach, where the type is what the flags say.
func (l *lbFlags) validate() error {
	if err := l.normalize(); err != nil {
		return err
	}
	if l.subnet != "" && l.lbType != mlfleet.LoadBalancerInternal {
		return usagef("--load-balancer-subnet applies only with --load-balancer-type InternalLoadBalancer")
	}
	return nil
}

func purposeOf(v string) (string, error) {
	return oneOf("--cluster-purpose", v, mlfleet.PurposeFastProd, mlfleet.PurposeDenseProd, mlfleet.PurposeDevTest)
}

// vnetFlags put a created cluster in an existing virtual network (S26).
type vnetFlags struct {
	vnet, vnetGroup, subnet, serviceCidr, dnsServiceIP, dockerBridgeCidr string
}

func (v *vnetFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&v.vnet, "vnet-name", "", "Virtual network of the cluster")
	fl.StringVar(&v.vnetGroup, "vnet-resourcegroup-name", "", "Resource group of the virtual network")
	fl.StringVar(&v.subnet, "subnet-name", "", "Subnet of the virtual network")
	fl.StringVar(&v.serviceCidr, "service-cidr", "", "CIDR of the cluster's service IPs, e.g. 10.0.0.0/16")
	fl.StringVar(&v.dnsServiceIP, "dns-service-ip", "", "IP of the cluster DNS service, inside --service-cidr, e.g. 10.0.0.10")
	fl.StringVar(&v.dockerBridgeCidr, "docker-bridge-cidr", "", "CIDR of the docker bridge, e.g. 172.17.0.1/16")
}

func (v *vnetFlags) fields() []string {
	return []string{v.vnet, v.vnetGroup, v.subnet, v.serviceCidr, v.dnsServiceIP, v.dockerBridgeCidr}
}

func (v *vnetFlags) validate() error {
	n := 0
	for _, f := range v.fields() {
		if f != "" {
			n++
		}
	}
	if n != 0 && n != len(v.fields()) {
		return usagef("a custom virtual network needs --vnet-name, --vnet-resourcegroup-name, --subnet-name, --service-cidr, --dns-service-ip and --docker-bridge-cidr together")
	}
	return nil
}

// config returns the aksNetworkingConfiguration, nil when no network option was given.
func (v *vnetFlags) config(subscription string) *mlfleet.AKSNetworkingConfiguration {
	if v.vnet == "" {
		return nil
	}
	return &mlfleet.AKSNetworkingConfiguration{
		SubnetID:    "/subscriptions/" + subscription + "/resourceGroups/" + v.vnetGroup + "/providers/Microsoft.Network/virtualNetworks/" + v.vnet + "/subnets/" + v.subnet,
		ServiceCidr: v.serviceCidr, DNSServiceIP: v.dnsServiceIP, DockerBridgeCidr: v.dockerBridgeCidr,
	}
}

type createAKSFlags struct {
	ref                                    computeRef
	agentCount                             optInt
	vmSize, purpose, location, description string
	lb                                     lbFlags
	ssl                                    sslFlags
	vnet                                   vnetFlags
	noWait, dryRun                         bool
}

func (f *createAKSFlags) validate() error {
	if err := f.ref.resolve(); err != nil {
		return err
	}
	if f.agentCount.set && f.agentCount.v <= 0 {
		return usagef("--agent-count must be a positive integer")
	}
	var err error
	if f.purpose, err = purposeOf(f.purpose); err != nil {
		return err
	}
	if err := f.lb.validate(); err != nil {
		return err
	}
	if err := f.ssl.validate(); err != nil {
		return err
	}
	return f.vnet.validate()
}

// body is the PUT body of a create, shaped as azureml-core sends it: the workspace's
// location, computeLocation only when given, and only the AKS settings the user gave (the
// server applies the defaults).
func (f *createAKSFlags) body(subscription, workspaceLocation string, ssl *mlfleet.SSLConfiguration) *mlfleet.Compute {
	comp := &mlfleet.Compute{Location: workspaceLocation}
	comp.Properties.ComputeType = mlfleet.ComputeTypeAKS
	comp.Properties.ComputeLocation = f.location
	comp.Properties.Description = optString(f.description)
	comp.Properties.Properties = &mlfleet.AKSProperties{
		AgentCount:                 f.agentCount.ptr(),
		AgentVMSize:                optString(f.vmSize),
		ClusterPurpose:             optString(f.purpose),
		SSLConfiguration:           ssl,
		AKSNetworkingConfiguration: f.vnet.config(subscription),
		LoadBalancerType:           optString(f.lb.lbType),
		LoadBalancerSubnet:         optString(f.lb.subnet),
	}
	return comp
}

func newComputeTargetCreateAKS(streams Streams, g *globals) *cobra.Command {
	f := &createAKSFlags{}
	cmd := &cobra.Command{
		Use:   "aks -n NAME [-g GROUP] [-w WORKSPACE]",
		Short: "Create a Kubernetes cluster from the workspace and attach it",
		Long: "Create a Kubernetes cluster from the workspace and attach it. Settings not given are the server's defaults:\n" +
			"3 agents of Standard_D3_v2, purpose FastProd, a PublicIp load balancer, the workspace's location and the location's default Kubernetes version.",
		Example: "  mlfleet ml computetarget create aks -n myaks\n  mlfleet ml computetarget create aks -n devaks --cluster-purpose DevTest --agent-count 1 --dry-run",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			ssl, err := f.ssl.config()
			if err != nil {
				return err
			}
			c, err := g.client(streams)
			if err != nil {
				return err
			}
			ws, err := c.GetWorkspace(cmd.Context(), f.ref.group, f.ref.workspace)
			if err != nil {
				return err
			}
			body := f.body(c.SubscriptionID(), ws.Location, ssl)
			if f.dryRun {
				return g.dryRun(cmd, streams, c, f.ref, body, nil)
			}
			accepted, p, err := c.BeginCreateOrUpdateCompute(cmd.Context(), f.ref.group, f.ref.workspace, f.ref.name, body, nil)
			if err != nil {
				return err
			}
			return g.finishCompute(cmd, streams, c, accepted, p, f.ref, f.noWait)
		},
	}
	f.ref.bind(cmd)
	fl := cmd.Flags()
	fl.VarP(&f.agentCount, "agent-count", "a", "Number of agent nodes (server default: 3)")
	fl.StringVarP(&f.vmSize, "vm-size", "s", "", "VM size of the agent nodes (server default: Standard_D3_v2)")
	fl.StringVar(&f.purpose, "cluster-purpose", "", "FastProd (default), DenseProd or DevTest")
	fl.StringVarP(&f.location, "location", "l", "", "Location of the cluster (default: the workspace's)")
	fl.StringVar(&f.description, "description", "", "Description of the compute target")
	f.lb.bind(cmd)
	f.ssl.bind(cmd, false)
	f.vnet.bind(cmd)
	fl.BoolVar(&f.noWait, "no-wait", false, "Do not wait for the long-running operation to finish")
	fl.BoolVar(&f.dryRun, "dry-run", false, "Run every check of the create without changing anything")
	return cmd
}

type attachAKSFlags struct {
	ref                   computeRef
	resourceID, purpose   string
	lb                    lbFlags
	ssl                   sslFlags
	force, noWait, dryRun bool
}

// validateAKSResourceID checks the shape of a managed cluster's id the way azureml-core
// does: split on '/', the id has 9 parts (the first empty) and provider
// Microsoft.ContainerService.
func validateAKSResourceID(id string) error {
	const shape = "/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name}"
	parts := strings.Split(id, "/")
	if len(parts) != 9 || parts[0] != "" || !strings.EqualFold(parts[1], "subscriptions") || !strings.EqualFold(parts[3], "resourceGroups") ||
		!strings.EqualFold(parts[5], "providers") || !strings.EqualFold(parts[7], "managedClusters") || strings.Contains(id, "//") || strings.HasSuffix(id, "/") {
		return usagef("invalid --compute-resource-id %q: expected %s (see 'mlfleet aks show -n NAME -g GROUP --query id')", id, shape)
	}
	if !strings.EqualFold(parts[6], "Microsoft.ContainerService") {
		return usagef("invalid --compute-resource-id %q: provider %s is not Microsoft.ContainerService; attach takes the id of a managed cluster (%s)", id, parts[6], shape)
	}
	return nil
}

func (f *attachAKSFlags) validate() error {
	if err := f.ref.resolve(); err != nil {
		return err
	}
	if err := required(f.resourceID, "--compute-resource-id/-i"); err != nil {
		return err
	}
	// A value pasted from `aks show --query id` keeps its JSON quotes.
	f.resourceID = strings.Trim(strings.TrimSpace(f.resourceID), `"`)
	if err := validateAKSResourceID(f.resourceID); err != nil {
		return err
	}
	var err error
	if f.purpose, err = purposeOf(f.purpose); err != nil {
		return err
	}
	if err := f.lb.validate(); err != nil {
		return err
	}
	return f.ssl.validate()
}

// body is the PUT body of an attach, shaped as azureml-core sends it.
func (f *attachAKSFlags) body(workspaceLocation string, ssl *mlfleet.SSLConfiguration) *mlfleet.Compute {
	comp := &mlfleet.Compute{Location: workspaceLocation}
	comp.Properties.ComputeType = mlfleet.ComputeTypeAKS
	id := f.resourceID
	comp.Properties.ResourceID = &id
	comp.Properties.IsAttachedCompute = true
	comp.Properties.Properties = &mlfleet.AKSProperties{
		ClusterPurpose:     optString(f.purpose),
		SSLConfiguration:   ssl,
		LoadBalancerType:   optString(f.lb.lbType),
		LoadBalancerSubnet: optString(f.lb.subnet),
	}
	return comp
}

func (f *attachAKSFlags) options() *mlfleet.ComputeOptions {
	if !f.force {
		return nil
	}
	return &mlfleet.ComputeOptions{Force: true}
}

func newComputeTargetAttachAKS(streams Streams, g *globals) *cobra.Command {
	f := &attachAKSFlags{}
	cmd := &cobra.Command{
		Use:   "aks -n NAME -i RESOURCE_ID [-g GROUP] [-w WORKSPACE]",
		Short: "Attach an existing Kubernetes cluster to the workspace",
		Long: "Attach an existing Kubernetes cluster (a managedClusters resource of the workspace's subscription) to the workspace.\n" +
			"mlfleet checks every precondition first (--dry-run shows them) and then installs its components in the cluster.",
		Example: "  mlfleet ml computetarget attach aks -n myaks -i $(mlfleet aks show -n myexistingcluster -g myresourcegroup --query id -o tsv)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.validate(); err != nil {
				return err
			}
			ssl, err := f.ssl.config()
			if err != nil {
				return err
			}
			c, err := g.client(streams)
			if err != nil {
				return err
			}
			ws, err := c.GetWorkspace(cmd.Context(), f.ref.group, f.ref.workspace)
			if err != nil {
				return err
			}
			body := f.body(ws.Location, ssl)
			if f.dryRun {
				return g.dryRun(cmd, streams, c, f.ref, body, f.options())
			}
			accepted, p, err := c.BeginCreateOrUpdateCompute(cmd.Context(), f.ref.group, f.ref.workspace, f.ref.name, body, f.options())
			if err != nil {
				return err
			}
			return g.finishCompute(cmd, streams, c, accepted, p, f.ref, f.noWait)
		},
	}
	f.ref.bind(cmd)
	fl := cmd.Flags()
	fl.StringVarP(&f.resourceID, "compute-resource-id", "i", "", "Resource id of the cluster: /subscriptions/…/resourceGroups/…/providers/Microsoft.ContainerService/managedClusters/NAME")
	fl.StringVar(&f.purpose, "cluster-purpose", "", "FastProd (default), DenseProd or DevTest")
	f.lb.bind(cmd)
	f.ssl.bind(cmd, false)
	fl.BoolVar(&f.force, "force", false, "Take the cluster over if it is attached elsewhere (that attachment is detached first)")
	fl.BoolVar(&f.noWait, "no-wait", false, "Do not wait for the long-running operation to finish")
	fl.BoolVar(&f.dryRun, "dry-run", false, "Run every check of the attach without changing anything")
	return cmd
}

// dryRun runs a create's or attach's checks (validateOnly) and prints them. Failed checks
// come back as an error with one detail per failure.
func (g *globals) dryRun(cmd *cobra.Command, streams Streams, c *mlfleet.Client, ref computeRef, body *mlfleet.Compute, opts *mlfleet.ComputeOptions) error {
	v, err := c.ValidateCompute(cmd.Context(), ref.group, ref.workspace, ref.name, body, opts)
	if err != nil {
		return err
	}
	printWarnings(streams, v.Warnings)
	return g.print(streams, v, validationTable)
}
