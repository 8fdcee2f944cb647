package replicas

import (
	"slices"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
)

// Clusters are the clusters of one replica as `mlfleet replica list` shows them.
type Clusters struct {
	// Hosted are the provider ids of the clusters the replica runs now, sorted.
	Hosted []string
	// Stale are those its latest heartbeat reported that it runs no longer, sorted:
	// another replica holds their leases now, their leases expired, or the replica is
	// lost.
	Stale []string
}

// ClustersOf tells, for each replica of rows (by id), which clusters it hosts, judged
// under the heartbeat interval (0 means DefaultInterval). A replica's row says what it ran
// at its latest heartbeat, which lags: a replica that died goes on reporting its clusters
// until it counts as lost (LostAfter intervals), while another replica takes them over
// once their leases expire (hosting.DefaultTTL), and the new host reports them only at
// its next beat. The truth is the cluster lease: a cluster is hosted by the live replica
// whose unexpired lease holds it. A cluster without a lease (a SQLite server, alone, keeps
// none) is hosted by the live replica that reports it. A lost replica hosts nothing.
func ClustersOf(rows []*store.Replica, leases []*store.ClusterLease, interval time.Duration) map[string]Clusters {
	leaseOf := make(map[string]*store.ClusterLease, len(leases))
	for _, l := range leases {
		leaseOf[l.ClusterID] = l
	}
	out := make(map[string]Clusters, len(rows))
	for _, r := range rows {
		live := Live(r, interval)
		var c Clusters
		for _, id := range r.Clusters {
			l, leased := leaseOf[id]
			if live && (!leased || (l.Holder == r.ID && l.Remaining > 0)) {
				c.Hosted = append(c.Hosted, id)
			} else {
				c.Stale = append(c.Stale, id)
			}
		}
		// A lease taken since the replica's latest heartbeat: the cluster is its own
		// already, though its row does not say so yet.
		for _, l := range leases {
			if live && l.Holder == r.ID && l.Remaining > 0 && !slices.Contains(r.Clusters, l.ClusterID) {
				c.Hosted = append(c.Hosted, l.ClusterID)
			}
		}
		slices.Sort(c.Hosted)
		slices.Sort(c.Stale)
		out[r.ID] = c
	}
	return out
}
