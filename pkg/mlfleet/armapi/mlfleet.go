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
	// Clusters are the ARM ids of the managed clusters the replica runs: those whose
	// hosting lease it holds (a cluster moved to another replica is listed there, not
	// here). A lost replica runs none.
	Clusters []string `json:"clusters"`
	// StaleClusters are the ARM ids of the clusters the replica's latest heartbeat
	// reported that it runs no longer: moved to another replica, or the replica is lost.
	StaleClusters []string `json:"staleClusters,omitempty"`
}

// Principal is a user or a service principal (/mlfleet/v1/principals), in the shape of
// `az ad sp create-for-rbac` and `az ad sp show` (appId and password for service
// principals).
type Principal struct {
	ID                string `json:"id"`
	Type              string `json:"type"`
	DisplayName       string `json:"displayName"`
	AppID             string `json:"appId,omitempty"`
	UserPrincipalName string `json:"userPrincipalName,omitempty"`
	// Password is the secret, only in the answers that create a service principal or reset
	// its secret: it is shown once.
	Password        string    `json:"password,omitempty"`
	Tenant          string    `json:"tenant"`
	CreatedDateTime time.Time `json:"createdDateTime"`
	// RoleAssignments are the ids of the assignments made with the principal.
	RoleAssignments []string `json:"roleAssignments,omitempty"`
}

// Login returns what the principal signs in with: its appId or user principal name.
func (p *Principal) Login() string {
	if p.AppID != "" {
		return p.AppID
	}
	return p.UserPrincipalName
}
