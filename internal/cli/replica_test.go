package cli

import (
	"bytes"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/output"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestReplicaListTable: the table shows each replica's silence in whole seconds and its
// clusters by group and name, those it runs no longer marked stale; a lost replica with no
// clusters shows none.
func TestReplicaListTable(t *testing.T) {
	const c = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/"
	beat := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	list := []*mlfleet.Replica{
		{ID: "r1", Address: "10.0.0.1:8443", State: "Live", StartedAt: beat, LastHeartbeat: beat, SilenceSeconds: 12.4,
			Clusters: []string{}, StaleClusters: []string{c + "c1"}},
		{ID: "r2", Address: "10.0.0.2:8443", State: "Live", StartedAt: beat, LastHeartbeat: beat, SilenceSeconds: 0.2,
			Clusters: []string{c + "c1", c + "c2"}},
		{ID: "r3", Address: "10.0.0.3:8443", State: "Lost", StartedAt: beat, LastHeartbeat: beat, SilenceSeconds: 65, Clusters: []string{}},
	}
	var out bytes.Buffer
	if err := output.Print(&out, list, output.Options{Format: "table", Table: replicaTable}); err != nil {
		t.Fatal(err)
	}
	want := `Id    Address        State    LastHeartbeat         Silence    Clusters
----  -------------  -------  --------------------  ---------  -------------
r1    10.0.0.1:8443  Live     2026-11-30T12:00:00Z  12s        rg/c1 (stale)
r2    10.0.0.2:8443  Live     2026-11-30T12:00:00Z  0s         rg/c1, rg/c2
r3    10.0.0.3:8443  Lost     2026-11-30T12:00:00Z  1m5s
`
	if out.String() != want {
		t.Errorf("replica list -o table printed\n%s\nwant\n%s", out.String(), want)
	}
}
