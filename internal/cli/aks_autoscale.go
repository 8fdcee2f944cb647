package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// autoscaleFlags are az's cluster autoscaler flags (B6), shared by aks create, aks update
// and aks nodepool update. Here only their combinations are checked; the bounds against
// the pool (range, a System pool's minimum, the cluster purpose) are the server's.
type autoscaleFlags struct {
	enable, disable, update bool
	min, max                int
	profile                 []string
}

// bind binds the flags; changing adds --disable-cluster-autoscaler and
// --update-cluster-autoscaler, which only a command on an existing pool has.
func (a *autoscaleFlags) bind(fl *pflag.FlagSet, changing bool) {
	fl.BoolVar(&a.enable, "enable-cluster-autoscaler", false, "Let the cluster autoscaler set the node count between --min-count and --max-count")
	if changing {
		fl.BoolVar(&a.disable, "disable-cluster-autoscaler", false, "Turn the cluster autoscaler off (the node count stays as it is)")
		fl.BoolVar(&a.update, "update-cluster-autoscaler", false, "Change --min-count and --max-count of an autoscaled node pool")
	}
	fl.IntVar(&a.min, "min-count", 0, "Fewest nodes the cluster autoscaler keeps")
	fl.IntVar(&a.max, "max-count", 0, "Most nodes the cluster autoscaler adds")
}

// bindProfile binds --cluster-autoscaler-profile, which only the cluster's commands have:
// the profile is the cluster's, one for all its pools, so az aks nodepool update has none.
func (a *autoscaleFlags) bindProfile(fl *pflag.FlagSet) {
	fl.StringSliceVar(&a.profile, "cluster-autoscaler-profile", nil, "Autoscaler settings as key=value, space- or comma-separated (scan-interval=30s scale-down-unneeded-time=5m)")
	severalWords(fl, "cluster-autoscaler-profile")
}

// changed reports whether any autoscaler flag was given. It looks flags up by name
// because a command bound without changing has no --disable or --update flag.
func (a *autoscaleFlags) changed(cmd *cobra.Command) bool {
	for _, n := range []string{"enable-cluster-autoscaler", "disable-cluster-autoscaler", "update-cluster-autoscaler", "min-count", "max-count", "cluster-autoscaler-profile"} {
		if f := cmd.Flags().Lookup(n); f != nil && f.Changed {
			return true
		}
	}
	return false
}

// pool checks the flags as az does, with az's messages, and returns the pool settings they
// ask for: enable, min and max (nil = unchanged). Enabling or updating needs both bounds,
// as in az, although the server could keep one of the pool's current bounds.
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

// againstPool checks the flags against the autoscaler of the pool they change, which the
// caller has just read, as az does before it sends anything (acs aks_agentpool_update,
// aks_update). --update-cluster-autoscaler on a pool whose autoscaler is off is refused:
// sending the bounds would turn the autoscaler on unasked, and it may then remove nodes.
// --enable-cluster-autoscaler on a pool whose autoscaler is on, and
// --disable-cluster-autoscaler on one whose autoscaler is off, change nothing: drop is
// true and warning says why. command is the command that changes the autoscaler
// ("mlfleet aks nodepool update"), what the thing it changes ("node pool").
func (a *autoscaleFlags) againstPool(on bool, command, what string) (warning string, drop bool, err error) {
	switch {
	case a.update && !on:
		return "", false, fmt.Errorf(`cluster autoscaler is not enabled for this %s. Run "%s --enable-cluster-autoscaler" to enable it with min-count and max-count`, what, command)
	case a.enable && on:
		return fmt.Sprintf(`Cluster autoscaler is already enabled for this %s. Please run "%s --update-cluster-autoscaler" if you want to update min-count or max-count.`, what, command), true, nil
	case a.disable && !on:
		return fmt.Sprintf("Cluster autoscaler is already disabled for this %s.", what), true, nil
	}
	return "", false, nil
}
