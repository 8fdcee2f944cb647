package armapi

import "time"

// Compute types and values, as Azure Machine Learning spells them.
const (
	ComputeTypeAKS = "AKS"

	PurposeFastProd  = "FastProd"
	PurposeDenseProd = "DenseProd"
	PurposeDevTest   = "DevTest"

	LoadBalancerPublicIP = "PublicIp"
	LoadBalancerInternal = "InternalLoadBalancer"

	SSLDisabled = "Disabled"
	SSLEnabled  = "Enabled"
	SSLAuto     = "Auto"

	// ActionDetach removes the compute and what mlfleet installed, keeping the cluster;
	// ActionDelete also deletes a cluster the compute created.
	ActionDetach = "Detach"
	ActionDelete = "Delete"
)

// Condition types of an AKS compute (B4). The provisioning state is derived from them.
const (
	ConditionReachable          = "Reachable"
	ConditionVersionSupported   = "VersionSupported"
	ConditionCapacitySufficient = "CapacitySufficient"
	ConditionComponentsReady    = "ComponentsReady"
)

// Compute is a workspace compute as ARM serves it. The same type is the body of a PUT:
// pointer fields left nil are not set by the caller (the server applies its defaults, or
// keeps the current value on an update).
type Compute struct {
	ID         string            `json:"id,omitempty"`
	Name       string            `json:"name,omitempty"`
	Type       string            `json:"type,omitempty"`
	Location   string            `json:"location"`
	Tags       map[string]string `json:"tags"`
	SystemData *SystemData       `json:"systemData,omitempty"`
	// ETag changes with every change of the compute; send it back in If-Match to change or
	// delete the compute only if nobody changed it since.
	ETag       string            `json:"etag,omitempty"`
	Properties ComputeProperties `json:"properties"`
}

// ComputeProperties are the properties common to every compute type.
type ComputeProperties struct {
	ComputeType        string              `json:"computeType"`
	ComputeLocation    string              `json:"computeLocation,omitempty"`
	ProvisioningState  string              `json:"provisioningState,omitempty"`
	Description        *string             `json:"description"`
	CreatedOn          *time.Time          `json:"createdOn,omitempty"`
	ModifiedOn         *time.Time          `json:"modifiedOn,omitempty"`
	ResourceID         *string             `json:"resourceId"`
	ProvisioningErrors []ProvisioningError `json:"provisioningErrors"`
	IsAttachedCompute  bool                `json:"isAttachedCompute"`
	DisableLocalAuth   bool                `json:"disableLocalAuth"`
	// Properties are the AKS-specific properties.
	Properties *AKSProperties `json:"properties"`
	// Mlfleet holds mlfleet's own facts about the compute (ignored by Azure clients).
	Mlfleet *ComputeMlfleet `json:"mlfleet,omitempty"`
}

// ProvisioningError is one error of a compute, in the ARM error-response shape.
type ProvisioningError struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is an ARM error body's inner object.
type ErrorDetail struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Target  string        `json:"target,omitempty"`
	Details []ErrorDetail `json:"details,omitempty"`
}

// AKSProperties are the properties of an AKS compute.
type AKSProperties struct {
	ClusterFqdn                *string                     `json:"clusterFqdn"`
	SystemServices             []SystemService             `json:"systemServices"`
	AgentCount                 *int                        `json:"agentCount"`
	AgentVMSize                *string                     `json:"agentVmSize"`
	ClusterPurpose             *string                     `json:"clusterPurpose"`
	SSLConfiguration           *SSLConfiguration           `json:"sslConfiguration,omitempty"`
	AKSNetworkingConfiguration *AKSNetworkingConfiguration `json:"aksNetworkingConfiguration,omitempty"`
	LoadBalancerType           *string                     `json:"loadBalancerType"`
	LoadBalancerSubnet         *string                     `json:"loadBalancerSubnet"`
}

// SystemService is a service mlfleet runs in the cluster (the inference front-end).
type SystemService struct {
	SystemServiceType string  `json:"systemServiceType"`
	PublicIPAddress   *string `json:"publicIpAddress"`
	Version           string  `json:"version"`
}

// SSLConfiguration is the TLS setup of the inference front-end. Key is write-only: GET
// never returns it.
type SSLConfiguration struct {
	Status                  string `json:"status,omitempty"`
	Cert                    string `json:"cert,omitempty"`
	Key                     string `json:"key,omitempty"`
	Cname                   string `json:"cname,omitempty"`
	LeafDomainLabel         string `json:"leafDomainLabel,omitempty"`
	OverwriteExistingDomain bool   `json:"overwriteExistingDomain,omitempty"`
	Renew                   bool   `json:"renew,omitempty"`
}

// AKSNetworkingConfiguration is the custom virtual network of a cluster created from the
// workspace (S26).
type AKSNetworkingConfiguration struct {
	SubnetID         string `json:"subnetId,omitempty"`
	ServiceCidr      string `json:"serviceCidr,omitempty"`
	DNSServiceIP     string `json:"dnsServiceIP,omitempty"`
	DockerBridgeCidr string `json:"dockerBridgeCidr,omitempty"`
}

// ComputeMlfleet are mlfleet's own facts about an AKS compute.
type ComputeMlfleet struct {
	// Conditions say what holds about the cluster now (B4), refreshed by a health monitor.
	Conditions []Condition `json:"conditions"`
	// Warnings are things the user should know that did not stop the request (a preview
	// Kubernetes version, a small DevTest cluster).
	Warnings []string `json:"warnings,omitempty"`
	// ClusterUID is the uid of the cluster's kube-system namespace: the cluster's identity.
	ClusterUID string `json:"clusterUid,omitempty"`
	// CreatedCluster is true when the compute created its cluster (delete may delete it).
	CreatedCluster bool `json:"createdCluster"`
	// KubernetesVersion is the version the cluster's API server reports.
	KubernetesVersion string `json:"kubernetesVersion,omitempty"`
	// ComponentsVersion is the version of the components mlfleet installed.
	ComponentsVersion string `json:"componentsVersion,omitempty"`
	// Attached is true once the components are installed and the cluster is claimed.
	Attached bool `json:"attached"`
	// AttachmentID labels every object mlfleet installed in the cluster for this compute.
	AttachmentID string `json:"attachmentId,omitempty"`
	// FrontEndFqdn is the name the inference front-end's TLS certificate is for.
	FrontEndFqdn string `json:"frontEndFqdn,omitempty"`
	// Autoscale is the range the cluster autoscaler keeps the cluster's node pool within;
	// nil when the pool does not autoscale (or the cluster has several pools).
	Autoscale *ComputeAutoscale `json:"autoscale,omitempty"`
}

// ComputeAutoscale is the node range of an autoscaled cluster.
type ComputeAutoscale struct {
	MinCount int `json:"minCount"`
	MaxCount int `json:"maxCount"`
}

// Condition is one observed fact about a compute's cluster.
type Condition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"` // True, False or Unknown
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime"`
}

// ComputeKeys are the secrets of an AKS compute (POST listKeys).
type ComputeKeys struct {
	ComputeType         string  `json:"computeType"`
	UserKubeConfig      string  `json:"userKubeConfig"`
	AdminKubeConfig     string  `json:"adminKubeConfig"`
	ImagePullSecretName *string `json:"imagePullSecretName"`
}

// ComputeNode is one node of a compute's cluster (POST listNodes).
type ComputeNode struct {
	NodeID           string  `json:"nodeId"`
	PrivateIPAddress *string `json:"privateIpAddress"`
	PublicIPAddress  *string `json:"publicIpAddress"`
	Port             int     `json:"port"`
	NodeState        string  `json:"nodeState"`
	RunID            *string `json:"runId"`
}

// ComputeNodes is the answer of listNodes.
type ComputeNodes struct {
	Nodes    []ComputeNode `json:"nodes"`
	NextLink string        `json:"nextLink,omitempty"`
}

// NameAvailability answers a compute-name check (S4).
type NameAvailability struct {
	NameAvailable bool `json:"nameAvailable"`
	// Reason is Invalid or AlreadyExists when the name is not available.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// ComputeValidation is the answer of a dry run (validateOnly) that found nothing wrong.
type ComputeValidation struct {
	Valid    bool     `json:"valid"`
	Checks   []Check  `json:"checks"`
	Warnings []string `json:"warnings,omitempty"`
}

// Check is one precondition of an attach or create and its outcome.
type Check struct {
	Name    string `json:"name"`
	Passed  bool   `json:"passed"`
	Message string `json:"message,omitempty"`
}
