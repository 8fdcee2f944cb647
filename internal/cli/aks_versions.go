package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

type versionRow struct {
	KubernetesVersion string
	Upgrades          string
}

func newAKSGetVersions(streams Streams, g *globals) *cobra.Command {
	var location string
	cmd := &cobra.Command{
		Use:   "get-versions -l LOCATION",
		Short: "List the Kubernetes versions of a location",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			location, err := withDefault(location, "location", "--location/-l")
			if err != nil {
				return err
			}
			c, err := g.client(streams)
			if err != nil {
				return err
			}
			o, err := c.KubernetesVersions(cmd.Context(), location)
			if err != nil {
				return err
			}
			// az flattens the properties: the result has id, name, type and orchestrators.
			flat := map[string]any{"id": o.ID, "name": o.Name, "type": o.Type, "orchestrators": o.Properties.Orchestrators}
			return g.print(streams, flat, versionsTable)
		},
	}
	cmd.Flags().StringVarP(&location, "location", "l", "", "Location, e.g. westus")
	return cmd
}

// versionsTable is az's table of get-versions: KubernetesVersion and Upgrades with
// "(preview)" marks, newest first.
func versionsTable(v any) any {
	m, _ := v.(map[string]any)
	list, _ := m["orchestrators"].([]any)
	out := []versionRow{}
	mark := func(version any, preview any) string {
		s := fmt.Sprint(version)
		if preview == true {
			s += "(preview)"
		}
		return s
	}
	for _, item := range list {
		o, _ := item.(map[string]any)
		row := versionRow{KubernetesVersion: mark(o["orchestratorVersion"], o["isPreview"]), Upgrades: "None available"}
		if ups, _ := o["upgrades"].([]any); len(ups) > 0 {
			var names []string
			for _, u := range ups {
				um, _ := u.(map[string]any)
				names = append(names, mark(um["orchestratorVersion"], um["isPreview"]))
			}
			row.Upgrades = strings.Join(names, ", ")
		}
		out = append(out, row)
	}
	return out
}
