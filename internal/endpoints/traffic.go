package endpoints

import (
	"maps"
	"slices"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// checkOneRouter refuses traffic that no one router can serve. A router forwards only to
// the instances of its own cluster, and the scoring URI names the router of one compute
// (servingCompute), so live traffic split over deployments on two computes would answer
// 503 for every request sent to the other one, and mirrored traffic to a deployment on
// another compute than the one serving would never arrive. Sending all live traffic to
// deployments on another compute stays allowed: that is how an endpoint moves to another
// compute (its scoring URI then names that compute's router).
//
// ep carries the traffic asked for (keyed by the deployments' own names, as
// validateEndpoint leaves it) and ds the endpoint's deployments as they will run. nil when
// one router serves it all.
func checkOneRouter(ep *armapi.OnlineEndpoint, ds []*armapi.OnlineDeployment) *arm.Error {
	computeOf := func(name string) string {
		if d := deploymentNamed(ds, name); d != nil {
			return d.Properties.Compute
		}
		return ""
	}
	var live []string
	byCompute := map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(ep.Properties.Traffic)) {
		c := computeOf(name)
		if ep.Properties.Traffic[name] <= 0 || c == "" {
			continue
		}
		k := strings.ToLower(c)
		if _, seen := byCompute[k]; !seen {
			live = append(live, c)
		}
		byCompute[k] = append(byCompute[k], name)
	}
	if len(live) > 1 {
		var parts []string
		for _, c := range live {
			parts = append(parts, "'"+lastSegment(c)+"' ("+strings.Join(byCompute[strings.ToLower(c)], ", ")+")")
		}
		return arm.BadRequest(arm.CodeUserError, "traffic of endpoint '%s' is split across computes %s, but its scoring URI reaches the router of one compute only, which cannot forward to the other's instances. Send all traffic to deployments on one compute; to move the endpoint to another compute, send all of it at once to deployments there (its scoring URI then names that compute's router).",
			ep.Name, strings.Join(parts, " and ")).WithTarget("properties.traffic")
	}
	serving := servingCompute(ep, ds)
	for _, name := range slices.Sorted(maps.Keys(ep.Properties.MirrorTraffic)) {
		c := computeOf(name)
		if ep.Properties.MirrorTraffic[name] <= 0 || c == "" || serving == "" || strings.EqualFold(c, serving) {
			continue
		}
		return arm.BadRequest(arm.CodeUserError, "mirrorTraffic names deployment '%s', which runs on compute '%s', but endpoint '%s' is served from compute '%s', whose router cannot forward to it. Mirror to a deployment on compute '%s'.",
			name, lastSegment(c), ep.Name, lastSegment(serving), lastSegment(serving)).WithTarget("properties.mirrorTraffic")
	}
	return nil
}

// checkFailedTargets refuses live or mirrored traffic for a deployment whose provisioning
// state is Failed: it has no instance to answer (its last operation failed), so every
// request routed to it would be a 503. Taking traffic away always works: a weight of 0, or
// one no higher than the stored endpoint (prev, nil on a create) already gave it, passes,
// so that an unrelated change of an endpoint whose deployment failed later is not refused.
//
// ep carries the traffic asked for (keyed by the deployments' own names, as
// validateEndpoint leaves it); ds are the endpoint's deployments. nil when nothing
// routes more traffic to a failed deployment.
func checkFailedTargets(ep, prev *armapi.OnlineEndpoint, ds []*armapi.OnlineDeployment) *arm.Error {
	var prevLive, prevMirror map[string]int
	if prev != nil {
		prevLive, prevMirror = prev.Properties.Traffic, prev.Properties.MirrorTraffic
	}
	for _, f := range []struct {
		field          string
		weights, prior map[string]int
	}{{"traffic", ep.Properties.Traffic, prevLive}, {"mirrorTraffic", ep.Properties.MirrorTraffic, prevMirror}} {
		for _, name := range slices.Sorted(maps.Keys(f.weights)) {
			w := f.weights[name]
			d := deploymentNamed(ds, name)
			if w <= 0 || d == nil || d.Properties.ProvisioningState != armapi.StateFailed || w <= weightOf(f.prior, name) {
				continue
			}
			why := ""
			if m := d.Properties.Mlfleet; m != nil && m.Message != "" {
				why = ": " + m.Message
			}
			return arm.BadRequest(arm.CodeUserError, "%s gives %d percent to deployment '%s', whose provisioning state is Failed%s. A failed deployment has no instance to answer, so those requests would fail. Fix the deployment and update it (mlfleet ml online-deployment update) until it succeeds, or send the traffic to another deployment.",
				f.field, w, d.Name, why).WithTarget("properties." + f.field)
		}
	}
	return nil
}

// deploymentNamed is the deployment of ds named name (case-insensitive, A1); nil when none.
func deploymentNamed(ds []*armapi.OnlineDeployment, name string) *armapi.OnlineDeployment {
	for _, d := range ds {
		if strings.EqualFold(d.Name, name) {
			return d
		}
	}
	return nil
}

// weightOf is the weight weights give deployment name (case-insensitive); 0 when none.
func weightOf(weights map[string]int, name string) int {
	for k, w := range weights {
		if strings.EqualFold(k, name) {
			return w
		}
	}
	return 0
}
