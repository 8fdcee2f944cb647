package api

import (
	"net/http"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestSystemDataIdentityType: as ARM records it, a resource a service principal creates
// has systemData.createdByType "Application", and a user's later change makes
// lastModifiedByType "User" while the creation fields stay.
func TestSystemDataIdentityType(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	a.group(t, "rg1")
	sp := a.principal(t, "Contributor", subURL)
	ws := subURL + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws1?api-version=2023-04-01"
	status, body := a.call(t, sp, http.MethodPut, ws, map[string]any{"location": "westus"})
	if status != http.StatusOK && status != http.StatusCreated {
		t.Fatalf("PUT workspace as a service principal = %d %v", status, body)
	}
	for k, v := range map[string]string{"createdByType": "Application", "lastModifiedByType": "Application"} {
		if got, _ := testutil.Field(body, "systemData."+k).(string); got != v {
			t.Errorf("created by a service principal: systemData.%s = %q, want %q (%v)", k, got, v, body["systemData"])
		}
	}
	creator, _ := testutil.Field(body, "systemData.createdBy").(string)

	status, body = a.call(t, a.owner, http.MethodPut, ws, map[string]any{"location": "westus", "tags": map[string]string{"k": "v"}})
	if status != http.StatusOK {
		t.Fatalf("PUT workspace as the admin = %d %v", status, body)
	}
	for k, v := range map[string]string{"createdBy": creator, "createdByType": "Application", "lastModifiedByType": "User"} {
		if got, _ := testutil.Field(body, "systemData."+k).(string); got != v {
			t.Errorf("changed by a user: systemData.%s = %q, want %q (%v)", k, got, v, body["systemData"])
		}
	}
}
