package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRoleAssignmentListAll: --all lists the assignments under the subscription, at any
// scope (the server's list at the subscription), as az's --all; with --scope it is a usage
// error, with no request sent. The server is a fake that answers one assignment in a
// resource group.
func TestRoleAssignmentListAll(t *testing.T) {
	const list = "/subscriptions/sub1/providers/Microsoft.Authorization/roleAssignments"
	fake, filters := filterServer(t, list, "", func(_ *httptest.Server, w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(`{"value":[{"id":"/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.Authorization/roleAssignments/a1","name":"a1",` +
			`"properties":{"scope":"/subscriptions/sub1/resourceGroups/rg1","principalId":"p1",` +
			`"roleDefinitionId":"/subscriptions/sub1/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c"}}]}`))
	})
	out, errOut, code := runAgainst(t, fake, "role", "assignment", "list", "--all", "--query", "[].scope", "-o", "tsv")
	if code != 0 || out != "/subscriptions/sub1/resourceGroups/rg1\n" || len(filters()) != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q, %d requests; want the group's assignment from one list of the subscription", code, out, errOut, len(filters()))
	}
	_, errOut, code = runAgainst(t, fake, "role", "assignment", "list", "--all", "--scope", "/subscriptions/sub1/resourceGroups/rg1")
	if code != 2 || !strings.Contains(errOut, "--scope is not required when --all is used") || len(filters()) != 1 {
		t.Errorf("exit %d, stderr %q, %d requests; want a usage error and no request", code, errOut, len(filters()))
	}
}
