package resources

import (
	"github.com/mlfleet/mlfleet/internal/record"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// The formats of the rows of subscriptions and resource groups (see package record). When a
// change of a wire type changes what Encode writes, raise its Schema and wrap Read to read
// the version before; TestRecord fails until then.
var (
	subscriptionRecord = record.Kind[armapi.Subscription]{Name: "subscription", Schema: 1}
	groupRecord        = record.Kind[armapi.ResourceGroup]{Name: "resource group", Schema: 1}
)
