package cli

import (
	"fmt"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func newReplicaCommand(streams Streams, g *globals) *cobra.Command {
	return parent("replica", "The mlfleet server processes (replicas) serving this control plane", leaf("list", "List the replicas, live and lost, with their addresses and the clusters each runs", func(cmd *cobra.Command) error {
		return g.call(streams, replicaTable, func(c *mlfleet.Client) (any, error) {
			return c.ListReplicas(cmd.Context())
		})
	}))
}

// replicaTable shows one replica a row; clusters by resource group and name, since full
// ids would make the row unreadable and a name alone can repeat across groups. Silence is
// how long ago the replica last renewed its row: a replica silent for three heartbeat
// intervals is Lost (N2).
func replicaTable(v any) any {
	return rows(v, func(m map[string]any) row {
		var names []string
		if list, ok := m["clusters"].([]any); ok {
			for _, id := range list {
				s := fmt.Sprint(id)
				group := ""
				if parts := strings.Split(s, "/"); len(parts) > 4 {
					group = parts[4]
				}
				names = append(names, group+"/"+path.Base(s))
			}
		}
		silence := ""
		if f, ok := m["silenceSeconds"].(float64); ok {
			silence = fmt.Sprintf("%.1fs", f)
		}
		return row{{"Id", m["id"]}, {"Address", m["address"]}, {"State", m["state"]}, {"LastHeartbeat", m["lastHeartbeat"]},
			{"Silence", silence}, {"Clusters", strings.Join(names, ", ")}}
	})
}
