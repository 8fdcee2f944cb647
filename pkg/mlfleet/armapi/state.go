package armapi

// Provisioning states of a resource (properties.provisioningState), as ARM spells them.
// Unknown is mlfleet's for a compute whose cluster cannot be reached.
const (
	StateCreating = "Creating"
	StateUpdating = "Updating"
	// StateScaling is an agent pool's while its node count changes, as AKS shows it.
	StateScaling   = "Scaling"
	StateDeleting  = "Deleting"
	StateSucceeded = "Succeeded"
	StateFailed    = "Failed"
	StateUnknown   = "Unknown"
)
