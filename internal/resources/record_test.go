package resources

import (
	"testing"

	"github.com/mlfleet/mlfleet/internal/record/recordtest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The examples set every field, so that the goldens show each of them.

func exampleSubscription() *armapi.Subscription {
	return &armapi.Subscription{ID: "/subscriptions/s1", SubscriptionID: "s1", DisplayName: "mlfleet", State: "Enabled", TenantID: "t1"}
}

func exampleGroup() *armapi.ResourceGroup {
	by := "/subscriptions/s1/resourceGroups/rg0/providers/Microsoft.MachineLearningServices/workspaces/ws0"
	return &armapi.ResourceGroup{ID: "/subscriptions/s1/resourceGroups/rg1", Name: "rg1", Type: "Microsoft.Resources/resourceGroups",
		Location: "westus", ManagedBy: &by, Tags: map[string]string{"team": "ml"}, Properties: armapi.GroupProperties{ProvisioningState: armapi.StateSucceeded}}
}

func TestRecord(t *testing.T) {
	recordtest.Run(t, recordtest.Kind[armapi.Subscription]{
		Name: "subscription", Schema: subscriptionRecord.Schema, Example: exampleSubscription, Encode: subscriptionRecord.Encode,
		Read: func(body []byte) (*armapi.Subscription, error) { return subscriptionRecord.Read("s1", body) },
	})
	recordtest.Run(t, recordtest.Kind[armapi.ResourceGroup]{
		Name: "resourcegroup", Schema: groupRecord.Schema, Example: exampleGroup, Encode: groupRecord.Encode,
		Read: func(body []byte) (*armapi.ResourceGroup, error) { return groupRecord.Read("rg1", body) },
	})
}
