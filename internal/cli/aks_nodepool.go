package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func newAKSNodepool(streams Streams, g *globals) *cobra.Command {
	return parent("nodepool", "Manage the node pools of a Kubernetes cluster",
		newAKSNodepoolList(streams, g), newAKSNodepoolShow(streams, g), newAKSNodepoolScale(streams, g), newAKSNodepoolUpdate(streams, g))
}

// poolTable reads az's shape of agent pools (see azPools), with az's columns.
func poolTable(v any) any {
	return rows(v, func(m map[string]any) row {
		r := row{{"Name", m["name"]}, {"OsType", m["osType"]}, {"KubernetesVersion", m["orchestratorVersion"]}, {"VmSize", m["vmSize"]},
			{"Count", m["count"]}}
		// az leaves out the column of a pool without maxPods (a registered cluster's).
		if m["maxPods"] != nil {
			r = append(r, cell{"MaxPods", m["maxPods"]})
		}
		return append(r, cell{"ProvisioningState", m["provisioningState"]}, cell{"Mode", m["mode"]})
	})
}

// poolFlags are --cluster-name, -g and, for commands on one pool (onePool), -n: az's
// nodepool grammar, where -n names the pool, not the cluster.
type poolFlags struct {
	cluster, group, name string
	onePool              bool
}

func (f *poolFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.cluster, "cluster-name", "", "Name of the cluster")
	fl.StringVarP(&f.group, "resource-group", "g", "", "Resource group")
	if f.onePool {
		fl.StringVarP(&f.name, "name", "n", "", "Name of the node pool")
	}
}

// resolve checks --cluster-name (and -n when onePool) and fills -g from the configured
// default.
func (f *poolFlags) resolve() (err error) {
	if err = required(f.cluster, "--cluster-name"); err != nil {
		return err
	}
	if f.onePool {
		if err = required(f.name, "--name/-n"); err != nil {
			return err
		}
	}
	f.group, err = withDefault(f.group, "group", "--resource-group/-g")
	return err
}

func newAKSNodepoolList(streams Streams, g *globals) *cobra.Command {
	f := &poolFlags{}
	return callCommand(streams, g, "list --cluster-name CLUSTER -g GROUP", "List the node pools of a cluster", f, azPools, poolTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.ListAgentPools(ctx, f.group, f.cluster)
	})
}

func newAKSNodepoolShow(streams Streams, g *globals) *cobra.Command {
	f := &poolFlags{onePool: true}
	return callCommand(streams, g, "show --cluster-name CLUSTER -n POOL -g GROUP", "Show a node pool", f, azPools, poolTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.GetAgentPool(ctx, f.group, f.cluster, f.name)
	})
}

func newAKSNodepoolScale(streams Streams, g *globals) *cobra.Command {
	f := &poolFlags{onePool: true}
	var count int
	var noWait bool
	cmd := command("scale --cluster-name CLUSTER -n POOL -g GROUP --node-count N", "Change the number of nodes of a node pool", f, func(cmd *cobra.Command) error {
		if !cmd.Flags().Changed("node-count") {
			return usagef("the following arguments are required: --node-count/-c")
		}
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		if f.name, err = existingPool(cmd, c, f.group, f.cluster, f.name); err != nil {
			return err
		}
		_, p, err := c.BeginScaleAgentPool(cmd.Context(), f.group, f.cluster, f.name, count)
		if err != nil {
			return err
		}
		return g.finishPool(cmd, streams, p, noWait, f)
	})
	cmd.Flags().IntVarP(&count, "node-count", "c", 0, "Number of nodes")
	noWaitFlag(cmd, &noWait)
	return cmd
}

// newAKSNodepoolUpdate is `mlfleet aks nodepool update`: one pool's cluster autoscaler
// (B6), node labels and node taints, a PUT of the agent pool with only the fields given
// set; the server keeps the pool's count, VM size and whatever else the body leaves unset.
func newAKSNodepoolUpdate(streams Streams, g *globals) *cobra.Command {
	f := &poolFlags{onePool: true}
	var noWait bool
	a := &autoscaleFlags{}
	n := &nodeFlags{}
	use := "update --cluster-name CLUSTER -n POOL -g GROUP [--enable-cluster-autoscaler --min-count N --max-count M] [--labels K=V ...] [--node-taints K=V:Effect,...]"
	cmd := command(use, "Change a node pool's cluster autoscaler, node labels or node taints", f, func(cmd *cobra.Command) error {
		enable, lo, hi, err := a.pool(cmd)
		if err != nil {
			return err
		}
		labels, taints, err := n.settings(cmd)
		if err != nil {
			return err
		}
		if enable == nil && labels == nil && taints == nil {
			return usagef("nothing to update: give --enable-cluster-autoscaler, --disable-cluster-autoscaler, --update-cluster-autoscaler, --labels or --node-taints")
		}
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		// As az, the pool is read first, as existingPool does, and the autoscaler flags
		// are checked against its autoscaler.
		cur, err := c.GetAgentPool(cmd.Context(), f.group, f.cluster, f.name)
		if err != nil {
			return err
		}
		f.name = cur.Name
		if enable != nil {
			warning, drop, err := a.againstPool(cur.Properties.EnableAutoScaling, "mlfleet aks nodepool update", "node pool")
			if err != nil {
				return err
			}
			if warning != "" {
				fmt.Fprintf(streams.Err, "WARNING: %s\n", warning)
			}
			if drop {
				enable, lo, hi = nil, nil, nil
				if labels == nil && taints == nil {
					return nil // nothing left to change, as az ends
				}
			}
		}
		var body mlfleet.AgentPoolPut
		body.Properties.EnableAutoScaling, body.Properties.MinCount, body.Properties.MaxCount = enable, lo, hi
		body.Properties.NodeLabels, body.Properties.NodeTaints = labels, taints
		_, p, err := c.BeginUpdateAgentPool(cmd.Context(), f.group, f.cluster, f.name, body)
		if err != nil {
			return err
		}
		return g.finishPool(cmd, streams, p, noWait, f)
	})
	noWaitFlag(cmd, &noWait)
	a.bind(cmd.Flags(), true)
	n.bind(cmd.Flags())
	return cmd
}

// nodeFlags are az aks nodepool update's --labels and --node-taints. Each replaces the
// pool's whole set, as in az; "" clears it.
type nodeFlags struct {
	labels []string
	taints string
}

func (n *nodeFlags) bind(fl *pflag.FlagSet) {
	fl.StringArrayVar(&n.labels, "labels", nil, `Node labels, space-separated key=value; they replace the pool's labels, "" clears them`)
	severalWords(fl, "labels")
	fl.StringVar(&n.taints, "node-taints", "", `Node taints, comma-separated key=value:Effect (NoSchedule, PreferNoSchedule or NoExecute); they replace the pool's taints, "" clears them`)
}

// settings returns the labels and taints the flags ask for: nil for a flag not given, and
// empty, which the server reads as "clear", for one given "". Only the grammar is checked
// here; the keys, values and effects are checked by the server, which has Kubernetes'
// rules and says which item is wrong.
func (n *nodeFlags) settings(cmd *cobra.Command) (map[string]string, []string, error) {
	var labels map[string]string
	if cmd.Flags().Changed("labels") {
		labels = map[string]string{}
		for _, item := range n.labels {
			// One quoted value may hold several labels: --labels "a=1 b=2".
			for _, kv := range strings.Fields(item) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" || strings.Contains(v, "=") {
					return nil, nil, usagef("invalid label %q: write labels as key=value", kv)
				}
				labels[k] = v
			}
		}
	}
	var taints []string
	if cmd.Flags().Changed("node-taints") {
		taints = []string{}
		if strings.TrimSpace(n.taints) != "" {
			for _, t := range strings.Split(n.taints, ",") {
				taints = append(taints, strings.TrimSpace(t))
			}
		}
	}
	return labels, taints, nil
}

// finishPool waits for an agent pool operation (unless noWait) and prints the pool as it
// then is, as az does (whose scale and update have no table of their own: -o table
// prints every field). As in finishCluster, the pool is read again after the wait: the
// PUT's answer was the pool as accepted.
func (g *globals) finishPool(cmd *cobra.Command, streams Streams, p *mlfleet.Poller, noWait bool, f *poolFlags) error {
	if err := wait(cmd, streams, p, noWait); err != nil || noWait {
		return err
	}
	return g.callAs(streams, azPools, nil, func(c *mlfleet.Client) (any, error) {
		return c.GetAgentPool(cmd.Context(), f.group, f.cluster, f.name)
	})
}

// existingPool reads the agent pool that a scale or an update changes and returns its
// name as the server spells it, as az reads the pool first. The changes go in a PUT, and
// a PUT of a pool the cluster lacks is an add, which mlfleet refuses as such; read first,
// a pool that does not exist is the server's 404 naming the pools the cluster has, and
// NODEPOOL1 is nodepool1, since ARM names are case-insensitive.
func existingPool(cmd *cobra.Command, c *mlfleet.Client, group, cluster, pool string) (string, error) {
	ap, err := c.GetAgentPool(cmd.Context(), group, cluster, pool)
	if err != nil {
		return "", err
	}
	return ap.Name, nil
}
