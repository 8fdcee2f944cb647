package containerservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// MaxPoolCount is the most nodes one agent pool may have, counted or autoscaled.
const MaxPoolCount = 100

// profileKey describes one key of properties.autoScalerProfile.
type profileKey struct {
	def  any // AKS's default: a string, or a bool for the daemonset-* keys
	kind string
	// fixed keys (defaultOnly) are not implemented by mlfleet's autoscaler: only their
	// default is accepted (az sends the whole profile back on every update), any other
	// value is refused rather than stored and ignored.
	fixed bool
}

// Whether mlfleet's autoscaler does what a profile key says (profileKey.fixed).
const (
	honoured    = false
	defaultOnly = true
)

// Kinds of autoScalerProfile values.
const (
	kindDuration = "duration"
	// kindPeriod is a duration that must be above zero: scan-interval, the time between
	// two scans, which at 0 would be a busy loop. The runtime would ignore a 0 and scan
	// at the default while the cluster showed 0s, so it is refused instead.
	kindPeriod  = "period"
	kindInt     = "int"
	kindPercent = "percent"
	// kindRatio is a share above 0 and at most 1: the utilization threshold, under which
	// no node would ever be at 0 (the runtime would take the default instead).
	kindRatio     = "ratio"
	kindBoolText  = "bool-text"
	kindBool      = "bool"
	kindExpander  = "expander"
	kindNonNegInt = "non-negative int"
)

// autoScalerKeys are AKS's cluster autoscaler profile keys with AKS's defaults.
var autoScalerKeys = map[string]profileKey{
	"balance-similar-node-groups":           {"false", kindBoolText, defaultOnly},
	"daemonset-eviction-for-empty-nodes":    {false, kindBool, defaultOnly},
	"daemonset-eviction-for-occupied-nodes": {true, kindBool, defaultOnly},
	"expander":                              {"random", kindExpander, honoured},
	"ignore-daemonsets-utilization":         {false, kindBool, honoured},
	"max-empty-bulk-delete":                 {"10", kindInt, honoured},
	"max-graceful-termination-sec":          {"600", kindInt, honoured}, // 0 would be the runtime's default
	"max-node-provision-time":               {"15m", kindDuration, defaultOnly},
	"max-total-unready-percentage":          {"45", kindPercent, defaultOnly},
	"new-pod-scale-up-delay":                {"0s", kindDuration, honoured},
	"ok-total-unready-count":                {"3", kindNonNegInt, defaultOnly},
	"scale-down-delay-after-add":            {"10m", kindDuration, honoured},
	"scale-down-delay-after-delete":         {"10s", kindDuration, honoured},
	"scale-down-delay-after-failure":        {"3m", kindDuration, honoured},
	"scale-down-unneeded-time":              {"10m", kindDuration, honoured},
	"scale-down-unready-time":               {"20m", kindDuration, defaultOnly},
	"scale-down-utilization-threshold":      {"0.5", kindRatio, honoured},
	"scan-interval":                         {"10s", kindPeriod, honoured},
	"skip-nodes-with-local-storage":         {"false", kindBoolText, honoured},
	"skip-nodes-with-system-pods":           {"true", kindBoolText, honoured},
}

var (
	profileDuration = regexp.MustCompile(`^[0-9]+(s|m|h)$`)
	expanders       = []string{"least-waste", "most-pods", "random"}
)

// DefaultAutoScalerProfile is AKS's profile: every key with its default.
func DefaultAutoScalerProfile() armapi.AutoScalerProfile {
	p := armapi.AutoScalerProfile{}
	for k, d := range autoScalerKeys {
		p[k] = d.def
	}
	return p
}

// mergeProfile checks the keys of in and lays them over cur (or the defaults), reporting
// every bad key or value.
func mergeProfile(in, cur armapi.AutoScalerProfile, errs *arm.Problems) armapi.AutoScalerProfile {
	out := DefaultAutoScalerProfile()
	for k, v := range cur {
		if _, ok := autoScalerKeys[k]; ok {
			out[k] = v
		}
	}
	for _, k := range slices.Sorted(maps.Keys(in)) {
		target := "properties.autoScalerProfile." + k
		key, ok := autoScalerKeys[k]
		if !ok {
			errs.Add("InvalidParameter", target, "Unknown cluster autoscaler profile key '%s'; valid keys are %s.", k, strings.Join(slices.Sorted(maps.Keys(autoScalerKeys)), ", "))
			continue
		}
		v, problem := profileValue(k, key.kind, in[k])
		if problem != "" {
			errs.Add("InvalidParameter", target, "%s", problem)
			continue
		}
		// A value stored before the key was default-only is accepted as it is: az sends the
		// stored profile back on every update, which would otherwise all be refused.
		if was, stored := cur[k]; key.fixed && !sameSetting(key.kind, v, key.def) && (!stored || !sameSetting(key.kind, v, was)) {
			errs.Add("InvalidParameter", target, "Cluster autoscaler profile key '%s' is '%v': mlfleet's cluster autoscaler does not implement it, so it accepts only %v (AKS's default).", k, v, key.def)
			continue
		}
		out[k] = v
	}
	return out
}

// profileValue checks one value and returns it in its wire form, or the message that
// says what is wrong with it.
func profileValue(k, kind string, raw any) (any, string) {
	if kind == kindBool {
		switch v := raw.(type) {
		case bool:
			return v, ""
		case string:
			if b, err := strconv.ParseBool(v); err == nil {
				return b, ""
			}
		}
		return nil, fmt.Sprintf("Cluster autoscaler profile key '%s' must be true or false, not %v.", k, raw)
	}
	var s string
	switch v := raw.(type) {
	case string:
		s = strings.TrimSpace(v)
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		s = strconv.FormatBool(v)
	default:
		return nil, fmt.Sprintf("Cluster autoscaler profile key '%s' must be a string, not %v.", k, raw)
	}
	switch kind {
	case kindDuration, kindPeriod:
		if !profileDuration.MatchString(s) {
			return nil, fmt.Sprintf("Cluster autoscaler profile key '%s' is '%s': use an integer followed by a unit s, m or h, such as 10s or 10m.", k, s)
		}
		if d, err := time.ParseDuration(s); kind == kindPeriod && (err != nil || d <= 0) {
			return nil, fmt.Sprintf("Cluster autoscaler profile key '%s' is '%s': use a duration above zero, such as %s (AKS's default).", k, s, autoScalerKeys[k].def)
		}
	case kindInt, kindNonNegInt, kindPercent:
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			return nil, fmt.Sprintf("Cluster autoscaler profile key '%s' is '%s': use an integer.", k, s)
		case kind == kindInt && n < 1:
			return nil, fmt.Sprintf("Cluster autoscaler profile key '%s' is %d: use a positive integer.", k, n)
		case kind == kindNonNegInt && n < 0:
			return nil, fmt.Sprintf("Cluster autoscaler profile key '%s' is %d: use 0 or more.", k, n)
		case kind == kindPercent && (n < 0 || n > 100):
			return nil, fmt.Sprintf("Cluster autoscaler profile key '%s' is %d: use 0 to 100.", k, n)
		}
	case kindRatio:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f <= 0 || f > 1 {
			return nil, fmt.Sprintf("Cluster autoscaler profile key '%s' is '%s': use a number above 0 and at most 1, such as 0.5.", k, s)
		}
	case kindBoolText:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Sprintf("Cluster autoscaler profile key '%s' is '%s': use true or false.", k, s)
		}
		s = strconv.FormatBool(b)
	case kindExpander:
		if s == "priority" {
			return nil, "Cluster autoscaler profile key 'expander' is 'priority', which needs a cluster-autoscaler-priority-expander ConfigMap that mlfleet's autoscaler does not read: use random, least-waste or most-pods."
		}
		found := false
		for _, e := range expanders {
			found = found || e == s
		}
		if !found {
			return nil, fmt.Sprintf("Cluster autoscaler profile key 'expander' is '%s': use one of %s.", s, strings.Join(expanders, ", "))
		}
	}
	return s, ""
}

// sameSetting tells whether two valid values of a key of kind mean the same: 15m and
// 900s, 45 and "45".
func sameSetting(kind string, a, b any) bool {
	x, y := fmt.Sprint(a), fmt.Sprint(b)
	switch kind {
	case kindDuration, kindPeriod:
		dx, errX := time.ParseDuration(x)
		dy, errY := time.ParseDuration(y)
		return errX == nil && errY == nil && dx == dy
	case kindInt, kindNonNegInt, kindPercent:
		nx, errX := strconv.Atoi(x)
		ny, errY := strconv.Atoi(y)
		return errX == nil && errY == nil && nx == ny
	}
	return x == y
}

// Settings parses a (validated) profile into the settings the embedded clusters'
// autoscaler uses; keys it lacks take AKS's defaults. Each field is the profile key of the
// same name (max-graceful-termination-sec for MaxGracefulTermination,
// skip-nodes-with-system-pods=false for EvictSystemPods; the utilization threshold is a
// fraction, 0.5 = 50%). The defaultOnly keys have no field: they hold their defaults.
func Settings(p armapi.AutoScalerProfile) provider.AutoscalerSettings {
	str := func(k string) string {
		if v, ok := p[k].(string); ok {
			return v
		}
		return autoScalerKeys[k].def.(string)
	}
	dur := func(k string) time.Duration {
		d, err := time.ParseDuration(str(k))
		if err != nil {
			d, _ = time.ParseDuration(autoScalerKeys[k].def.(string))
		}
		return d
	}
	th, err := strconv.ParseFloat(str("scale-down-utilization-threshold"), 64)
	if err != nil {
		th = 0.5
	}
	num := func(k string) int {
		n, err := strconv.Atoi(str(k))
		if err != nil {
			n, _ = strconv.Atoi(autoScalerKeys[k].def.(string))
		}
		return n
	}
	flag := func(k string) bool {
		for _, v := range []any{p[k], autoScalerKeys[k].def} {
			switch v := v.(type) {
			case bool:
				return v
			case string:
				if b, err := strconv.ParseBool(v); err == nil {
					return b
				}
			}
		}
		return false
	}
	return provider.AutoscalerSettings{ScanInterval: dur("scan-interval"), ScaleDownDelayAfterAdd: dur("scale-down-delay-after-add"),
		ScaleDownUnneededTime: dur("scale-down-unneeded-time"), ScaleDownDelayAfterFailure: dur("scale-down-delay-after-failure"), UtilizationThreshold: th,
		MaxGracefulTermination: time.Duration(num("max-graceful-termination-sec")) * time.Second, Expander: str("expander"),
		MaxEmptyBulkDelete: num("max-empty-bulk-delete"), ScaleDownDelayAfterDelete: dur("scale-down-delay-after-delete"),
		EvictSystemPods: !flag("skip-nodes-with-system-pods"), SkipNodesWithLocalStorage: flag("skip-nodes-with-local-storage"),
		NewPodScaleUpDelay: dur("new-pod-scale-up-delay"), IgnoreDaemonSetsUtilization: flag("ignore-daemonsets-utilization")}
}

// poolScaling applies the autoscaling settings of in to ap, the pool as it will be (cur
// holds its stored settings on an update; on a create ap starts without any). countSet
// says whether the request names a count. It returns the count the pool must have: the
// requested one, or the current one moved into min..max when autoscaling bounds it.
func poolScaling(target string, in armapi.AgentPoolInput, ap *armapi.AgentPoolProfile, countSet, update bool, errs *arm.Problems) int {
	enable := ap.EnableAutoScaling
	if in.EnableAutoScaling != nil {
		enable = *in.EnableAutoScaling
	}
	count := ap.Count
	if !enable {
		if (in.MinCount != nil || in.MaxCount != nil) && in.EnableAutoScaling != nil {
			errs.Add("InvalidParameter", target, "Agent pool '%s': minCount and maxCount are only allowed when enableAutoScaling is true.", ap.Name)
		} else if in.MinCount != nil || in.MaxCount != nil {
			errs.Add("InvalidParameter", target, "Agent pool '%s' does not autoscale: enable the cluster autoscaler (enableAutoScaling, --enable-cluster-autoscaler) to set minCount and maxCount.", ap.Name)
		}
		ap.EnableAutoScaling, ap.MinCount, ap.MaxCount = false, nil, nil
		return count
	}
	// Manual scaling of an autoscaled pool is refused, unless the same request turns the
	// autoscaler on (az aks create/nodepool add --node-count with --enable-cluster-autoscaler).
	wasOn := update && ap.EnableAutoScaling
	if wasOn && countSet && in.Count != nil && *in.Count != ap.Count {
		errs.Add("InvalidParameter", target+".count", "Cannot scale cluster autoscaler enabled node pool '%s': disable the cluster autoscaler first (--disable-cluster-autoscaler), or change its range with --update-cluster-autoscaler --min-count --max-count.", ap.Name)
		return count
	}
	lo, hi := ap.MinCount, ap.MaxCount
	if in.MinCount != nil {
		lo = in.MinCount
	}
	if in.MaxCount != nil {
		hi = in.MaxCount
	}
	if lo == nil || hi == nil {
		errs.Add("InvalidParameter", target, "Agent pool '%s': minCount and maxCount are required when enableAutoScaling is true.", ap.Name)
		return count
	}
	minAllowed := 0
	if ap.Mode == "System" {
		minAllowed = 1
	}
	bad := false
	if *lo < minAllowed || *lo > MaxPoolCount {
		errs.Add("InvalidParameter", target+".minCount", "Agent pool '%s' minCount %d is out of range: use %d to %d (a System pool keeps at least one node).", ap.Name, *lo, minAllowed, MaxPoolCount)
		bad = true
	}
	if *hi < 1 || *hi > MaxPoolCount {
		errs.Add("InvalidParameter", target+".maxCount", "Agent pool '%s' maxCount %d is out of range: use 1 to %d.", ap.Name, *hi, MaxPoolCount)
		bad = true
	}
	if !bad && *lo > *hi {
		errs.Add("InvalidParameter", target+".minCount", "Agent pool '%s' minCount %d is greater than maxCount %d.", ap.Name, *lo, *hi)
		bad = true
	}
	if bad {
		return count
	}
	if countSet && !wasOn && in.Count != nil && !(update && *in.Count == ap.Count) && (*in.Count < *lo || *in.Count > *hi) {
		errs.Add("InvalidParameter", target+".count", "Agent pool '%s' count %d is not in the range of minCount %d and maxCount %d.", ap.Name, *in.Count, *lo, *hi)
		return count
	}
	count = max(*lo, min(*hi, count))
	minC, maxC := *lo, *hi
	ap.EnableAutoScaling, ap.MinCount, ap.MaxCount = true, &minC, &maxC
	return count
}

// ptrs returns the values behind the pointers, -1 for nil ones, to compare settings.
func ptrs(ps ...*int) []int {
	out := make([]int, len(ps))
	for i, p := range ps {
		out[i] = -1
		if p != nil {
			out[i] = *p
		}
	}
	return out
}

// autoscaler is the provider's autoscaler of cluster id. Its decisions are made durable
// here, in the store, before the provider changes the pool: the stored count stays the
// one source of truth, which a restart brings the cluster back to. Once the pool has
// changed, Config.Autoscaled is told, so that the attached compute's node count follows
// at once, as after a scale.
func (s *Service) autoscaler(id string, p armapi.AutoScalerProfile) *provider.Autoscaler {
	return &provider.Autoscaler{AutoscalerSettings: Settings(p),
		Resize: func(ctx context.Context, pool string, count int) error { return s.autoscale(ctx, id, pool, count) },
		Resized: func(context.Context, string, int) {
			if autoscaled := s.cfg.Autoscaled; autoscaled != nil {
				autoscaled(id)
			}
		}}
}

// errAutoscaleRefused is why an autoscaler decision was not recorded; the autoscaler
// decides again at its next scan.
var errAutoscaleRefused = errors.New("autoscaler decision refused")

// autoscale records the node count the autoscaler chose for a pool: only on a cluster
// that no operation is changing, for a pool that still autoscales, within its bounds and
// the vCPU quota, in one transaction.
//
// Failpoints autoscale/resize/before and /after surround the write: a crash before it
// leaves the pool and its count as they were, one after it leaves the new count stored
// and the pool unchanged until a restart (Ensure with the stored count) or the next scan.
func (s *Service) autoscale(ctx context.Context, id, pool string, count int) error {
	if err := failpoint.Hit("autoscale/resize/before"); err != nil {
		return err
	}
	if err := s.resize(ctx, id, pool, count); err != nil {
		return err
	}
	return failpoint.Hit("autoscale/resize/after")
}

func (s *Service) resize(ctx context.Context, id, pool string, count int) error {
	return s.cfg.Store.InTx(ctx, func(tx store.Store) error {
		r, err := tx.GetResource(ctx, id)
		if err != nil {
			return fmt.Errorf("get cluster %s: %w", id, err)
		}
		mc, err := decode(r)
		if err != nil {
			return err
		}
		if mc.Properties.ProvisioningState != armapi.StateSucceeded {
			return fmt.Errorf("%w: cluster %s is %s", errAutoscaleRefused, mc.Name, mc.Properties.ProvisioningState)
		}
		idx := slices.IndexFunc(mc.Properties.AgentPoolProfiles, func(x armapi.AgentPoolProfile) bool { return x.Name == pool })
		if idx < 0 {
			return fmt.Errorf("%w: cluster %s has no pool %s", errAutoscaleRefused, mc.Name, pool)
		}
		ap := &mc.Properties.AgentPoolProfiles[idx]
		if !ap.EnableAutoScaling || ap.MinCount == nil || ap.MaxCount == nil || count < *ap.MinCount || count > *ap.MaxCount {
			return fmt.Errorf("%w: pool %s of %s does not autoscale to %d", errAutoscaleRefused, pool, mc.Name, count)
		}
		if ap.Count == count {
			return nil
		}
		if err := s.reserve(ctx, tx, r.SubscriptionID, mc.Location, s.scaleRequest(mc, map[string]int{pool: count}), ""); err != nil {
			return err
		}
		ap.Count = count
		setETag(mc, "")
		r.Body = clusterRecord.Encode(mc)
		if err := tx.UpdateResource(ctx, r); err != nil {
			return fmt.Errorf("update cluster %s: %w", mc.Name, err)
		}
		return nil
	})
}

// autoscaleChanged tells whether an update changes the autoscaling of a pool or the
// autoscaler's profile.
func autoscaleChanged(cur, next *armapi.ManagedCluster) bool {
	view := func(mc *armapi.ManagedCluster) string {
		type pool struct {
			Name     string
			On       bool
			Min, Max []int
		}
		var v struct {
			Pools   []pool
			Profile armapi.AutoScalerProfile
		}
		for _, p := range mc.Properties.AgentPoolProfiles {
			v.Pools = append(v.Pools, pool{Name: p.Name, On: p.EnableAutoScaling, Min: ptrs(p.MinCount), Max: ptrs(p.MaxCount)})
		}
		v.Profile = mc.Properties.AutoScalerProfile
		b, _ := json.Marshal(v)
		return string(b)
	}
	return view(cur) != view(next)
}

// profileEqual tells whether two merged profiles hold the same settings.
func profileEqual(a, b armapi.AutoScalerProfile) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
