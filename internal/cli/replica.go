package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func newReplicaCommand(streams Streams, g *globals) *cobra.Command {
	list := callCommand(streams, g, "list", "List the replicas, live and lost, with their addresses and the clusters each runs", nil, nil, replicaTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.ListReplicas(ctx)
	})
	list.Long = `List the replicas, live and lost, with their addresses and the clusters each runs.

A replica renews its row every heartbeat interval (5s unless the server sets --replica-heartbeat-interval) and
counts as Lost after three intervals without one (15s): a replica that stopped a few seconds ago is
still Live, with a growing Silence. Its embedded clusters move sooner, as soon as their hosting leases
expire (5s); a cluster is listed under the replica that holds its lease, and one that a replica's last
heartbeat still reports although it runs there no longer is marked "(stale)" (staleClusters in JSON).`
	return parent("replica", "The mlfleet server processes (replicas) serving this control plane", list)
}

// replicaTable shows one replica a row; clusters by resource group and name, since full
// ids would make the row unreadable and a name alone can repeat across groups, the stale
// ones marked. Silence is how long ago the replica last renewed its row, in whole
// seconds: a replica silent for three heartbeat intervals is Lost (N2).
func replicaTable(v any) any {
	return rows(v, func(m map[string]any) row {
		var names []string
		add := func(key, mark string) {
			list, _ := m[key].([]any)
			for _, id := range list {
				s := fmt.Sprint(id)
				group := ""
				if parts := strings.Split(s, "/"); len(parts) > 4 {
					group = parts[4]
				}
				names = append(names, group+"/"+path.Base(s)+mark)
			}
		}
		add("clusters", "")
		add("staleClusters", " (stale)")
		// Numbers reach a table as json.Number (output keeps them as the server wrote them).
		silence := ""
		if n, ok := m["silenceSeconds"].(json.Number); ok {
			if f, err := n.Float64(); err == nil {
				silence = time.Duration(f * float64(time.Second)).Round(time.Second).String()
			}
		}
		return row{{"Id", m["id"]}, {"Address", m["address"]}, {"State", m["state"]}, {"LastHeartbeat", m["lastHeartbeat"]},
			{"Silence", silence}, {"Clusters", strings.Join(names, ", ")}}
	})
}
