package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func newAKSCommand(streams Streams, g *globals) *cobra.Command {
	return parent("aks", "Manage Kubernetes clusters (managedClusters)",
		newAKSCreate(streams, g), newAKSShow(streams, g), newAKSList(streams, g), newAKSDelete(streams, g),
		newAKSScale(streams, g), newAKSUpdate(streams, g), newAKSGetCredentials(streams, g), newAKSImport(streams, g), newAKSGetVersions(streams, g), newAKSGetUpgrades(streams, g), newAKSNodepool(streams, g))
}

// clusterTable reads az's shape of clusters (see azClusters), with the columns of az's
// `aks list -o table` in its order; ResourceGroup comes from the id, as az derives it.
func clusterTable(v any) any {
	return rows(v, func(m map[string]any) row {
		id, _ := m["id"].(string)
		return row{{"Name", m["name"]}, {"Location", m["location"]}, {"ResourceGroup", groupOf(id)},
			{"KubernetesVersion", m["kubernetesVersion"]}, {"CurrentKubernetesVersion", m["currentKubernetesVersion"]},
			{"ProvisioningState", m["provisioningState"]}, {"Fqdn", m["fqdn"]}}
	})
}

// aksCreateFlags are the flags of `aks create`, with az's names and, for the node count,
// pool name, load balancer SKU and outbound type, az's defaults.
type aksCreateFlags struct {
	clusterFlags
	location, vmSize, version, lbSku, ranges, outbound, dnsPrefix, poolName string
	count                                                                   int
	private, noWait                                                         bool
	autoscale                                                               autoscaleFlags
}

// newAKSCreate is `mlfleet aks create`: a cluster from the cluster side, where every
// supported version may be chosen (S8), unlike a create from a workspace. Private clusters
// and clusters with authorized IP ranges are made here and then attached (S15, S17).
func newAKSCreate(streams Streams, g *globals) *cobra.Command {
	f := &aksCreateFlags{}
	short := "Create a Kubernetes cluster (embedded provider: a real kube-apiserver run by mlfleet)"
	cmd := command("create -n NAME -g GROUP", short, &f.clusterFlags, func(cmd *cobra.Command) error {
		in := &mlfleet.ClusterInput{Location: f.location}
		in.Properties.KubernetesVersion = f.version
		in.Properties.DNSPrefix = f.dnsPrefix
		count := f.count
		pool := mlfleet.AgentPoolInput{Name: f.poolName, Count: &count, VMSize: f.vmSize, Mode: "System"}
		var err error
		if pool.EnableAutoScaling, pool.MinCount, pool.MaxCount, err = f.autoscale.pool(cmd); err != nil {
			return err
		}
		if pool.EnableAutoScaling != nil && !cmd.Flags().Changed("node-count") {
			pool.Count = nil // the server starts the pool within min..max
		}
		if in.Properties.AutoScalerProfile, err = f.autoscale.profileMap(); err != nil {
			return err
		}
		in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{pool}
		in.Properties.NetworkProfile = &mlfleet.NetworkProfileInput{NetworkProfile: mlfleet.NetworkProfile{LoadBalancerSku: f.lbSku, OutboundType: f.outbound}}
		// The access profile is sent only when it restricts something: the server records
		// any profile it is sent, and a plain create's cluster should have none.
		if f.ranges != "" || f.private {
			in.Properties.APIServerAccessProfile = &mlfleet.APIServerAccessProfile{EnablePrivateCluster: f.private, AuthorizedIPRanges: splitList(f.ranges)}
		}
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		// Create only, as az: an existing cluster is refused (409) with a pointer to
		// `aks update` and `aks scale` rather than changed.
		_, p, err := c.BeginCreateOrUpdateManagedCluster(cmd.Context(), f.group, f.name, in, &mlfleet.ClusterOptions{IfNoneMatch: true})
		if err != nil {
			return err
		}
		return g.finishCluster(cmd, streams, c, p, f.noWait, f.group, f.name)
	})
	fl := cmd.Flags()
	fl.StringVarP(&f.location, "location", "l", "", "Location (default: the resource group's)")
	fl.IntVarP(&f.count, "node-count", "c", 3, "Number of nodes")
	fl.StringVarP(&f.vmSize, "node-vm-size", "s", "Standard_DS2_v2", "VM size of the nodes")
	fl.StringVar(&f.poolName, "nodepool-name", "nodepool1", "Name of the node pool")
	fl.StringVarP(&f.version, "kubernetes-version", "k", "", "Kubernetes version (default: the location's default)")
	fl.StringVar(&f.lbSku, "load-balancer-sku", "standard", "Load balancer SKU: standard or basic")
	fl.StringVar(&f.ranges, "api-server-authorized-ip-ranges", "", "Comma-separated IP ranges allowed to reach the API server")
	fl.BoolVar(&f.private, "enable-private-cluster", false, "Make the API server private")
	fl.StringVar(&f.outbound, "outbound-type", "loadBalancer", "Outbound type: loadBalancer or userDefinedRouting")
	fl.StringVar(&f.dnsPrefix, "dns-name-prefix", "", "DNS prefix (default: from the names)")
	noWaitFlag(cmd, &f.noWait)
	f.autoscale.bind(fl, false)
	f.autoscale.bindProfile(fl)
	return cmd
}

// finishCluster waits for a cluster operation (unless noWait) and prints the cluster as it
// then is, as az does (whose create, scale and update have no table of their own: -o
// table prints every field). The cluster is read again after the wait because the PUT's
// answer is the cluster as accepted (Creating, Updating), as the Go SDK GETs the resource
// once a PUT's operation succeeded.
func (g *globals) finishCluster(cmd *cobra.Command, streams Streams, c *mlfleet.Client, p *mlfleet.Poller, noWait bool, group, name string) error {
	if noWait {
		return nil
	}
	if err := wait(cmd, streams, p, false); err != nil {
		return err
	}
	mc, err := c.GetManagedCluster(cmd.Context(), group, name)
	if err != nil {
		return err
	}
	shaped, err := azClusters(mc)
	if err != nil {
		return err
	}
	return g.print(streams, shaped, nil)
}

// clusterFlags are -n and -g of commands on one cluster.
type clusterFlags struct{ name, group string }

func (f *clusterFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.name, "name", "n", "", "Name of the cluster")
	cmd.Flags().StringVarP(&f.group, "resource-group", "g", "", "Resource group")
}

// resolve checks -n and fills -g from the configured default.
func (f *clusterFlags) resolve() (err error) {
	if err = required(f.name, "--name/-n"); err == nil {
		f.group, err = withDefault(f.group, "group", "--resource-group/-g")
	}
	return err
}

func newAKSShow(streams Streams, g *globals) *cobra.Command {
	f := &clusterFlags{}
	return callCommand(streams, g, "show -n NAME -g GROUP", "Show a cluster", f, azClusters, clusterTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.GetManagedCluster(ctx, f.group, f.name)
	})
}

func newAKSList(streams Streams, g *globals) *cobra.Command {
	f := &groupScope{}
	return callCommand(streams, g, "list [-g GROUP]", "List clusters of a resource group, or of the subscription", f, azClusters, clusterTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.ListManagedClusters(ctx, f.group)
	})
}

func newAKSDelete(streams Streams, g *globals) *cobra.Command {
	f := &clusterFlags{}
	return deleteCommand(streams, g, "delete -n NAME -g GROUP", "Delete a cluster (a registered one is only forgotten)", f,
		func() string { return fmt.Sprintf("Are you sure you want to delete cluster '%s'?", f.name) },
		func(ctx context.Context, c *mlfleet.Client) (*mlfleet.Poller, error) {
			return c.BeginDeleteManagedCluster(ctx, f.group, f.name)
		})
}

// newAKSScale is `mlfleet aks scale`: a PUT of one agent pool's count. Like az, it needs
// --nodepool-name only when the cluster has more than one pool.
func newAKSScale(streams Streams, g *globals) *cobra.Command {
	f := &clusterFlags{}
	var count int
	var pool string
	var noWait bool
	cmd := command("scale -n NAME -g GROUP --node-count N", "Change the number of nodes of a node pool", f, func(cmd *cobra.Command) error {
		// Changed, not the value: 0 is a count the server judges, not a missing flag.
		if !cmd.Flags().Changed("node-count") {
			return usagef("the following arguments are required: --node-count/-c")
		}
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		if pool == "" {
			mc, err := c.GetManagedCluster(cmd.Context(), f.group, f.name)
			if err != nil {
				return err
			}
			if len(mc.Properties.AgentPoolProfiles) != 1 {
				return usagef("cluster '%s' has %d node pools; choose one with --nodepool-name", f.name, len(mc.Properties.AgentPoolProfiles))
			}
			pool = mc.Properties.AgentPoolProfiles[0].Name
		} else if pool, err = existingPool(cmd, c, f.group, f.name, pool); err != nil {
			return err
		}
		_, p, err := c.BeginScaleAgentPool(cmd.Context(), f.group, f.name, pool, count)
		if err != nil {
			return err
		}
		return g.finishCluster(cmd, streams, c, p, noWait, f.group, f.name)
	})
	cmd.Flags().IntVarP(&count, "node-count", "c", 0, "Number of nodes")
	cmd.Flags().StringVar(&pool, "nodepool-name", "", "Node pool to scale (default: the only one)")
	noWaitFlag(cmd, &noWait)
	return cmd
}

// newAKSUpdate is `mlfleet aks update`: the API server's authorized IP ranges (S15) and
// the cluster autoscaler (B6). It sends a partial cluster PUT: what the body leaves out
// (pools not named, a nil autoscaler profile, no access profile) the server keeps.
func newAKSUpdate(streams Streams, g *globals) *cobra.Command {
	f := &clusterFlags{}
	var ranges, pool string
	var noWait bool
	a := &autoscaleFlags{}
	cmd := command("update -n NAME -g GROUP [--api-server-authorized-ip-ranges RANGES] [--enable-cluster-autoscaler --min-count N --max-count M]", "Change a cluster's API server authorized IP ranges (\"\" removes them) or its cluster autoscaler", f, func(cmd *cobra.Command) error {
		setRanges := cmd.Flags().Changed("api-server-authorized-ip-ranges")
		if !setRanges && !a.changed(cmd) {
			return usagef("nothing to update: give --api-server-authorized-ip-ranges, --enable-cluster-autoscaler, --disable-cluster-autoscaler, --update-cluster-autoscaler or --cluster-autoscaler-profile")
		}
		enable, lo, hi, err := a.pool(cmd)
		if err != nil {
			return err
		}
		profile, err := a.profileMap()
		if err != nil {
			return err
		}
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		// The current cluster names the only pool when --nodepool-name is missing, and
		// says whether the cluster is private (below).
		cur, err := c.GetManagedCluster(cmd.Context(), f.group, f.name)
		if err != nil {
			return err
		}
		in := &mlfleet.ClusterInput{}
		in.Properties.AutoScalerProfile = profile
		if enable != nil {
			if pool == "" {
				if len(cur.Properties.AgentPoolProfiles) != 1 {
					return usagef("cluster '%s' has %d node pools; use aks nodepool update, or choose one with --nodepool-name", f.name, len(cur.Properties.AgentPoolProfiles))
				}
				pool = cur.Properties.AgentPoolProfiles[0].Name
			}
			// As az, the pool is read and the flags are checked against its autoscaler. A
			// pool the cluster lacks is the server's 404, which names the pools it has.
			ap, err := c.GetAgentPool(cmd.Context(), f.group, f.name, pool)
			if err != nil {
				return err
			}
			pool = ap.Name
			warning, drop, err := a.againstPool(ap.Properties.EnableAutoScaling, "mlfleet aks update", "managed cluster")
			if err != nil {
				return err
			}
			if warning != "" {
				fmt.Fprintf(streams.Err, "WARNING: %s\n", warning)
			}
			if drop && profile == nil && !setRanges {
				return nil // nothing left to change, as az ends
			}
			if drop {
				enable = nil
			}
		}
		if enable != nil {
			in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: pool, EnableAutoScaling: enable, MinCount: lo, MaxCount: hi}}
		}
		if setRanges {
			// A profile without ranges (--api-server-authorized-ip-ranges "") removes them.
			// enablePrivateCluster is copied from the cluster because the server compares it
			// and refuses to make a cluster private or public after creation.
			in.Properties.APIServerAccessProfile = &mlfleet.APIServerAccessProfile{AuthorizedIPRanges: splitList(ranges)}
			if ap := cur.Properties.APIServerAccessProfile; ap != nil {
				in.Properties.APIServerAccessProfile.EnablePrivateCluster = ap.EnablePrivateCluster
			}
			if in.Properties.APIServerAccessProfile.AuthorizedIPRanges == nil {
				in.Properties.APIServerAccessProfile.AuthorizedIPRanges = []string{}
			}
		}
		_, p, err := c.BeginCreateOrUpdateManagedCluster(cmd.Context(), f.group, f.name, in, nil)
		if err != nil {
			return err
		}
		return g.finishCluster(cmd, streams, c, p, noWait, f.group, f.name)
	})
	cmd.Flags().StringVar(&ranges, "api-server-authorized-ip-ranges", "", "Comma-separated IP ranges allowed to reach the API server")
	cmd.Flags().StringVar(&pool, "nodepool-name", "", "Node pool whose autoscaler to change (default: the only one)")
	noWaitFlag(cmd, &noWait)
	a.bind(cmd.Flags(), true)
	a.bindProfile(cmd.Flags())
	return cmd
}

// newAKSImport is `mlfleet aks import`, mlfleet's own command (az has none): it registers
// an existing cluster from its kubeconfig as a managedClusters resource of provider
// external (S25), which can then be attached by resource id like any other. The
// kubeconfig is read here and sent in the PUT body; the server keeps it encrypted and
// reads the cluster's version and nodes from the live cluster.
func newAKSImport(streams Streams, g *globals) *cobra.Command {
	f := &clusterFlags{}
	var kubeconfig, kubeContext, location string
	var noWait bool
	cmd := command("import -n NAME -g GROUP --kubeconfig FILE [--context CTX]", "Register an existing cluster (kind, k3s, EKS, GKE, ...) from its kubeconfig", f, func(cmd *cobra.Command) error {
		if err := required(kubeconfig, "--kubeconfig"); err != nil {
			return err
		}
		kc, err := sendableKubeconfig(kubeconfig, kubeContext)
		if err != nil {
			return err
		}
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		_, p, err := c.BeginImportManagedCluster(cmd.Context(), f.group, f.name, location, kc, kubeContext)
		if err != nil {
			return err
		}
		return g.finishCluster(cmd, streams, c, p, noWait, f.group, f.name)
	})
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "Kubeconfig file of the cluster")
	cmd.Flags().StringVar(&kubeContext, "context", "", "Context of the kubeconfig (default: its current context)")
	cmd.Flags().StringVarP(&location, "location", "l", "", "Location to record (default: the resource group's)")
	noWaitFlag(cmd, &noWait)
	return cmd
}

// sendableKubeconfig reads the kubeconfig file at path and returns what aks import sends:
// only the context named ("" = the current one) with its cluster and user, the files they
// name (certificates, keys, a token file; relative to the kubeconfig, as kubectl reads
// them) read into the kubeconfig. The server reads the kubeconfig on its own machine, where
// this machine's paths mean nothing, and refuses one that names files or runs a program.
func sendableKubeconfig(path, kubeContext string) ([]byte, error) {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig: %w", err)
	}
	if kubeContext != "" {
		if _, ok := cfg.Contexts[kubeContext]; !ok {
			return nil, usagef("--context %q is not a context of %s (kubectl config get-contexts --kubeconfig %s lists them)", kubeContext, path, path)
		}
		cfg.CurrentContext = kubeContext
	}
	if cfg.CurrentContext == "" {
		return nil, usagef("%s has no current context: name one with --context", path)
	}
	if err := clientcmdapi.MinifyConfig(cfg); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if err := clientcmdapi.FlattenConfig(cfg); err != nil {
		return nil, fmt.Errorf("kubeconfig %s: read the files it names: %w", path, err)
	}
	return clientcmd.Write(*cfg)
}

// splitList reads a list flag whose items are separated by commas or spaces; "" gives
// nil.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
