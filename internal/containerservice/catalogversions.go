package containerservice

import (
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/provider"
)

// unsupportedVersion is the 400 for a version the catalog of location does not list, with
// the versions it lists there; or, when it lists none there (a --versions-file without the
// location), one that says so and names the locations it has.
func unsupportedVersion(version, location string, v *catalog.Versions) *arm.Error {
	names := v.Names(location)
	if len(names) == 0 {
		return arm.BadRequest(arm.CodeUnsupportedKubernetesVersion,
			"The version catalog of this mlfleet server lists no Kubernetes versions for %s, so no cluster can be created there. Create it in a location the catalog lists (%s), or ask the server's operator to add %s to its versions file (mlfleet serve --versions-file).",
			location, strings.Join(v.Locations(), ", "), location).WithTarget("location")
	}
	return arm.BadRequest(arm.CodeUnsupportedKubernetesVersion,
		"Kubernetes version %s is not supported in %s. Supported versions: %s.", version, location, strings.Join(names, ", ")).WithTarget("properties.kubernetesVersion")
}

// notRunnable is the 400 for version, which the catalog of location lists but the
// provider does not run. asked says the request named it (else it is the location's
// default); fromCompute that the request is a compute's, which names no version. Its hint
// names only a version this server would accept (one the provider runs and the catalog
// lists there) and only a flag the user's command has; with no such version it says that
// no cluster of this provider can be created there.
func notRunnable(version string, asked bool, location string, info provider.Info, versions *catalog.Versions, fromCompute bool) *arm.Error {
	runs := strings.Join(info.Versions, ", ")
	var usable []string
	for _, r := range info.Versions {
		if v, ok := versions.Find(location, r); ok && v.Version == r {
			usable = append(usable, r)
		}
	}
	what := "Kubernetes version " + version + " is supported in " + location + " but"
	if !asked {
		what = "Kubernetes " + version + ", the default version of " + location + ", is supported there, but"
	}
	var msg string
	switch {
	case len(usable) == 0:
		msg = what + " the " + info.Name + " provider runs only " + runs + ", which the version catalog of this server does not list in " + location +
			", so no " + info.Name + " cluster can be created there. Register a cluster of a listed version from its kubeconfig ('mlfleet aks import')" +
			orAttach(fromCompute) + ", or ask the server's operator to list " + runs + " in its versions file (mlfleet serve --versions-file)."
	case fromCompute:
		msg = what + " the " + info.Name + " provider runs only " + runs + ", and a compute's cluster gets the default version. Create the cluster with 'mlfleet aks create --kubernetes-version " +
			usable[0] + "' (or az aks create), then attach it with 'mlfleet ml computetarget attach aks'."
	default:
		msg = what + " the " + info.Name + " provider runs only " + runs + "; create the cluster with --kubernetes-version " + usable[0] +
			", or register a cluster of version " + version + " from its kubeconfig ('mlfleet aks import')."
	}
	return arm.BadRequest(arm.CodeUnsupportedKubernetesVersion, "%s", msg).WithTarget("properties.kubernetesVersion")
}

// orAttach is the end of a hint to register a cluster: for a compute, attach it too.
func orAttach(fromCompute bool) string {
	if fromCompute {
		return " and attach it ('mlfleet ml computetarget attach aks')"
	}
	return ""
}
