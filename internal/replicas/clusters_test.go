package replicas

import (
	"fmt"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
)

// TestClustersOf: a cluster is hosted by the live replica whose unexpired lease holds it,
// whatever the replicas' rows report; a cluster with no lease by the live replica that
// reports it; a lost replica hosts nothing, and what its row still reports is stale.
func TestClustersOf(t *testing.T) {
	const interval = 5 * time.Second
	lease := func(cluster, holder string, remaining time.Duration) *store.ClusterLease {
		return &store.ClusterLease{ClusterID: cluster, Holder: holder, Token: 1, Remaining: remaining}
	}
	for _, tc := range []struct {
		name   string
		rows   []*store.Replica
		leases []*store.ClusterLease
		want   map[string]Clusters
	}{
		{
			name: "failover: the dead replica, still live by its heartbeat, reports what moved",
			rows: []*store.Replica{
				{ID: "r1", Silence: 12 * time.Second, Clusters: []string{"c1", "c2"}},
				{ID: "r2", Silence: time.Second, Clusters: []string{"c3"}},
			},
			leases: []*store.ClusterLease{lease("c1", "r2", 4*time.Second), lease("c2", "r1", -7*time.Second), lease("c3", "r2", 3*time.Second)},
			want: map[string]Clusters{
				"r1": {Stale: []string{"c1", "c2"}},
				"r2": {Hosted: []string{"c1", "c3"}},
			},
		},
		{
			name: "a lost replica hosts nothing",
			rows: []*store.Replica{
				{ID: "r1", Silence: 16 * time.Second, Clusters: []string{"c1", "c2"}},
				{ID: "r2", Silence: 2 * time.Second, Clusters: []string{"c1"}},
			},
			leases: []*store.ClusterLease{lease("c1", "r2", 4*time.Second)},
			want: map[string]Clusters{
				"r1": {Stale: []string{"c1", "c2"}},
				"r2": {Hosted: []string{"c1"}},
			},
		},
		{
			name: "one server, no leases (SQLite)",
			rows: []*store.Replica{{ID: "r1", Silence: time.Second, Clusters: []string{"c1", "c2"}}},
			want: map[string]Clusters{"r1": {Hosted: []string{"c1", "c2"}}},
		},
		{
			name:   "a replica that renews its lease hosts its cluster",
			rows:   []*store.Replica{{ID: "r1", Clusters: []string{"c1"}}, {ID: "r2"}},
			leases: []*store.ClusterLease{lease("c1", "r1", 5*time.Second)},
			want:   map[string]Clusters{"r1": {Hosted: []string{"c1"}}, "r2": {}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ClustersOf(tc.rows, tc.leases, interval)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ClustersOf = %v, want %v", got, tc.want)
			}
		})
	}
}
