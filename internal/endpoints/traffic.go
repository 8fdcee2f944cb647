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
		for _, d := range ds {
			if strings.EqualFold(d.Name, name) {
				return d.Properties.Compute
			}
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
