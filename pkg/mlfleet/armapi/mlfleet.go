package armapi

import "time"

// The bodies of mlfleet's own API under /mlfleet/v1, which has no ARM counterpart.

// AccessToken is a bearer token the server minted (POST /mlfleet/v1/tokens).
type AccessToken struct {
	AccessToken string    `json:"accessToken"`
	TokenType   string    `json:"tokenType"`
	Role        string    `json:"role"`
	ExpiresOn   time.Time `json:"expiresOn"`
}

// Replica is one mlfleet server process on the control plane's store
// (GET /mlfleet/v1/replicas).
type Replica struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	// State is Live, or Lost when its heartbeat stopped.
	State         string    `json:"state"`
	StartedAt     time.Time `json:"startedAt"`
	LastHeartbeat time.Time `json:"lastHeartbeat"`
	// SilenceSeconds is how long ago the latest heartbeat was, on the database's clock.
	SilenceSeconds float64 `json:"silenceSeconds"`
	// Clusters are the ARM ids of the managed clusters the replica runs.
	Clusters []string `json:"clusters"`
}
