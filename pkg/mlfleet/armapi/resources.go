package armapi

import (
	"encoding/json"
	"time"
)

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

// Provider is a resource provider namespace as ARM serves it (GET …/providers/{namespace}).
type Provider struct {
	ID                 string                 `json:"id"`
	Namespace          string                 `json:"namespace"`
	RegistrationState  string                 `json:"registrationState"`
	RegistrationPolicy string                 `json:"registrationPolicy"`
	ResourceTypes      []ProviderResourceType `json:"resourceTypes"`
}

// ProviderResourceType is one resource type a provider serves, where and in which API
// versions.
type ProviderResourceType struct {
	ResourceType string   `json:"resourceType"`
	Locations    []string `json:"locations"`
	APIVersions  []string `json:"apiVersions"`
}

// GenericResource is a resource as ARM's generic list shows it (GET …/resources), whatever
// its type. CreatedTime, ChangedTime and ProvisioningState are there when $expand asks.
type GenericResource struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	Type              string            `json:"type"`
	Location          string            `json:"location,omitempty"`
	Tags              map[string]string `json:"tags"`
	Kind              string            `json:"kind,omitempty"`
	SKU               json.RawMessage   `json:"sku,omitempty"`
	Identity          json.RawMessage   `json:"identity,omitempty"`
	CreatedTime       *time.Time        `json:"createdTime,omitempty"`
	ChangedTime       *time.Time        `json:"changedTime,omitempty"`
	ProvisioningState string            `json:"provisioningState,omitempty"`
}

// Tags is the Tags API's body: the tags of a resource or resource group, served at
// {scope}/providers/Microsoft.Resources/tags/default (az tag create, update, list).
type Tags struct {
	ID         string         `json:"id"`
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Properties TagsProperties `json:"properties"`
}

// TagsProperties hold the tags of a Tags body.
type TagsProperties struct {
	Tags map[string]string `json:"tags"`
}

// TagsPatch is the body of a PATCH of a scope's tags: Operation Merge adds or replaces
// the tags sent, Replace sets exactly them, Delete removes those sent (by name, or by
// name and value when a value is given).
type TagsPatch struct {
	Operation  string         `json:"operation"`
	Properties TagsProperties `json:"properties"`
}
