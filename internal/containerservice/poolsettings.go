package containerservice

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// AKS's defaults and limits of a pool's node settings.
const (
	// DefaultMaxPods is how many pods a node runs when the pool does not say (kubenet).
	DefaultMaxPods = 110
	MinMaxPods     = 10
	MaxMaxPods     = 250
	// DefaultOSDiskSizeGB is the OS disk of a node when the pool does not say.
	DefaultOSDiskSizeGB = 128
	// MinOSDiskSizeGB is AKS's smallest OS disk; 0 asks for the default.
	MinOSDiskSizeGB = 30
	MaxOSDiskSizeGB = 2048
)

// reservedLabelDomains are the label domains AKS and Kubernetes set on nodes themselves:
// a pool's labels may not use them (the node's own value would win, silently).
var reservedLabelDomains = []string{"kubernetes.azure.com", "kubernetes.io", "k8s.io"}

// newPoolSettings checks the node settings of a pool being created and sets them on pool,
// with AKS's defaults.
func newPoolSettings(target string, in armapi.AgentPoolSettings, pool *armapi.AgentPoolProfile, errs *arm.Problems) {
	pool.MaxPods = DefaultMaxPods
	if in.MaxPods != nil {
		pool.MaxPods = *in.MaxPods
		if pool.MaxPods < MinMaxPods || pool.MaxPods > MaxMaxPods {
			errs.Add("InvalidParameter", target+".maxPods", "Agent pool '%s' maxPods %d is out of range: use %d to %d.", pool.Name, pool.MaxPods, MinMaxPods, MaxMaxPods)
		}
	}
	pool.OSDiskSizeGB = DefaultOSDiskSizeGB
	if in.OSDiskSizeGB != nil && *in.OSDiskSizeGB != 0 {
		pool.OSDiskSizeGB = *in.OSDiskSizeGB
		if pool.OSDiskSizeGB < MinOSDiskSizeGB || pool.OSDiskSizeGB > MaxOSDiskSizeGB {
			errs.Add("InvalidParameter", target+".osDiskSizeGB", "Agent pool '%s' osDiskSizeGB %d is out of range: use %d to %d, or 0 for the default (%d).", pool.Name, pool.OSDiskSizeGB, MinOSDiskSizeGB, MaxOSDiskSizeGB, DefaultOSDiskSizeGB)
		}
	}
	pool.NodeLabels = checkNodeLabels(target+".nodeLabels", pool.Name, in.NodeLabels, errs)
	pool.NodeTaints = checkNodeTaints(target+".nodeTaints", pool.Name, in.NodeTaints, errs)
	pool.Tags = checkPoolTags(target+".tags", in.Tags, errs)
}

// updatePoolSettings checks the node settings of an update of the stored pool cur and sets
// the changed ones on next. It reports whether the nodes' labels or taints change, which
// the provider must then apply. maxPods and osDiskSizeGB cannot change, as on AKS; a
// request that repeats them passes. A provider that cannot change the nodes (canScale
// false: the cluster runs elsewhere) refuses a change of labels, taints or maxPods.
func updatePoolSettings(target string, in armapi.AgentPoolSettings, cur armapi.AgentPoolProfile, next *armapi.AgentPoolProfile, info provider.Info, errs *arm.Problems) bool {
	elsewhere := func(field, what string) {
		errs.Add("InvalidParameter", target+"."+field, "Clusters of the %s provider are set where they run: the %s of their nodes cannot be changed through mlfleet.", info.Name, what)
	}
	if in.MaxPods != nil && *in.MaxPods != maxPods(cur) {
		if !info.CanScale {
			elsewhere("maxPods", "maxPods")
		} else {
			errs.Add("PropertyChangeNotAllowed", target+".maxPods", "Agent pool '%s' runs at most %d pods a node; maxPods cannot be changed after the pool is created. Create a new cluster with the maxPods you need.", cur.Name, maxPods(cur))
		}
	}
	if in.OSDiskSizeGB != nil && *in.OSDiskSizeGB != 0 && cur.OSDiskSizeGB != 0 && *in.OSDiskSizeGB != cur.OSDiskSizeGB {
		errs.Add("PropertyChangeNotAllowed", target+".osDiskSizeGB", "The OS disk of agent pool '%s' is %d GB and cannot be changed; create a new cluster with the size you need.", cur.Name, cur.OSDiskSizeGB)
	}
	if in.Tags != nil {
		next.Tags = checkPoolTags(target+".tags", in.Tags, errs)
	}
	changed := false
	if in.NodeLabels != nil {
		labels := checkNodeLabels(target+".nodeLabels", cur.Name, in.NodeLabels, errs)
		if !maps.Equal(labels, cur.NodeLabels) {
			if !info.CanScale {
				elsewhere("nodeLabels", "labels")
			}
			next.NodeLabels, changed = labels, true
		}
	}
	if in.NodeTaints != nil {
		taints := checkNodeTaints(target+".nodeTaints", cur.Name, in.NodeTaints, errs)
		if !slices.Equal(taints, cur.NodeTaints) {
			if !info.CanScale {
				elsewhere("nodeTaints", "taints")
			}
			next.NodeTaints, changed = taints, true
		}
	}
	return changed
}

// maxPods is the pods a node of pool runs: DefaultMaxPods for pools stored before maxPods.
func maxPods(pool armapi.AgentPoolProfile) int {
	if pool.MaxPods == 0 {
		return DefaultMaxPods
	}
	return pool.MaxPods
}

// checkNodeLabels checks a pool's node labels by Kubernetes' rules and returns them (nil
// for none).
func checkNodeLabels(target, pool string, labels map[string]string, errs *arm.Problems) map[string]string {
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			errs.Add("InvalidParameter", target, "Agent pool '%s' node label key '%s' is invalid: %s.", pool, k, strings.Join(msgs, "; "))
		} else if reservedLabel(k) {
			errs.Add("InvalidParameter", target, "Agent pool '%s' node label key '%s' is reserved: the domains %s are set by AKS and Kubernetes.", pool, k, strings.Join(reservedLabelDomains, ", "))
		}
		if msgs := validation.IsValidLabelValue(labels[k]); len(msgs) > 0 {
			errs.Add("InvalidParameter", target, "Agent pool '%s' node label '%s' has an invalid value '%s': %s.", pool, k, labels[k], strings.Join(msgs, "; "))
		}
	}
	if len(labels) == 0 {
		return nil
	}
	return maps.Clone(labels)
}

// reservedLabel says whether a label key is in a domain the nodes' own labels use, or is
// one of AKS's unprefixed ones.
func reservedLabel(key string) bool {
	domain, _, ok := strings.Cut(key, "/")
	if !ok {
		return key == "agentpool"
	}
	for _, d := range reservedLabelDomains {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

// checkNodeTaints checks a pool's node taints ("key=value:Effect") and returns them (nil
// for none).
func checkNodeTaints(target, pool string, taints []string, errs *arm.Problems) []string {
	seen := map[string]bool{}
	for _, s := range taints {
		t, err := parseTaint(s)
		if err != nil {
			errs.Add("InvalidParameter", target, "Agent pool '%s' node taint '%s' is invalid: %v.", pool, s, err)
			continue
		}
		if id := t.Key + ":" + t.Effect; seen[id] {
			errs.Add("InvalidParameter", target, "Agent pool '%s' has two node taints of key '%s' and effect %s.", pool, t.Key, t.Effect)
		} else {
			seen[id] = true
		}
	}
	if len(taints) == 0 {
		return nil
	}
	return slices.Clone(taints)
}

// taintEffects are the effects a taint can have.
var taintEffects = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}

// parseTaint reads a taint as AKS writes it, "key=value:Effect" (the value may be left
// out: "key:Effect"), by Kubernetes' rules for keys and values.
func parseTaint(s string) (provider.Taint, error) {
	kv, effect, ok := strings.Cut(s, ":")
	if !ok || strings.Contains(effect, ":") {
		return provider.Taint{}, errors.New("write it key=value:Effect")
	}
	if !slices.Contains(taintEffects, effect) {
		return provider.Taint{}, fmt.Errorf("effect '%s' is not one of %s", effect, strings.Join(taintEffects, ", "))
	}
	key, value, _ := strings.Cut(kv, "=")
	if msgs := validation.IsQualifiedName(key); len(msgs) > 0 {
		return provider.Taint{}, fmt.Errorf("key '%s': %s", key, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsValidLabelValue(value); len(msgs) > 0 {
		return provider.Taint{}, fmt.Errorf("value '%s': %s", value, strings.Join(msgs, "; "))
	}
	return provider.Taint{Key: key, Value: value, Effect: effect}, nil
}

// checkPoolTags checks a pool's tags by ARM's rules and returns them (nil for none).
func checkPoolTags(target string, tags map[string]string, errs *arm.Problems) map[string]string {
	if err := arm.CheckTags(tags); err != nil {
		var ae *arm.Error
		if errors.As(err, &ae) {
			*errs = append(*errs, ae.WithTarget(target))
		}
		return nil
	}
	if len(tags) == 0 {
		return nil
	}
	return maps.Clone(tags)
}

// nodePool is the provider's view of a stored pool: its size and its nodes' settings.
func nodePool(ap armapi.AgentPoolProfile) provider.NodePool {
	pool := provider.NodePool{Name: ap.Name, Count: ap.Count, VMSize: ap.VMSize, Mode: ap.Mode,
		Labels: maps.Clone(ap.NodeLabels), MaxPods: ap.MaxPods}
	for _, s := range ap.NodeTaints {
		// Checked when stored; a taint that no longer reads is left off rather than
		// keep the cluster from starting.
		if t, err := parseTaint(s); err == nil {
			pool.Taints = append(pool.Taints, t)
		}
	}
	return pool
}
