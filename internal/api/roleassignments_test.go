package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestRoleAssignmentScopes: role assignments and definitions at a scope that is not an ARM
// id (az role assignment list --scope /garbage) are a 400 InvalidScope that says what a
// scope is, as in ARM, not the assignments of the root; valid scopes still answer.
func TestRoleAssignmentScopes(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	const v = "?api-version=2022-04-01"
	const ra = "/providers/Microsoft.Authorization/roleAssignments"
	const guid = "/3c5e6a1f-0000-4000-8000-000000000001"
	sub := "/subscriptions/" + testSub
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"list at a garbage scope", http.MethodGet, "/garbage" + ra, nil, http.StatusBadRequest},
		{"list at /subscriptions", http.MethodGet, "/subscriptions" + ra, nil, http.StatusBadRequest},
		{"list at an odd resource id", http.MethodGet, sub + "/resourceGroups/rg1/providers/Microsoft.Compute" + ra, nil, http.StatusBadRequest},
		{"list at a group without a name", http.MethodGet, sub + "/resourceGroups" + ra, nil, http.StatusBadRequest},
		{"get at a garbage scope", http.MethodGet, "/garbage" + ra + guid, nil, http.StatusBadRequest},
		{"delete at a garbage scope", http.MethodDelete, "/garbage" + ra + guid, nil, http.StatusBadRequest},
		{"put at a garbage scope", http.MethodPut, "/garbage/x" + ra + guid,
			map[string]any{"properties": map[string]any{"roleDefinitionId": "Reader", "principalId": "p"}}, http.StatusBadRequest},
		{"definitions at a garbage scope", http.MethodGet, "/garbage/providers/Microsoft.Authorization/roleDefinitions", nil, http.StatusBadRequest},
		{"list at the root", http.MethodGet, ra, nil, http.StatusOK},
		{"list at the subscription", http.MethodGet, sub + ra, nil, http.StatusOK},
		{"list at a group", http.MethodGet, sub + "/resourceGroups/rg1" + ra, nil, http.StatusOK},
		{"definitions at the subscription", http.MethodGet, sub + "/providers/Microsoft.Authorization/roleDefinitions", nil, http.StatusOK},
	} {
		status, body := a.call(t, a.owner, tc.method, tc.path+v, tc.body)
		msg, _ := testutil.Field(body, "error.message").(string)
		if status != tc.status {
			t.Errorf("%s: %s %s = %d %v, want %d", tc.name, tc.method, tc.path, status, body, tc.status)
		} else if status == http.StatusBadRequest && (errorCode(body) != "InvalidScope" || !strings.Contains(msg, "is not valid: use '/', /subscriptions/{id}")) {
			t.Errorf("%s: %v, want InvalidScope saying what a scope is", tc.name, body)
		}
	}
}

// TestRoleAssignmentLifecycle: a role assignment's PUT answers 201 with the assignment in
// ARM's shape and GET reads it; DELETE answers 200 with what it removed, then 204 once
// nothing is left, and GET a 404.
func TestRoleAssignmentLifecycle(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	assignee, err := a.authn.CreatePrincipal(context.Background(), a.admin, auth.NewPrincipal{Type: store.PrincipalServicePrincipal, Name: "assignee"})
	if err != nil {
		t.Fatal(err)
	}
	id := assignee.Principal.ID
	sub := "/subscriptions/" + testSub
	const name = "3c5e6a1f-0000-4000-8000-000000000002"
	path := sub + "/providers/Microsoft.Authorization/roleAssignments/" + name + "?api-version=2022-04-01"
	in := map[string]any{"properties": map[string]any{
		"roleDefinitionId": sub + "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7", "principalId": id}}
	for _, step := range []struct {
		method string
		in     any
		status int
	}{
		{http.MethodPut, in, http.StatusCreated},
		{http.MethodGet, nil, http.StatusOK},
		{http.MethodDelete, nil, http.StatusOK},
		{http.MethodDelete, nil, http.StatusNoContent},
		{http.MethodGet, nil, http.StatusNotFound},
	} {
		status, body := a.call(t, a.owner, step.method, path, step.in)
		if status != step.status {
			t.Fatalf("%s = %d %v, want %d", step.method, status, body, step.status)
		}
		if status != http.StatusOK && status != http.StatusCreated {
			continue
		}
		if body["name"] != name || testutil.Field(body, "properties.principalId") != id || testutil.Field(body, "properties.scope") != sub {
			t.Errorf("%s answered %v, want the assignment of %s at %s", step.method, body, id, sub)
		}
	}
}
