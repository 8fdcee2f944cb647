package armapi

// ManagedCluster is a managed cluster as ARM serves it.
type ManagedCluster struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags"`
	SystemData *SystemData       `json:"systemData,omitempty"`
	// ETag changes with every change of the cluster (see Compute.ETag).
	ETag string `json:"eTag,omitempty"`
	SKU  SKU    `json:"sku"`
	// Identity is the cluster's managed identity (nil for a cluster that runs as a service
	// principal).
	Identity   *ClusterIdentity  `json:"identity,omitempty"`
	Properties ClusterProperties `json:"properties"`
}

// ClusterIdentity is a cluster's managed identity: SystemAssigned, or UserAssigned with
// one identity. PrincipalID and TenantID are set by the server for SystemAssigned.
type ClusterIdentity struct {
	Type                   string                              `json:"type"`
	PrincipalID            string                              `json:"principalId,omitempty"`
	TenantID               string                              `json:"tenantId,omitempty"`
	UserAssignedIdentities map[string]*UserAssignedIdentityRef `json:"userAssignedIdentities,omitempty"`
}

// UserAssignedIdentityRef is the value of a user-assigned identity in an identity's map,
// keyed by the identity's ARM id ({} in requests; the server fills the ids).
type UserAssignedIdentityRef struct {
	PrincipalID string `json:"principalId,omitempty"`
	ClientID    string `json:"clientId,omitempty"`
}

// UserAssignedIdentity is an identity a cluster's components run as (identityProfile).
type UserAssignedIdentity struct {
	ResourceID string `json:"resourceId"`
	ClientID   string `json:"clientId"`
	ObjectID   string `json:"objectId"`
}

// ServicePrincipalProfile is the service principal a cluster runs as; clientId "msi" for
// a cluster with a managed identity. The secret is write-only: never stored or returned.
type ServicePrincipalProfile struct {
	ClientID string `json:"clientId"`
	Secret   string `json:"secret,omitempty"`
}

// LinuxProfile is the administrator account and SSH keys of the nodes.
type LinuxProfile struct {
	AdminUsername string           `json:"adminUsername"`
	SSH           SSHConfiguration `json:"ssh"`
}

// SSHConfiguration holds the SSH public keys of the nodes' administrator.
type SSHConfiguration struct {
	PublicKeys []SSHPublicKey `json:"publicKeys"`
}

// SSHPublicKey is one SSH public key.
type SSHPublicKey struct {
	KeyData string `json:"keyData"`
}

// AddonProfile is one cluster add-on (addonProfiles). mlfleet runs none, so only disabled
// ones are accepted.
type AddonProfile struct {
	Enabled bool              `json:"enabled"`
	Config  map[string]string `json:"config,omitempty"`
}

// SKU is the cluster's pricing tier (always Base/Free here).
type SKU struct {
	Name string `json:"name"`
	Tier string `json:"tier"`
}

// ClusterProperties are a managed cluster's properties.
type ClusterProperties struct {
	ProvisioningState        string                  `json:"provisioningState"`
	PowerState               PowerState              `json:"powerState"`
	KubernetesVersion        string                  `json:"kubernetesVersion"`
	CurrentKubernetesVersion string                  `json:"currentKubernetesVersion"`
	DNSPrefix                string                  `json:"dnsPrefix"`
	FQDN                     *string                 `json:"fqdn"`
	PrivateFQDN              *string                 `json:"privateFQDN"`
	AgentPoolProfiles        []AgentPoolProfile      `json:"agentPoolProfiles"`
	NodeResourceGroup        string                  `json:"nodeResourceGroup"`
	EnableRBAC               bool                    `json:"enableRBAC"`
	NetworkProfile           NetworkProfile          `json:"networkProfile"`
	APIServerAccessProfile   *APIServerAccessProfile `json:"apiServerAccessProfile,omitempty"`
	// AutoScalerProfile holds the cluster autoscaler's settings, every key with its value
	// (AKS's defaults where the user set none); nil when no pool ever autoscaled.
	AutoScalerProfile AutoScalerProfile `json:"autoScalerProfile,omitempty"`
	// MaxAgentPools is how many agent pools the cluster may have.
	MaxAgentPools int `json:"maxAgentPools"`
	// ServicePrincipalProfile is {"clientId":"msi"} for a cluster with a managed identity.
	ServicePrincipalProfile *ServicePrincipalProfile `json:"servicePrincipalProfile,omitempty"`
	// IdentityProfile names the identities the cluster's components run as; "kubeletidentity"
	// for a cluster with a managed identity.
	IdentityProfile      map[string]*UserAssignedIdentity `json:"identityProfile,omitempty"`
	LinuxProfile         *LinuxProfile                    `json:"linuxProfile,omitempty"`
	AddonProfiles        map[string]AddonProfile          `json:"addonProfiles,omitempty"`
	DisableLocalAccounts bool                             `json:"disableLocalAccounts"`
	// Mlfleet holds mlfleet's own facts about the cluster (ignored by Azure clients).
	Mlfleet MlfleetProperties `json:"mlfleet"`
}

// PowerState says whether the cluster runs.
type PowerState struct {
	Code string `json:"code"`
}

// AgentPoolProfile is one node pool, as properties.agentPoolProfiles lists it: its name
// and the properties its agent pool resource serves (the JSON is flat).
type AgentPoolProfile struct {
	Name string `json:"name"`
	AgentPoolProperties
}

// AutoScalerProfile is properties.autoScalerProfile: AKS's cluster autoscaler settings by
// their hyphenated names ("scan-interval": "10s"). Values are strings, except the
// daemonset-* keys, which are booleans on the wire.
type AutoScalerProfile map[string]any

// NetworkProfile is the cluster's network configuration.
type NetworkProfile struct {
	NetworkPlugin   string `json:"networkPlugin"`
	LoadBalancerSku string `json:"loadBalancerSku"`
	OutboundType    string `json:"outboundType"`
	ServiceCidr     string `json:"serviceCidr"`
	DNSServiceIP    string `json:"dnsServiceIP"`
	PodCidr         string `json:"podCidr"`
	// DockerBridgeCidr is kept for the workspace's custom virtual network settings.
	DockerBridgeCidr string `json:"dockerBridgeCidr,omitempty"`
	// SubnetID is the custom subnet the nodes live in ("" = mlfleet's own).
	SubnetID string `json:"vnetSubnetID,omitempty"`
	// LoadBalancerProfile is the outbound side of a standard load balancer. mlfleet serves
	// AKS's default (one managed outbound IP) and refuses any other setting.
	LoadBalancerProfile *LoadBalancerProfile `json:"loadBalancerProfile,omitempty"`
}

// NetworkProfileInput is the network profile of a managed cluster PUT: the profile, and
// what is read only to be refused.
type NetworkProfileInput struct {
	NetworkProfile
	// NetworkPolicy is a policy engine (az aks create --network-policy): mlfleet's
	// clusters enforce no NetworkPolicy, so only "" or "none" is accepted.
	NetworkPolicy string `json:"networkPolicy,omitempty"`
}

// LoadBalancerProfile is networkProfile.loadBalancerProfile, as az aks create|update
// --load-balancer-managed-outbound-ip-count, --load-balancer-outbound-ips,
// --load-balancer-outbound-ip-prefixes, --load-balancer-outbound-ports and
// --load-balancer-idle-timeout send it. Nil members are unset.
type LoadBalancerProfile struct {
	ManagedOutboundIPs                  *ManagedOutboundIPs `json:"managedOutboundIPs,omitempty"`
	OutboundIPs                         *OutboundIPs        `json:"outboundIPs,omitempty"`
	OutboundIPPrefixes                  *OutboundIPPrefixes `json:"outboundIPPrefixes,omitempty"`
	AllocatedOutboundPorts              *int                `json:"allocatedOutboundPorts,omitempty"`
	IdleTimeoutInMinutes                *int                `json:"idleTimeoutInMinutes,omitempty"`
	EnableMultipleStandardLoadBalancers *bool               `json:"enableMultipleStandardLoadBalancers,omitempty"`
}

// ManagedOutboundIPs is how many outbound IPs Azure creates for the load balancer.
type ManagedOutboundIPs struct {
	Count     *int `json:"count,omitempty"`
	CountIPv6 *int `json:"countIPv6,omitempty"`
}

// OutboundIPs are the user's public IPs the load balancer sends outbound traffic from.
type OutboundIPs struct {
	PublicIPs []ResourceReference `json:"publicIPs,omitempty"`
}

// OutboundIPPrefixes are the user's public IP prefixes the load balancer uses.
type OutboundIPPrefixes struct {
	PublicIPPrefixes []ResourceReference `json:"publicIPPrefixes,omitempty"`
}

// ResourceReference names another resource by its ARM id.
type ResourceReference struct {
	ID string `json:"id"`
}

// APIServerAccessProfile restricts access to the API server.
type APIServerAccessProfile struct {
	AuthorizedIPRanges   []string `json:"authorizedIPRanges,omitempty"`
	EnablePrivateCluster bool     `json:"enablePrivateCluster"`
}

// MlfleetProperties are mlfleet's extension of a cluster's properties.
type MlfleetProperties struct {
	// Provider is where the cluster comes from: embedded or external.
	Provider string `json:"provider"`
	// ClusterID is the provider's id of the cluster.
	ClusterID string `json:"clusterId"`
	// APIServerURL is the URL of the cluster's API server.
	APIServerURL string `json:"apiServerUrl,omitempty"`
	// CreatedFor is the id of the compute that created this cluster from its workspace:
	// only that compute may delete it. Empty for clusters users created, and once that
	// compute was detached (the cluster is then the user's).
	CreatedFor string `json:"createdFor,omitempty"`
	// Kubeconfig and Context register an existing cluster (write-only: never returned).
	Kubeconfig string `json:"kubeconfig,omitempty"`
	Context    string `json:"context,omitempty"`
}

// ClusterInput is the body of a managed cluster PUT.
type ClusterInput struct {
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags"`
	Identity   *ClusterIdentity  `json:"identity,omitempty"`
	Properties struct {
		KubernetesVersion      string                  `json:"kubernetesVersion"`
		DNSPrefix              string                  `json:"dnsPrefix"`
		AgentPoolProfiles      []AgentPoolInput        `json:"agentPoolProfiles"`
		NetworkProfile         *NetworkProfileInput    `json:"networkProfile"`
		APIServerAccessProfile *APIServerAccessProfile `json:"apiServerAccessProfile"`
		// AutoScalerProfile changes the keys it names; nil leaves the profile as it is.
		AutoScalerProfile AutoScalerProfile `json:"autoScalerProfile,omitempty"`
		EnableRBAC        *bool             `json:"enableRBAC"`
		// ServicePrincipalProfile, LinuxProfile, AddonProfiles and DisableLocalAccounts
		// are what az aks create and update send; IdentityProfile, which update sends
		// back, is read-only and ignored.
		ServicePrincipalProfile *ServicePrincipalProfile `json:"servicePrincipalProfile,omitempty"`
		LinuxProfile            *LinuxProfile            `json:"linuxProfile,omitempty"`
		AddonProfiles           map[string]AddonProfile  `json:"addonProfiles,omitempty"`
		DisableLocalAccounts    *bool                    `json:"disableLocalAccounts,omitempty"`
		// AADProfile and AutoUpgradeProfile are read only to refuse what mlfleet does not
		// do (Microsoft Entra integration, automatic upgrades): az aks create and update
		// send them when asked to turn those on.
		AADProfile         *AADProfile         `json:"aadProfile,omitempty"`
		AutoUpgradeProfile *AutoUpgradeProfile `json:"autoUpgradeProfile,omitempty"`
		// NodeResourceGroup and OIDCIssuerProfile are read only to refuse what mlfleet does
		// not do (az aks create --node-resource-group, --enable-oidc-issuer): only the
		// cluster's own MC_ group, and an issuer left disabled, are accepted.
		NodeResourceGroup string             `json:"nodeResourceGroup,omitempty"`
		OIDCIssuerProfile *OIDCIssuerProfile `json:"oidcIssuerProfile,omitempty"`
		Mlfleet           *MlfleetProperties `json:"mlfleet"`
	} `json:"properties"`
	// SKU is the pricing tier asked for (az aks create/update --tier, --uptime-sla); nil
	// leaves it as it is. mlfleet has only the Free tier.
	SKU *SKU `json:"sku,omitempty"`
}

// AADProfile is a cluster's Microsoft Entra integration, as az aks create/update
// --enable-aad sends it. mlfleet clusters have none, so only an empty profile is accepted.
type AADProfile struct {
	Managed             bool     `json:"managed,omitempty"`
	EnableAzureRBAC     bool     `json:"enableAzureRBAC,omitempty"`
	AdminGroupObjectIDs []string `json:"adminGroupObjectIDs,omitempty"`
	ClientAppID         string   `json:"clientAppID,omitempty"`
	ServerAppID         string   `json:"serverAppID,omitempty"`
	TenantID            string   `json:"tenantID,omitempty"`
}

// AutoUpgradeProfile is a cluster's automatic upgrade channels (az aks create/update
// --auto-upgrade-channel, --node-os-upgrade-channel). mlfleet upgrades nothing by itself,
// so only "none" (or nothing) is accepted.
type AutoUpgradeProfile struct {
	UpgradeChannel       string `json:"upgradeChannel,omitempty"`
	NodeOSUpgradeChannel string `json:"nodeOSUpgradeChannel,omitempty"`
}

// OIDCIssuerProfile is a cluster's OIDC issuer for workload identity (az aks create|update
// --enable-oidc-issuer). mlfleet's clusters publish no issuer, so only enabled false is
// accepted.
type OIDCIssuerProfile struct {
	Enabled *bool `json:"enabled,omitempty"`
}

// AgentPoolUpgradeSettings are a pool's upgrade settings (az aks nodepool add|update
// --max-surge). mlfleet upgrades no nodes, so only an empty one is accepted.
type AgentPoolUpgradeSettings struct {
	MaxSurge                  string `json:"maxSurge,omitempty"`
	DrainTimeoutInMinutes     *int   `json:"drainTimeoutInMinutes,omitempty"`
	NodeSoakDurationInMinutes *int   `json:"nodeSoakDurationInMinutes,omitempty"`
}

// AgentPoolInput is a node pool in a PUT body.
type AgentPoolInput struct {
	Name   string `json:"name"`
	Count  *int   `json:"count"`
	VMSize string `json:"vmSize"`
	Mode   string `json:"mode"`
	// EnableAutoScaling nil leaves autoscaling as it is (on an update) or off (on a create).
	EnableAutoScaling *bool `json:"enableAutoScaling,omitempty"`
	MinCount          *int  `json:"minCount,omitempty"`
	MaxCount          *int  `json:"maxCount,omitempty"`
	// PowerState is what az aks nodepool stop/start ask for (nil: as it is). mlfleet's
	// pools always run, so only Running is accepted.
	PowerState *PowerState `json:"powerState,omitempty"`
	// OrchestratorVersion is the Kubernetes version asked for the pool's nodes ("" = the
	// cluster's). mlfleet runs every pool at its cluster's version and upgrades nothing, so
	// only that version (or its major.minor) is accepted.
	OrchestratorVersion string `json:"orchestratorVersion,omitempty"`
	AgentPoolSettings
}

// AgentPoolSettings are the settings of a pool's nodes in a PUT body (cluster or agent
// pool). Nil leaves a setting as it is on an update, or at its default on a create; an
// empty map or list clears labels, taints or tags. The maps and lists are omitzero, not
// omitempty, so that a client's empty one is sent ({} or []) and clears.
type AgentPoolSettings struct {
	// NodeLabels are labels put on each node of the pool.
	NodeLabels map[string]string `json:"nodeLabels,omitzero"`
	// NodeTaints are taints put on each node, as AKS writes them: "key=value:NoSchedule".
	NodeTaints []string `json:"nodeTaints,omitzero"`
	// MaxPods is how many pods a node runs (10 to 250); it cannot change after create.
	MaxPods *int `json:"maxPods,omitempty"`
	// OSDiskSizeGB is the size of a node's OS disk (0 to 2048, 0 = the default); it cannot
	// change after create.
	OSDiskSizeGB *int `json:"osDiskSizeGB,omitempty"`
	// Tags are the pool's own tags.
	Tags map[string]string `json:"tags,omitzero"`
	// AvailabilityZones, OSSKU, OSDiskType, EnableNodePublicIP and EnableEncryptionAtHost
	// are what az aks create --zones, --os-sku, --node-osdisk-type, --enable-node-public-ip
	// and --enable-encryption-at-host send. mlfleet's nodes are in no zone, run Ubuntu on a
	// managed OS disk, with no public IP and no encryption at host: those values (or none)
	// are accepted, any other refused.
	AvailabilityZones      []string `json:"availabilityZones,omitempty"`
	OSSKU                  string   `json:"osSKU,omitempty"`
	OSDiskType             string   `json:"osDiskType,omitempty"`
	EnableNodePublicIP     *bool    `json:"enableNodePublicIP,omitempty"`
	EnableEncryptionAtHost *bool    `json:"enableEncryptionAtHost,omitempty"`
	// EnableFIPS, ScaleSetPriority, SpotMaxPrice, ScaleSetEvictionPolicy and EnableUltraSSD
	// are what --enable-fips-image, --priority, --spot-max-price, --eviction-policy and
	// --enable-ultra-ssd send. mlfleet's pools have no FIPS image, are Regular (never
	// evicted, no price) and have no Ultra SSD: AKS's defaults, which az sends without the
	// flags (false, Regular, -1, Delete, false), or none are accepted, any other refused.
	EnableFIPS             *bool    `json:"enableFIPS,omitempty"`
	ScaleSetPriority       string   `json:"scaleSetPriority,omitempty"`
	SpotMaxPrice           *float64 `json:"spotMaxPrice,omitempty"`
	ScaleSetEvictionPolicy string   `json:"scaleSetEvictionPolicy,omitempty"`
	EnableUltraSSD         *bool    `json:"enableUltraSSD,omitempty"`
	// Type, ProximityPlacementGroupID, ScaleDownMode and UpgradeSettings are what
	// --vm-set-type, --ppg, --scale-down-mode and --max-surge send. mlfleet's pools are
	// VirtualMachineScaleSets in no proximity placement group, delete the nodes they scale
	// down and upgrade none: those values (or none) are accepted, any other refused.
	Type                      string                    `json:"type,omitempty"`
	ProximityPlacementGroupID string                    `json:"proximityPlacementGroupID,omitempty"`
	ScaleDownMode             string                    `json:"scaleDownMode,omitempty"`
	UpgradeSettings           *AgentPoolUpgradeSettings `json:"upgradeSettings,omitempty"`
}

// AgentPool is a node pool served as a child resource (agentPools/{name}).
type AgentPool struct {
	ID         string              `json:"id"`
	Name       string              `json:"name"`
	Type       string              `json:"type"`
	Properties AgentPoolProperties `json:"properties"`
}

// AgentPoolProperties are the properties of an agent pool resource.
type AgentPoolProperties struct {
	// ETag is the pool's eTag (AKS's spelling), for If-Match on a pool PUT: its cluster's,
	// as a pool changes only through its cluster's update.
	ETag                string `json:"eTag,omitempty"`
	Count               int    `json:"count"`
	VMSize              string `json:"vmSize"`
	Mode                string `json:"mode"`
	OSType              string `json:"osType"`
	Type                string `json:"type"`
	OrchestratorVersion string `json:"orchestratorVersion"`
	// CurrentOrchestratorVersion is the Kubernetes version the pool's nodes run (the
	// patch version of OrchestratorVersion).
	CurrentOrchestratorVersion string `json:"currentOrchestratorVersion,omitempty"`
	ProvisioningState          string `json:"provisioningState"`
	// PowerState is whether the pool's nodes run: always Running, as mlfleet does not
	// stop pools.
	PowerState *PowerState `json:"powerState,omitempty"`
	// EnableAutoScaling lets the cluster autoscaler set Count between MinCount and MaxCount.
	EnableAutoScaling bool `json:"enableAutoScaling"`
	// MinCount and MaxCount bound the autoscaler; nil when autoscaling is off.
	MinCount *int `json:"minCount,omitempty"`
	MaxCount *int `json:"maxCount,omitempty"`
	// MaxPods is how many pods each node runs; 0 in rows of clusters that predate it
	// (served as 110) and of registered clusters.
	MaxPods int `json:"maxPods,omitempty"`
	// OSDiskSizeGB is the size of each node's OS disk; 0 when unknown.
	OSDiskSizeGB int `json:"osDiskSizeGB,omitempty"`
	// NodeLabels are the labels mlfleet puts on each node of the pool, besides AKS's own.
	NodeLabels map[string]string `json:"nodeLabels,omitempty"`
	// NodeTaints are the taints mlfleet puts on each node, "key=value:Effect".
	NodeTaints []string `json:"nodeTaints,omitempty"`
	// Tags are the pool's own tags.
	Tags map[string]string `json:"tags,omitempty"`
	// OSSKU, OSDiskType, EnableNodePublicIP and EnableEncryptionAtHost say what the nodes
	// are, as AKS serves them: Ubuntu, a Managed OS disk, no public IP, no encryption at
	// host for an embedded cluster; unset for a registered one, whose nodes mlfleet does
	// not know that well.
	OSSKU                  string `json:"osSKU,omitempty"`
	OSDiskType             string `json:"osDiskType,omitempty"`
	EnableNodePublicIP     *bool  `json:"enableNodePublicIP,omitempty"`
	EnableEncryptionAtHost *bool  `json:"enableEncryptionAtHost,omitempty"`
}

// AgentPoolPut is the body of an agent pool PUT.
type AgentPoolPut struct {
	Properties struct {
		Count             *int   `json:"count"`
		VMSize            string `json:"vmSize"`
		Mode              string `json:"mode"`
		EnableAutoScaling *bool  `json:"enableAutoScaling,omitempty"`
		MinCount          *int   `json:"minCount,omitempty"`
		MaxCount          *int   `json:"maxCount,omitempty"`
		// PowerState is what az aks nodepool stop/start send; only Running is accepted.
		PowerState *PowerState `json:"powerState,omitempty"`
		// OrchestratorVersion is what az aks nodepool upgrade -k sends; only the version
		// the pool runs (or its major.minor) is accepted.
		OrchestratorVersion string `json:"orchestratorVersion,omitempty"`
		AgentPoolSettings
	} `json:"properties"`
}

// CredentialResults is the answer of listClusterUserCredential/AdminCredential.
type CredentialResults struct {
	Kubeconfigs []CredentialResult `json:"kubeconfigs"`
}

// CredentialResult is one kubeconfig (base64 in JSON, as ARM sends it).
type CredentialResult struct {
	Name  string `json:"name"`
	Value []byte `json:"value"`
}

// UpgradeProfile is what a cluster and its agent pools can upgrade to
// (managedClusters/{name}/upgradeProfiles/default).
type UpgradeProfile struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Properties UpgradeProfileProperties `json:"properties"`
}

// UpgradeProfileProperties are the upgrades of the control plane and of each agent pool.
type UpgradeProfileProperties struct {
	ControlPlaneProfile PoolUpgradeProfile   `json:"controlPlaneProfile"`
	AgentPoolProfiles   []PoolUpgradeProfile `json:"agentPoolProfiles"`
}

// PoolUpgradeProfile is the version a control plane or an agent pool (Name) runs and the
// versions it can upgrade to.
type PoolUpgradeProfile struct {
	Name              string           `json:"name,omitempty"`
	KubernetesVersion string           `json:"kubernetesVersion"`
	OSType            string           `json:"osType"`
	Upgrades          []VersionUpgrade `json:"upgrades"`
}

// VersionUpgrade is one version an upgrade can go to.
type VersionUpgrade struct {
	KubernetesVersion string `json:"kubernetesVersion"`
	IsPreview         *bool  `json:"isPreview,omitempty"`
}

// AgentPoolUpgradeProfile is what one agent pool can upgrade to
// (agentPools/{pool}/upgradeProfiles/default).
type AgentPoolUpgradeProfile struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Properties struct {
		KubernetesVersion string           `json:"kubernetesVersion"`
		OSType            string           `json:"osType"`
		Upgrades          []VersionUpgrade `json:"upgrades"`
	} `json:"properties"`
}
