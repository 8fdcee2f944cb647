package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// autoscaleFlags are az's cluster autoscaler flags, shared by aks create, aks update and
// aks nodepool update.
type autoscaleFlags struct {
	enable, disable, update bool
	min, max                int
	profile                 []string
}

func (a *autoscaleFlags) bind(fl *pflag.FlagSet, changing bool) {
	fl.BoolVar(&a.enable, "enable-cluster-autoscaler", false, "Let the cluster autoscaler set the node count between --min-count and --max-count")
	if changing {
		fl.BoolVar(&a.disable, "disable-cluster-autoscaler", false, "Turn the cluster autoscaler off (the node count stays as it is)")
		fl.BoolVar(&a.update, "update-cluster-autoscaler", false, "Change --min-count and --max-count of an autoscaled node pool")
	}
	fl.IntVar(&a.min, "min-count", 0, "Fewest nodes the cluster autoscaler keeps")
	fl.IntVar(&a.max, "max-count", 0, "Most nodes the cluster autoscaler adds")
	fl.StringSliceVar(&a.profile, "cluster-autoscaler-profile", nil, "Autoscaler settings as key=value, space- or comma-separated (scan-interval=30s scale-down-unneeded-time=5m)")
}

// changed reports whether any autoscaler flag was given.
func (a *autoscaleFlags) changed(cmd *cobra.Command) bool {
	for _, n := range []string{"enable-cluster-autoscaler", "disable-cluster-autoscaler", "update-cluster-autoscaler", "min-count", "max-count", "cluster-autoscaler-profile"} {
		if f := cmd.Flags().Lookup(n); f != nil && f.Changed {
			return true
		}
	}
	return false
}

// pool checks the flags as az does and returns the pool settings they ask for: enable,
// min and max (nil = unchanged).
func (a *autoscaleFlags) pool(cmd *cobra.Command) (enable *bool, lo, hi *int, err error) {
	n := 0
	for _, b := range []bool{a.enable, a.disable, a.update} {
		if b {
			n++
		}
	}
	bounds := cmd.Flags().Changed("min-count") || cmd.Flags().Changed("max-count")
	switch {
	case n > 1:
		return nil, nil, nil, usagef("specify only one of --enable-cluster-autoscaler, --disable-cluster-autoscaler and --update-cluster-autoscaler")
	case a.disable && bounds:
		return nil, nil, nil, usagef("--min-count and --max-count cannot be used with --disable-cluster-autoscaler")
	case a.disable:
		off := false
		return &off, nil, nil, nil
	case (a.enable || a.update) && (!cmd.Flags().Changed("min-count") || !cmd.Flags().Changed("max-count")):
		return nil, nil, nil, usagef("please specify both --min-count and --max-count")
	case bounds && n == 0:
		return nil, nil, nil, usagef("--min-count and --max-count need --enable-cluster-autoscaler or --update-cluster-autoscaler")
	case a.enable || a.update:
		if a.min > a.max {
			return nil, nil, nil, usagef("value of min-count should be less than or equal to value of max-count")
		}
		on := true
		lo, hi := a.min, a.max
		return &on, &lo, &hi, nil
	}
	return nil, nil, nil, nil
}

// profileMap parses --cluster-autoscaler-profile; nil when it was not given.
func (a *autoscaleFlags) profileMap() (mlfleet.AutoScalerProfile, error) {
	if len(a.profile) == 0 {
		return nil, nil
	}
	out := mlfleet.AutoScalerProfile{}
	for _, item := range a.profile {
		for _, kv := range strings.Fields(item) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, usagef("--cluster-autoscaler-profile takes key=value pairs, not '%s'", kv)
			}
			// az accepts underscores too (scan_interval); the wire keys use hyphens.
			out[strings.ReplaceAll(k, "_", "-")] = v
		}
	}
	return out, nil
}

func newAKSNodepool(streams Streams, g *globals) *cobra.Command {
	return parent("nodepool", "Manage the node pools of a Kubernetes cluster", newAKSNodepoolUpdate(streams, g))
}

func newAKSNodepoolUpdate(streams Streams, g *globals) *cobra.Command {
	var cluster, group, pool string
	var noWait bool
	a := &autoscaleFlags{}
	use := "update --cluster-name CLUSTER -n POOL -g GROUP --enable-cluster-autoscaler --min-count N --max-count M"
	cmd := leaf(use, "Change a node pool's cluster autoscaler", func(cmd *cobra.Command) error {
		if err := required(cluster, "--cluster-name"); err != nil {
			return err
		}
		if err := required(pool, "--name/-n"); err != nil {
			return err
		}
		group, err := withDefault(group, "group", "--resource-group/-g")
		if err != nil {
			return err
		}
		enable, lo, hi, err := a.pool(cmd)
		if err != nil {
			return err
		}
		if enable == nil {
			return usagef("nothing to update: give --enable-cluster-autoscaler, --disable-cluster-autoscaler or --update-cluster-autoscaler")
		}
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		var body mlfleet.AgentPoolPut
		body.Properties.EnableAutoScaling, body.Properties.MinCount, body.Properties.MaxCount = enable, lo, hi
		_, p, err := c.BeginUpdateAgentPool(cmd.Context(), group, cluster, pool, body)
		if err != nil {
			return err
		}
		if err := wait(cmd, streams, p, noWait); err != nil || noWait {
			return err
		}
		ap, err := c.GetAgentPool(cmd.Context(), group, cluster, pool)
		if err != nil {
			return err
		}
		return g.print(streams, ap, nil)
	})
	fl := cmd.Flags()
	fl.StringVar(&cluster, "cluster-name", "", "Name of the cluster")
	fl.StringVarP(&pool, "name", "n", "", "Name of the node pool")
	fl.StringVarP(&group, "resource-group", "g", "", "Resource group")
	noWaitFlag(cmd, &noWait)
	a.bind(fl, true)
	return cmd
}
