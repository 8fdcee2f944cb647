package resources

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The formats of the rows of subscriptions and resource groups (see package record). Raise
// a Schema, and teach its reader the version before, when a change of the wire type
// changes what is written; TestRecord fails until then.
var (
	subscriptionRecord = record.Kind[armapi.Subscription]{Name: "subscription", Schema: 1}
	groupRecord        = record.Kind[armapi.ResourceGroup]{Name: "resource group", Schema: 1}
)

// encodeSubscription returns the row body of sub.
func encodeSubscription(sub *armapi.Subscription) []byte { return subscriptionRecord.Encode(sub) }

// readSubscription reads a row body written by encodeSubscription, or before record
// versions.
func readSubscription(id string, body []byte) (*armapi.Subscription, error) {
	return subscriptionRecord.Read(id, body)
}

// encodeGroup returns the row body of rg.
func encodeGroup(rg *armapi.ResourceGroup) []byte { return groupRecord.Encode(rg) }

// readGroup reads a row body written by encodeGroup, or before record versions.
func readGroup(id string, body []byte) (*armapi.ResourceGroup, error) {
	return groupRecord.Read(id, body)
}
