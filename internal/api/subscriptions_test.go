package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestSubscriptionIDInPath: a path whose subscription id is not a GUID is ARM's 400
// InvalidSubscriptionId, before authorization, for an admin and for a caller with a role
// in one subscription alike; the message says how to fill the id in (az rest replaces only
// {subscriptionId}, and sent the README's {sub} as it was). A GUID that names no
// subscription stays what authorization makes of it: 404 SubscriptionNotFound for the
// admin, whose role covers every subscription, 403 for a caller with no role there, so that
// the answer says nothing about which subscriptions exist.
func TestSubscriptionIDInPath(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	owner := a.principal(t, "Owner", subURL)
	const attach = `/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/c1?api-version=2023-04-01`
	const unknown = "/subscriptions/00000000-0000-0000-0000-000000000bad"
	body := map[string]any{"location": "westus", "properties": map[string]any{"computeType": "AKS", "resourceId": subURL + "/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1"}}
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"az rest placeholder", http.MethodPut, "/subscriptions/{sub}" + attach, body},
		{"not a GUID", http.MethodGet, "/subscriptions/mysub/resourceGroups?api-version=2022-09-01", nil},
		{"the subscription itself", http.MethodGet, "/subscriptions/" + testSub[:35] + "?api-version=2022-12-01", nil},
		{"GUID in braces", http.MethodGet, "/subscriptions/{" + testSub + "}/resourceGroups?api-version=2022-09-01", nil},
		{"not hexadecimal", http.MethodGet, "/subscriptions/" + strings.Replace(testSub, "a", "g", 1) + "/resourceGroups?api-version=2022-09-01", nil},
		{"role assignments", http.MethodGet, "/subscriptions/x/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01", nil},
		{"tags", http.MethodGet, "/subscriptions/x/resourceGroups/rg1/providers/Microsoft.Resources/tags/default?api-version=2021-04-01", nil},
		{"no api-version", http.MethodGet, "/subscriptions/x/resourceGroups", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for who, token := range map[string]string{"admin": a.owner, "subscription Owner": owner} {
				status, ans := a.call(t, token, tc.method, tc.path, tc.body)
				e, _ := ans["error"].(map[string]any)
				msg, _ := e["message"].(string)
				if status != http.StatusBadRequest || errorCode(ans) != "InvalidSubscriptionId" ||
					!strings.Contains(msg, "is malformed or invalid") || !strings.Contains(msg, "{subscriptionId}") {
					t.Errorf("%s: %s %s = %d %v, want 400 InvalidSubscriptionId saying to write {subscriptionId}", who, tc.method, tc.path, status, ans)
				}
			}
		})
	}
	// Authentication still comes first.
	if status, ans := a.call(t, "", http.MethodGet, "/subscriptions/{sub}/resourceGroups?api-version=2022-09-01", nil); status != http.StatusUnauthorized {
		t.Errorf("no token, malformed subscription = %d %v, want 401", status, ans)
	}
	// The real subscription, and one that is well-formed but unknown.
	if status, ans := a.call(t, owner, http.MethodGet, subURL+"/resourceGroups?api-version=2022-09-01", nil); status != http.StatusOK {
		t.Errorf("Owner lists its groups = %d %v", status, ans)
	}
	if status, ans := a.call(t, a.owner, http.MethodGet, unknown+"/resourceGroups?api-version=2022-09-01", nil); status != http.StatusNotFound || errorCode(ans) != "SubscriptionNotFound" {
		t.Errorf("admin, unknown subscription = %d %v, want 404 SubscriptionNotFound", status, ans)
	}
	if status, ans := a.call(t, owner, http.MethodGet, unknown+"/resourceGroups?api-version=2022-09-01", nil); status != http.StatusForbidden || errorCode(ans) != "AuthorizationFailed" {
		t.Errorf("subscription Owner, unknown subscription = %d %v, want 403 AuthorizationFailed", status, ans)
	}
}
