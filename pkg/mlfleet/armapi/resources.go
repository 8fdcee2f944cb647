package armapi

import "time"

// SystemData is ARM's record of who created and last changed a resource.
type SystemData struct {
	CreatedAt          time.Time `json:"createdAt"`
	CreatedBy          string    `json:"createdBy"`
	CreatedByType      string    `json:"createdByType"`
	LastModifiedAt     time.Time `json:"lastModifiedAt"`
	LastModifiedBy     string    `json:"lastModifiedBy"`
	LastModifiedByType string    `json:"lastModifiedByType"`
}

// Subscription is a subscription as ARM serves it.
type Subscription struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscriptionId"`
	DisplayName    string `json:"displayName"`
	State          string `json:"state"`
	TenantID       string `json:"tenantId"`
}

// ResourceGroup is a resource group as ARM serves it.
type ResourceGroup struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Type       string            `json:"type"`
	Location   string            `json:"location"`
	ManagedBy  *string           `json:"managedBy"`
	Tags       map[string]string `json:"tags"`
	Properties GroupProperties   `json:"properties"`
}

// GroupProperties are a resource group's properties.
type GroupProperties struct {
	ProvisioningState string `json:"provisioningState"`
}

// GroupInput is the body of a resource group PUT.
type GroupInput struct {
	Location  string            `json:"location"`
	Tags      map[string]string `json:"tags"`
	ManagedBy *string           `json:"managedBy"`
}
