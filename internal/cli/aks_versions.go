package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// newAKSGetVersions is `mlfleet aks get-versions`, a command of the seed (S7, S22). It
// reads the old generation of the catalog (locations/{loc}/orchestrators, api-version
// 2019-08-01), whose shape the seed's `-o table` output and its --query
// "orchestrators[?default == `true`].orchestratorVersion" expect; azFlat lifts its
// properties so that the query finds orchestrators at the top.
func newAKSGetVersions(streams Streams, g *globals) *cobra.Command {
	var l locationFlag
	return callCommand(streams, g, "get-versions -l LOCATION", "List the Kubernetes versions of a location", &l, azFlat, versionsTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.KubernetesVersions(ctx, l.location)
	})
}

func newAKSGetUpgrades(streams Streams, g *globals) *cobra.Command {
	f := &clusterFlags{}
	return callCommand(streams, g, "get-upgrades -n NAME -g GROUP", "List the versions a cluster can upgrade to", f, azFlat, upgradesTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.GetUpgradeProfile(ctx, f.group, f.name)
	})
}

// upgradesTable is az's table of get-upgrades: the control plane's version and what it
// can upgrade to.
func upgradesTable(v any) any {
	return rows(v, func(m map[string]any) row {
		ups, _ := dig(m, "controlPlaneProfile", "upgrades").([]any)
		return row{{"Name", m["name"]}, {"ResourceGroup", m["resourceGroup"]},
			{"MasterVersion", dig(m, "controlPlaneProfile", "kubernetesVersion")}, {"Upgrades", upgradeList(ups, "kubernetesVersion")}}
	})
}

// upgradeList is the Upgrades column of az's version tables: the versions (under key)
// with their preview marks, or "None available", as in the seed's table. key differs
// because the orchestrators list says orchestratorVersion and an upgrade profile
// kubernetesVersion.
func upgradeList(upgrades []any, key string) string {
	if len(upgrades) == 0 {
		return "None available"
	}
	names := make([]string, 0, len(upgrades))
	for _, u := range upgrades {
		um, _ := u.(map[string]any)
		names = append(names, previewMarked(um[key], um["isPreview"]))
	}
	return strings.Join(names, ", ")
}

// previewMarked is a version as az's tables print it, with "(preview)" when it is one.
func previewMarked(version, preview any) string {
	s := fmt.Sprint(version)
	if preview == true {
		s += "(preview)"
	}
	return s
}

// versionsTable is az's table of get-versions: KubernetesVersion and Upgrades with
// "(preview)" marks, newest first.
func versionsTable(v any) any {
	return rowsUnder(v, "orchestrators", func(o map[string]any) row {
		ups, _ := o["upgrades"].([]any)
		return row{{"KubernetesVersion", previewMarked(o["orchestratorVersion"], o["isPreview"])}, {"Upgrades", upgradeList(ups, "orchestratorVersion")}}
	})
}
