package api

import (
	"net/http"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/replicas"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// replicaRoutes serves the replica table under /mlfleet/v1 (ARM has no such resource).
func (s *Server) replicaRoutes() {
	s.router.handle(http.MethodGet, "/mlfleet/v1/replicas", s.listReplicas).selfAuthorized = true
}

// ReplicaBody is one replica in GET /mlfleet/v1/replicas.
type ReplicaBody = armapi.Replica

// replicaReadAction is what a caller needs at "/" to list replicas: any role at the root.
const replicaReadAction = "Microsoft.Mlfleet/replicas/read"

// listReplicas lists the replicas serving this store, live ones and lost ones, with the
// clusters each runs by their leases, and those its heartbeat still reports but it runs
// no longer (stale). Only a principal with a role at the root scope may.
func (s *Server) listReplicas(w http.ResponseWriter, r *http.Request, _ params) {
	if err := auth.PrincipalFrom(r.Context()).Check(replicaReadAction, "/"); err != nil {
		writeError(w, r, err)
		return
	}
	rows, err := s.cfg.Store.ListReplicas(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	// A replica's row lags behind where its clusters run; their leases say (ClustersOf).
	leases, err := s.cfg.Store.ListClusterLeases(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	hosting := replicas.ClustersOf(rows, leases, s.cfg.ReplicaInterval)
	names := map[string]string{} // provider cluster id -> ARM id
	clusters, err := s.cfg.Store.ListResources(r.Context(), store.ListOptions{Type: containerservice.TypeManagedCluster})
	if err != nil {
		writeError(w, r, err)
		return
	}
	for _, c := range clusters {
		names[containerservice.ClusterID(c.ID)] = c.ID
	}
	out := make([]ReplicaBody, 0, len(rows))
	for _, row := range rows {
		// Live or Lost is judged from the heartbeat's silence against the interval, by the
		// database's clock (Silence), so that replicas with skewed clocks agree.
		b := ReplicaBody{ID: row.ID, Address: row.Address, State: "Lost", StartedAt: row.StartedAt.UTC(),
			LastHeartbeat: row.HeartbeatAt.UTC(), SilenceSeconds: row.Silence.Seconds(), Clusters: []string{}}
		if replicas.Live(row, s.cfg.ReplicaInterval) {
			b.State = "Live"
		}
		// A cluster whose resource is gone (deleted a moment ago) is left out rather than
		// shown by its internal id.
		armIDs := func(ids []string) []string {
			var out []string
			for _, id := range ids {
				if armID, ok := names[id]; ok {
					out = append(out, armID)
				}
			}
			return out
		}
		if hosted := armIDs(hosting[row.ID].Hosted); hosted != nil {
			b.Clusters = hosted
		}
		b.StaleClusters = armIDs(hosting[row.ID].Stale)
		out = append(out, b)
	}
	writeJSON(w, http.StatusOK, listBody{Value: out})
}
