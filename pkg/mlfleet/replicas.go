package mlfleet

import (
	"context"
	"net/http"
	"time"
)

// Replica is one mlfleet server process on the control plane's store.
type Replica struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	// State is Live, or Lost when its heartbeat stopped.
	State          string    `json:"state"`
	StartedAt      time.Time `json:"startedAt"`
	LastHeartbeat  time.Time `json:"lastHeartbeat"`
	SilenceSeconds float64   `json:"silenceSeconds"`
	// Clusters are the ids of the managed clusters the replica runs.
	Clusters []string `json:"clusters"`
}

// ListReplicas returns the replicas serving the control plane (needs a role at the root
// scope).
func (c *Client) ListReplicas(ctx context.Context) ([]*Replica, error) {
	var page struct {
		Value []*Replica `json:"value"`
	}
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/mlfleet/v1/replicas"}, &page)
	return page.Value, err
}
