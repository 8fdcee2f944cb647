package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/endpoints"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestEndpointDeleteTakesItsRoleAssignments: role assignments at an endpoint's scope are
// deleted with the endpoint, as ARM deletes a resource's assignments with it and as a
// group's delete does here (QA9 #7). A Contributor given one endpoint loses it when it is
// deleted, and does not get the keys of a new endpoint that reuses the name.
func TestEndpointDeleteTakesItsRoleAssignments(t *testing.T) {
	a, srv := endpointARMRunning(t, endpoints.Config{})
	a.rs.OnAccessChanged(a.authn.Forget) // as the server wires it
	const v = "?api-version=2023-04-01"
	scope := assetWS + "/onlineEndpoints/EpTwo"
	key := map[string]any{"properties": map[string]any{"authMode": "Key"}}
	if status, ans := jsonCall(t, a, srv, a.owner, http.MethodPut, scope+v, key); status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, ans)
	}
	settleEndpoint(t, a, srv, scope)
	token := a.principal(t, "Contributor", scope)
	if status, ans := jsonCall(t, a, srv, token, http.MethodPost, scope+"/listKeys"+v, nil); status != http.StatusOK {
		t.Fatalf("listKeys as the endpoint's Contributor: %d %v", status, ans)
	}

	if status, ans := jsonCall(t, a, srv, a.owner, http.MethodDelete, assetWS+"/onlineEndpoints/eptwo"+v, nil); status != http.StatusAccepted {
		t.Fatalf("delete: %d %v", status, ans)
	}
	testutil.WaitFor(t, 30*time.Second, "the endpoint's delete", func() (bool, string) {
		status, _ := jsonCall(t, a, srv, a.owner, http.MethodGet, scope+v, nil)
		return status == http.StatusNotFound, fmt.Sprint(status)
	})
	left, err := a.st.ListRoleAssignments(context.Background(), store.RoleAssignmentFilter{Around: scope})
	if err != nil {
		t.Fatal(err)
	}
	for _, ra := range left {
		if ra.Scope == scope {
			t.Errorf("role assignment %s (%s) at the deleted endpoint's scope is left", ra.Name, ra.Role)
		}
	}

	again := assetWS + "/onlineEndpoints/eptwo"
	if status, ans := jsonCall(t, a, srv, a.owner, http.MethodPut, again+v, key); status != http.StatusCreated {
		t.Fatalf("create again: %d %v", status, ans)
	}
	settleEndpoint(t, a, srv, again)
	if status, ans := jsonCall(t, a, srv, token, http.MethodPost, again+"/listKeys"+v, nil); status != http.StatusForbidden {
		t.Errorf("listKeys of the new endpoint as the old one's Contributor: %d %v, want 403", status, ans)
	}
}
