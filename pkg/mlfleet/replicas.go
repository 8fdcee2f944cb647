package mlfleet

import (
	"context"
	"net/http"
)

// ListReplicas returns the replicas serving the control plane (needs a role at the root
// scope).
func (c *Client) ListReplicas(ctx context.Context) ([]*Replica, error) {
	var page List[*Replica]
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/mlfleet/v1/replicas"}, &page)
	return page.Value, err
}
