package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// The client-side checks of these commands are the SDK's (the configurations' Validate,
// azureml-core's rules); their problems fail as usage errors naming the flags. Every other
// rule (names, vCPUs, CIDRs, versions, certificates) is the server's.

// flagName returns the flag that sets a field of the SDK's configurations, to name it in
// a validation problem: the SDK's messages name Go fields (AgentCount), which mean nothing
// on a command line. A field without a flag keeps its Go name.
func flagName(field string) string {
	switch field {
	case "Name":
		return "--name"
	case "AgentCount":
		return "--agent-count"
	case "ClusterPurpose":
		return "--cluster-purpose"
	case "LoadBalancerType":
		return "--load-balancer-type"
	case "LoadBalancerSubnet":
		return "--load-balancer-subnet"
	case "ResourceID":
		return "--compute-resource-id"
	case "SSL":
		return "--ssl-* options"
	case "DisableSSL":
		return "--ssl-disable"
	case "SSL.Cname":
		return "--ssl-cname"
	case "SSL.Cert", "SSL.CertFile":
		return "--ssl-cert-file"
	case "SSL.Key", "SSL.KeyFile":
		return "--ssl-key-file"
	case "SSL.LeafDomainLabel":
		return "--ssl-leaf-domain-label"
	case "SSL.OverwriteExistingDomain":
		return "--ssl-overwrite-domain"
	case "VnetName":
		return "--vnet-name"
	case "VnetResourceGroup":
		return "--vnet-resourcegroup-name"
	case "SubnetName":
		return "--subnet-name"
	case "ServiceCIDR":
		return "--service-cidr"
	case "DNSServiceIP":
		return "--dns-service-ip"
	case "DockerBridgeCIDR":
		return "--docker-bridge-cidr"
	}
	return field
}

// flagErrors turns an SDK *ValidationError into a usage error that names the flags and
// lists every problem, not only the first, so that one run shows everything to fix; other
// errors pass through.
func flagErrors(err error) error {
	var ve *mlfleet.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	if len(ve.Problems) == 1 {
		return usagef("%s", ve.Problems[0].Describe(flagName))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems with the options:", len(ve.Problems))
	for _, p := range ve.Problems {
		fmt.Fprintf(&b, "\n  - %s", p.Describe(flagName))
	}
	return usagef("%s", b.String())
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

// options returns the SDK's TLS settings the flags give (the PEM files not read yet).
func (s *sslFlags) options() mlfleet.SSLOptions {
	return mlfleet.SSLOptions{Cname: s.cname, CertFile: s.certFile, KeyFile: s.keyFile, LeafDomainLabel: s.leafLabel, OverwriteExistingDomain: s.overwrite}
}

// checked validates a configuration with the SDK's rules and reads its TLS files, so that
// every client-side mistake is a usage error before anything is sent.
func checked(validate func() error, ssl *mlfleet.SSLOptions) error {
	if err := validate(); err != nil {
		return flagErrors(err)
	}
	return flagErrors(ssl.ReadFiles())
}

// lbFlags choose the inference front-end's load balancer (S14).
type lbFlags struct{ lbType, subnet string }

func (l *lbFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&l.lbType, "load-balancer-type", "", "Load balancer of the inference front-end: PublicIp or InternalLoadBalancer")
	cmd.Flags().StringVar(&l.subnet, "load-balancer-subnet", "", "Subnet of an InternalLoadBalancer (server default: aks-subnet)")
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

// provisionFlags are the flags create aks and attach aks share: what azureml-core's
// provisioning and attach configurations have in common (S5, S13, S14), plus mlfleet's
// --dry-run (B1).
type provisionFlags struct {
	ref            computeRef
	purpose        string
	lb             lbFlags
	ssl            sslFlags
	noWait, dryRun bool
}

// bind binds the flags; verb names the command in the help of --dry-run.
func (p *provisionFlags) bind(cmd *cobra.Command, verb string) {
	p.ref.bind(cmd)
	cmd.Flags().StringVar(&p.purpose, "cluster-purpose", "", "FastProd (default), DenseProd or DevTest")
	p.lb.bind(cmd)
	p.ssl.bind(cmd, false)
	noWaitFlag(cmd, &p.noWait)
	cmd.Flags().BoolVar(&p.dryRun, "dry-run", false, "Run every check of the "+verb+" without changing anything")
}

// createAKSFlags are the flags of `ml computetarget create aks` (S1): azureml-core's
// AksCompute.provisioning_configuration as flags. Flags not given stay zero, which the SDK
// sends as null, so that the server's defaults apply.
type createAKSFlags struct {
	provisionFlags
	agentCount                    optInt
	vmSize, location, description string
	vnet                          vnetFlags
}

// config returns the SDK's provisioning configuration the flags give.
func (f *createAKSFlags) config() mlfleet.AKSProvisioningConfig {
	return mlfleet.AKSProvisioningConfig{
		AgentCount: f.agentCount.v, VMSize: f.vmSize, ClusterPurpose: f.purpose, SSL: f.ssl.options(), Location: f.location,
		VnetResourceGroup: f.vnet.vnetGroup, VnetName: f.vnet.vnet, SubnetName: f.vnet.subnet,
		ServiceCIDR: f.vnet.serviceCidr, DNSServiceIP: f.vnet.dnsServiceIP, DockerBridgeCIDR: f.vnet.dockerBridgeCidr,
		LoadBalancerType: f.lb.lbType, LoadBalancerSubnet: f.lb.subnet, Description: f.description,
	}
}

// validate makes the client-side checks and returns the configuration to send, its TLS
// files read.
func (f *createAKSFlags) validate() (mlfleet.AKSProvisioningConfig, error) {
	cfg := f.config()
	if err := f.ref.resolve(); err != nil {
		return cfg, err
	}
	// The SDK reads 0 as "the server's default"; a 0 given on the command line is a mistake.
	if f.agentCount.set {
		if err := mlfleet.ValidateAgentCount(f.agentCount.v); err != nil {
			return cfg, flagErrors(err)
		}
	}
	err := checked(cfg.Validate, &cfg.SSL) // reads the TLS files into cfg first
	return cfg, err
}

func newComputeTargetCreateAKS(streams Streams, g *globals) *cobra.Command {
	f := &createAKSFlags{}
	cmd := provisionCommand(streams, g, &f.provisionFlags, "create", "aks -n NAME [-g GROUP] [-w WORKSPACE]", "Create a Kubernetes cluster from the workspace and attach it",
		f.validate, (*mlfleet.Workspace).ValidateCreateAKS, (*mlfleet.Workspace).CreateAKS)
	cmd.Long = "Create a Kubernetes cluster from the workspace and attach it. Settings not given are the server's defaults:\n" +
		"3 agents of Standard_D3_v2, purpose FastProd, a PublicIp load balancer, the workspace's location and the location's default Kubernetes version."
	cmd.Example = "  mlfleet ml computetarget create aks -n myaks\n  mlfleet ml computetarget create aks -n devaks --cluster-purpose DevTest --agent-count 1 --dry-run"
	fl := cmd.Flags()
	fl.VarP(&f.agentCount, "agent-count", "a", "Number of agent nodes (server default: 3)")
	fl.StringVarP(&f.vmSize, "vm-size", "s", "", "VM size of the agent nodes (server default: Standard_D3_v2)")
	fl.StringVarP(&f.location, "location", "l", "", "Location of the cluster (default: the workspace's)")
	fl.StringVar(&f.description, "description", "", "Description of the compute target")
	f.vnet.bind(cmd)
	return cmd
}

// attachAKSFlags are the flags of `ml computetarget attach aks` (S2): azureml-core's
// attach configuration by resource id, plus --force, which takes over a cluster attached
// elsewhere (S11).
type attachAKSFlags struct {
	provisionFlags
	resourceID string
	force      bool
}

// config returns the SDK's attach configuration the flags give.
func (f *attachAKSFlags) config() mlfleet.AKSAttachConfig {
	return mlfleet.AKSAttachConfig{ResourceID: f.resourceID, ClusterPurpose: f.purpose, SSL: f.ssl.options(),
		LoadBalancerType: f.lb.lbType, LoadBalancerSubnet: f.lb.subnet, Force: f.force}
}

// validate makes the client-side checks and returns the configuration to send, its TLS
// files read.
func (f *attachAKSFlags) validate() (mlfleet.AKSAttachConfig, error) {
	if err := f.ref.resolve(); err != nil {
		return mlfleet.AKSAttachConfig{}, err
	}
	if err := required(f.resourceID, "--compute-resource-id/-i"); err != nil {
		return mlfleet.AKSAttachConfig{}, err
	}
	// A value pasted from `aks show --query id` keeps its JSON quotes.
	f.resourceID = strings.Trim(strings.TrimSpace(f.resourceID), `"`)
	cfg := f.config()
	err := checked(cfg.Validate, &cfg.SSL) // reads the TLS files into cfg first
	return cfg, err
}

func newComputeTargetAttachAKS(streams Streams, g *globals) *cobra.Command {
	f := &attachAKSFlags{}
	cmd := provisionCommand(streams, g, &f.provisionFlags, "attach", "aks -n NAME -i RESOURCE_ID [-g GROUP] [-w WORKSPACE]", "Attach an existing Kubernetes cluster to the workspace",
		f.validate, (*mlfleet.Workspace).ValidateAttachAKS, (*mlfleet.Workspace).AttachAKS)
	cmd.Long = "Attach an existing Kubernetes cluster (a managedClusters resource of the workspace's subscription) to the workspace.\n" +
		"mlfleet checks every precondition first (--dry-run shows them) and then installs its components in the cluster."
	cmd.Example = "  mlfleet ml computetarget attach aks -n myaks -i $(mlfleet aks show -n myexistingcluster -g myresourcegroup --query id -o tsv)"
	fl := cmd.Flags()
	fl.StringVarP(&f.resourceID, "compute-resource-id", "i", "", "Resource id of the cluster: /subscriptions/…/resourceGroups/…/providers/Microsoft.ContainerService/managedClusters/NAME")
	fl.BoolVar(&f.force, "force", false, "Take the cluster over if it is attached elsewhere (that attachment is detached first)")
	return cmd
}

// provisionCommand is create aks or attach aks (verb), with f's flags bound: with the
// configuration the flags give (validate: the client-side checks), it runs only the
// server's checks (--dry-run) or starts the create or attach and follows it (unless
// --no-wait).
func provisionCommand[C any](streams Streams, g *globals, f *provisionFlags, verb, use, short string, validate func() (C, error),
	check func(*mlfleet.Workspace, context.Context, string, C) (*mlfleet.ComputeValidation, error),
	start func(*mlfleet.Workspace, context.Context, string, C) (*mlfleet.AKSCompute, error)) *cobra.Command {
	cmd := leaf(use, short, func(cmd *cobra.Command) error {
		cfg, err := validate()
		if err != nil {
			return err
		}
		// The SDK's create and attach hang off the workspace, which gives the compute its
		// location (azureml-core sends the workspace's); a missing workspace is a 404 here.
		ws, err := g.workspace(cmd.Context(), streams, f.ref)
		if err != nil {
			return err
		}
		if f.dryRun {
			v, err := check(ws, cmd.Context(), f.ref.name, cfg)
			return g.dryRun(streams, v, err)
		}
		// start validates the configuration again (the SDK's CreateAKS and AttachAKS do);
		// a problem found there names the flags too.
		aks, err := start(ws, cmd.Context(), f.ref.name, cfg)
		if err != nil {
			return flagErrors(err)
		}
		return g.finishCompute(cmd, streams, aks, f.noWait)
	})
	f.bind(cmd, verb)
	return cmd
}

// dryRun prints the outcome of a create's or attach's checks (validateOnly, B1). Failed
// checks come back as an error with one detail per failure, so a failed dry run exits 1
// like the create or attach it rehearses. Warnings go to stderr before the result, as
// they do for a real create.
func (g *globals) dryRun(streams Streams, v *mlfleet.ComputeValidation, err error) error {
	if err != nil {
		return flagErrors(err)
	}
	printWarnings(streams, v.Warnings)
	return g.print(streams, v, validationTable)
}
