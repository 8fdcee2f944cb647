package mlfleet

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// InsightsAPIVersion is the api-version the client sends to the activity log.
const InsightsAPIVersion = "2015-04-01"

// ActivityLogFilter selects activity log events, as the options of `az monitor
// activity-log list` do. Zero fields do not filter.
type ActivityLogFilter struct {
	// StartTime and EndTime bound the events' time (both included). A zero StartTime
	// means the oldest kept, a zero EndTime now.
	StartTime, EndTime time.Time
	// ResourceGroup, ResourceID, ResourceProvider, CorrelationID, Caller and Status keep
	// events with that value (case-insensitive).
	ResourceGroup, ResourceID, ResourceProvider, CorrelationID, Caller, Status string
	// MaxEvents stops after that many events; 0 means all.
	MaxEvents int
}

// odata returns the $filter of f.
func (f ActivityLogFilter) odata() string {
	var conds []string
	add := func(field, op, v string) {
		if v != "" {
			conds = append(conds, field+" "+op+" "+odataString(v))
		}
	}
	if !f.StartTime.IsZero() {
		add("eventTimestamp", "ge", f.StartTime.UTC().Format(time.RFC3339Nano))
	}
	if !f.EndTime.IsZero() {
		add("eventTimestamp", "le", f.EndTime.UTC().Format(time.RFC3339Nano))
	}
	add("resourceGroupName", "eq", f.ResourceGroup)
	add("resourceUri", "eq", f.ResourceID)
	add("resourceProvider", "eq", f.ResourceProvider)
	add("correlationId", "eq", f.CorrelationID)
	add("caller", "eq", f.Caller)
	add("status", "eq", f.Status)
	return strings.Join(conds, " and ")
}

// ListActivityLog returns the activity log events of the client's subscription that f
// selects, newest first, following pages.
func (c *Client) ListActivityLog(ctx context.Context, f ActivityLogFilter) ([]*EventData, error) {
	events := []*EventData{}
	next := c.subPath() + "/providers/Microsoft.Insights/eventtypes/management/values"
	query := url.Values{}
	if filter := f.odata(); filter != "" {
		query.Set("$filter", filter)
	}
	for next != "" && (f.MaxEvents <= 0 || len(events) < f.MaxEvents) {
		var page List[*EventData]
		if _, err := c.do(ctx, request{method: http.MethodGet, path: next, apiVersion: InsightsAPIVersion, query: query}, &page); err != nil {
			return nil, err
		}
		events = append(events, page.Value...)
		next, query = page.NextLink, nil
	}
	if f.MaxEvents > 0 && len(events) > f.MaxEvents {
		events = events[:f.MaxEvents]
	}
	return events, nil
}
