package resources

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// GenericQuery selects the resources of a generic list.
type GenericQuery struct {
	// Subscription is the subscription listed; ResourceGroup, when set, the group.
	Subscription  string
	ResourceGroup string
	// Types are the ARM types that are listed: the resources users create, not the rows
	// mlfleet keeps for itself (claims, secrets).
	Types  []string
	Filter Filter
	// Expand adds createdTime, changedTime and provisioningState to each resource.
	Expand bool
}

// ListGeneric returns a page of the resources q selects, in id order. next is the id of
// the page's last resource when another page follows (the next page's Page.After), "" on
// the last page; clauses checked here, such as a name, pass over resources the store
// lists, which a continuation by id does not count.
func (s *Service) ListGeneric(ctx context.Context, q GenericQuery, p Page) (items []*armapi.GenericResource, next string, err error) {
	if _, err := s.GetSubscription(ctx, q.Subscription); err != nil {
		return nil, "", err
	}
	scope := arm.SubscriptionPath(q.Subscription)
	if q.ResourceGroup != "" {
		if _, err := s.GetGroup(ctx, q.Subscription, q.ResourceGroup); err != nil {
			return nil, "", err
		}
		scope = arm.ResourceGroupPath(q.Subscription, q.ResourceGroup)
	}
	if g := q.Filter.ResourceGroup; g != "" {
		if q.ResourceGroup != "" && !strings.EqualFold(g, q.ResourceGroup) {
			return []*armapi.GenericResource{}, "", nil
		}
		scope = arm.ResourceGroupPath(q.Subscription, g)
	}
	types := q.Types
	if t := q.Filter.ResourceType; t != "" {
		types = []string{}
		for _, x := range q.Types {
			if strings.EqualFold(x, t) {
				types = append(types, x)
			}
		}
	}
	top := p.Top
	if top <= 0 {
		top = 100
	}
	opts := store.ListOptions{Scope: scope, Types: types, Within: p.Within, After: p.After, Offset: p.Skip, Limit: top + 1}
	items = []*armapi.GenericResource{}
	for {
		rows, err := s.store.ListResources(ctx, opts)
		if err != nil {
			return nil, "", fmt.Errorf("list resources: %w", err)
		}
		for _, r := range rows {
			g, err := generic(r, q.Expand)
			if err != nil {
				return nil, "", err
			}
			if !q.Filter.Matches(g) {
				continue
			}
			if len(items) == top {
				return items, items[len(items)-1].ID, nil
			}
			items = append(items, g)
		}
		if len(rows) < opts.Limit {
			return items, "", nil
		}
		// The filter passed over some of these rows: read on after the last one.
		opts.After, opts.Offset = rows[len(rows)-1].ID, 0
	}
}

// generic reads the fields every resource's body shares.
func generic(r *store.Resource, expand bool) (*armapi.GenericResource, error) {
	var body struct {
		Location   string            `json:"location"`
		Tags       map[string]string `json:"tags"`
		Kind       string            `json:"kind"`
		SKU        json.RawMessage   `json:"sku"`
		Identity   json.RawMessage   `json:"identity"`
		Properties struct {
			ProvisioningState string `json:"provisioningState"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return nil, fmt.Errorf("decode resource %s: %w", r.ID, err)
	}
	g := &armapi.GenericResource{ID: r.ID, Name: r.Name, Type: r.Type, Location: body.Location, Tags: nonNilTags(body.Tags), Kind: body.Kind,
		SKU: nullToNil(body.SKU), Identity: nullToNil(body.Identity)}
	if g.Location == "" {
		g.Location = r.Location
	}
	// A child resource is named with its parents' names, as ARM lists it: ws1/aks1.
	if id, err := arm.ParseID(r.ID); err == nil && len(id.Names) > 1 {
		g.Name = strings.Join(id.Names, "/")
	}
	if expand {
		created, changed := r.CreatedAt, r.UpdatedAt
		g.CreatedTime, g.ChangedTime, g.ProvisioningState = &created, &changed, body.Properties.ProvisioningState
	}
	return g, nil
}

func nullToNil(m json.RawMessage) json.RawMessage {
	if string(m) == "null" {
		return nil
	}
	return m
}
