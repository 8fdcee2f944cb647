package armapi

// Orchestrators is the old-generation versions list of a location
// (locations/{location}/orchestrators, api-version 2019-08-01), newest version first.
type Orchestrators struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Properties struct {
		Orchestrators []Orchestrator `json:"orchestrators"`
	} `json:"properties"`
}

// Orchestrator is one Kubernetes version with its upgrades. Its flags are pointers so that
// an unset flag is null, as ARM sends it, never false.
type Orchestrator struct {
	OrchestratorType    string                `json:"orchestratorType"`
	OrchestratorVersion string                `json:"orchestratorVersion"`
	Default             *bool                 `json:"default"`
	IsPreview           *bool                 `json:"isPreview"`
	Upgrades            []OrchestratorUpgrade `json:"upgrades"`
}

// OrchestratorUpgrade is one version an Orchestrator can upgrade to.
type OrchestratorUpgrade struct {
	OrchestratorType    string `json:"orchestratorType"`
	OrchestratorVersion string `json:"orchestratorVersion"`
	IsPreview           *bool  `json:"isPreview"`
}

// DefaultVersion returns the version a cluster created from a workspace gets ("" when the
// location has no default).
func (o *Orchestrators) DefaultVersion() string {
	for _, v := range o.Properties.Orchestrators {
		if v.Default != nil && *v.Default {
			return v.OrchestratorVersion
		}
	}
	return ""
}

// AgentPoolAvailableVersions is what managedClusters/{name}/availableAgentPoolVersions
// answers: the Kubernetes versions a new agent pool of the cluster can run.
type AgentPoolAvailableVersions struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Properties struct {
		AgentPoolVersions []AgentPoolVersion `json:"agentPoolVersions"`
	} `json:"properties"`
}

// AgentPoolVersion is one version an agent pool can run.
type AgentPoolVersion struct {
	Default           bool   `json:"default"`
	KubernetesVersion string `json:"kubernetesVersion"`
	IsPreview         bool   `json:"isPreview"`
}
