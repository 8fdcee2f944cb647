package containerservice

import (
	"strconv"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// requestedVersion is a Kubernetes version as a request spells it, without the spaces
// and the leading "v" mlfleet accepts around it: what the cluster or pool keeps.
func requestedVersion(s string) string {
	return strings.TrimPrefix(strings.TrimSpace(s), "v")
}

// currentVersion is the Kubernetes version a cluster runs: the patch its kubernetesVersion
// resolved to (currentKubernetesVersion), or for a row without it the version itself.
// Every comparison of a requested version is with this one, never with the version as
// asked, which may be major.minor.
func currentVersion(mc *armapi.ManagedCluster) string {
	return orDefault(mc.Properties.CurrentKubernetesVersion, mc.Properties.KubernetesVersion)
}

// checkVersionChange refuses a request that asks what (a cluster, or one of its agent
// pools) to run requested, a Kubernetes version other than cur, the one it runs. An empty
// request, cur itself, or cur's major.minor (AKS accepts "1.37" for 1.37.2, as az aks
// create -k 1.37 sends it, and "updating the cluster with the same <major.minor> once it
// has been created will not trigger an upgrade") pass. An older version is a downgrade,
// which AKS never allows; a newer one an upgrade, which mlfleet does not run yet; anything
// else is not a version. It returns the version to keep as asked: the request's spelling
// when it passes, "" when none was sent or it was refused.
func checkVersionChange(target, what, requested, cur string, errs *arm.Problems) string {
	req := requestedVersion(requested)
	if req == "" || req == cur {
		return req
	}
	want, ok := parseRequestedVersion(req)
	have, known := parseRequestedVersion(cur)
	if !ok {
		errs.Add("InvalidParameter", target, "'%s' is not a Kubernetes version: write it major.minor.patch or major.minor (%s runs %s; leave the version out or send %s).", requested, what, cur, cur)
		return ""
	}
	if !known {
		// A stored version that does not parse (a registered cluster's odd build):
		// anything but itself is a change.
		errs.Add("InvalidParameter", target, "%s runs Kubernetes %s; upgrades are not supported by mlfleet yet. Leave the version out or send %s.", what, cur, cur)
		return ""
	}
	for i := range min(len(want), len(have)) {
		switch {
		case want[i] < have[i]:
			errs.Add("InvalidParameter", target, "%s runs Kubernetes %s; it cannot be downgraded to %s: AKS never moves a cluster or an agent pool to an older Kubernetes version. Leave the version out or send %s.", what, cur, req, cur)
			return ""
		case want[i] > have[i]:
			errs.Add("InvalidParameter", target, "%s runs Kubernetes %s; upgrades are not supported by mlfleet yet. Leave the version out or send %s.", what, cur, cur)
			return ""
		}
	}
	// Equal on every part both give: cur's major.minor.
	return req
}

// parseRequestedVersion reads major.minor or major.minor.patch, each a number, into its
// parts.
func parseRequestedVersion(s string) ([]int, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 2 && len(parts) != 3 {
		return nil, false
	}
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p != strconv.Itoa(n) {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// checkNewPoolVersion refuses a pool of a new cluster whose orchestratorVersion is not the
// cluster's version (clusterVersion, the major.minor.patch it runs; "" when the cluster's
// own version was refused):
// mlfleet runs every pool at its cluster's version, where AKS would let a pool lag behind.
func checkNewPoolVersion(target, pool, requested, clusterVersion string, errs *arm.Problems) {
	req := requestedVersion(requested)
	if req == "" {
		return
	}
	want, ok := parseRequestedVersion(req)
	if !ok {
		errs.Add("InvalidParameter", target, "'%s' is not a Kubernetes version: write it major.minor.patch or major.minor, or leave agent pool '%s''s orchestratorVersion out to run the cluster's version.", requested, pool)
		return
	}
	if clusterVersion == "" {
		return // the cluster's version is reported wrong already
	}
	have, _ := parseRequestedVersion(clusterVersion)
	for i := range min(len(want), len(have)) {
		if want[i] != have[i] {
			errs.Add("InvalidParameter", target, "Agent pool '%s' asks for Kubernetes %s, but mlfleet runs every agent pool at its cluster's version, %s. Leave orchestratorVersion out or send %s.", pool, req, clusterVersion, clusterVersion)
			return
		}
	}
}
