package resources

import (
	"testing"

	"github.com/mlfleet/mlfleet/internal/record/recordtest"
)

// The examples set every field, so that the goldens show each of them.

func exampleSubscription() *Subscription {
	return &Subscription{ID: "/subscriptions/s1", SubscriptionID: "s1", DisplayName: "mlfleet", State: "Enabled", TenantID: "t1"}
}

func exampleGroup() *ResourceGroup {
	by := "/subscriptions/s1/resourceGroups/rg0/providers/Microsoft.MachineLearningServices/workspaces/ws0"
	return &ResourceGroup{ID: "/subscriptions/s1/resourceGroups/rg1", Name: "rg1", Type: "Microsoft.Resources/resourceGroups",
		Location: "westus", ManagedBy: &by, Tags: map[string]string{"team": "ml"}, Properties: GroupProperties{ProvisioningState: StateSucceeded}}
}

func TestRecord(t *testing.T) {
	recordtest.Run(t, recordtest.Kind[Subscription]{
		Name: "subscription", Schema: subscriptionRecord.Schema, Example: exampleSubscription, Encode: encodeSubscription,
		Read: func(body []byte) (*Subscription, error) { return readSubscription("s1", body) },
	})
	recordtest.Run(t, recordtest.Kind[ResourceGroup]{
		Name: "resourcegroup", Schema: groupRecord.Schema, Example: exampleGroup, Encode: encodeGroup,
		Read: func(body []byte) (*ResourceGroup, error) { return readGroup("rg1", body) },
	})
}
