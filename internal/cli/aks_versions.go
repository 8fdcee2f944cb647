package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

type versionRow struct {
	KubernetesVersion string
	Upgrades          string
}

func newAKSGetVersions(streams Streams, g *globals) *cobra.Command {
	var l locationFlag
	return command("get-versions -l LOCATION", "List the Kubernetes versions of a location", &l, func(cmd *cobra.Command) error {
		return g.call(streams, versionsTable, func(c *mlfleet.Client) (any, error) {
			o, err := c.KubernetesVersions(cmd.Context(), l.location)
			if err != nil {
				return nil, err
			}
			// az flattens the properties: the result has id, name, type and orchestrators.
			return map[string]any{"id": o.ID, "name": o.Name, "type": o.Type, "orchestrators": o.Properties.Orchestrators}, nil
		})
	})
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
