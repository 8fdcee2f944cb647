package armapi

// Provisioning states of a resource (properties.provisioningState), as ARM spells them.
// Unknown is mlfleet's for a compute whose cluster cannot be reached.
const (
	StateCreating  = "Creating"
	StateUpdating  = "Updating"
	StateDeleting  = "Deleting"
	StateSucceeded = "Succeeded"
	StateFailed    = "Failed"
	StateUnknown   = "Unknown"
)
