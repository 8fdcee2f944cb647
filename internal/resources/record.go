package resources

import (
	"encoding/json"
	"fmt"

	"github.com/mlfleet/mlfleet/internal/record"
)

// Versions of the stored formats of subscriptions and resource groups (see package
// record). Raise one, and teach its reader the version before, when a change of the wire
// type changes what is written; TestRecord fails until then.
const (
	subscriptionSchema = 1
	groupSchema        = 1
)

// storedSubscription is a subscription as its row holds it.
type storedSubscription struct {
	record.Header
	*Subscription
}

// storedGroup is a resource group as its row holds it.
type storedGroup struct {
	record.Header
	*ResourceGroup
}

func encodeSubscription(sub *Subscription) []byte {
	b, _ := json.Marshal(storedSubscription{Header: record.Header{Schema: subscriptionSchema}, Subscription: sub})
	return b
}

// readSubscription reads a row body written by encodeSubscription, or before record
// versions.
func readSubscription(id string, body []byte) (*Subscription, error) {
	rec := storedSubscription{Subscription: &Subscription{}}
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, fmt.Errorf("decode subscription %s: %w", id, err)
	}
	if err := rec.Check("subscription", subscriptionSchema); err != nil {
		return nil, fmt.Errorf("decode subscription %s: %w", id, err)
	}
	return rec.Subscription, nil
}

func encodeGroup(rg *ResourceGroup) []byte {
	b, _ := json.Marshal(storedGroup{Header: record.Header{Schema: groupSchema}, ResourceGroup: rg})
	return b
}

// readGroup reads a row body written by encodeGroup, or before record versions.
func readGroup(id string, body []byte) (*ResourceGroup, error) {
	rec := storedGroup{ResourceGroup: &ResourceGroup{}}
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, fmt.Errorf("decode resource group %s: %w", id, err)
	}
	if err := rec.Check("resource group", groupSchema); err != nil {
		return nil, fmt.Errorf("decode resource group %s: %w", id, err)
	}
	return rec.ResourceGroup, nil
}
