package security

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// mint asks for a token as caller and returns the answer; seconds 0 asks for the default
// lifetime (the field is left out).
func (e *env) mint(t *testing.T, caller, role string, seconds int) answer {
	t.Helper()
	in := map[string]any{"role": role}
	if seconds != 0 {
		in["expiresInSeconds"] = seconds
	}
	body, _ := json.Marshal(in)
	return e.call(t, caller, "POST", "/mlfleet/v1/tokens", string(body))
}

// TestTokenLimits: a token is never stronger nor longer-lived than the token that asks for
// it, and by default lives an hour.
func TestTokenLimits(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, e *env) {
		a := e.mint(t, "admin", "", 0)
		if a.status != http.StatusCreated {
			t.Fatalf("admin mints: %d %s", a.status, a.raw)
		}
		exp, _ := time.Parse(time.RFC3339, a.body["expiresOn"].(string))
		if d := time.Until(exp); d < 59*time.Minute || d > 61*time.Minute {
			t.Errorf("default lifetime %v, want 1h", d)
		}
		if a := e.mint(t, "admin", "", 366*24*3600); a.status != http.StatusBadRequest {
			t.Errorf("366-day token: %d %s", a.status, a.raw)
		}

		// A two-minute Reader token of the admin...
		a = e.mint(t, "admin", "Reader", 120)
		if a.status != http.StatusCreated || a.body["role"] != "Reader" {
			t.Fatalf("mint Reader: %d %s", a.status, a.raw)
		}
		short, _ := time.Parse(time.RFC3339, a.body["expiresOn"].(string))
		e.setToken("short reader "+t.Name(), a.body["accessToken"].(string))
		caller := "short reader " + t.Name()
		// ...cannot mint an Owner or Contributor token...
		for _, role := range []string{"Owner", "Contributor"} {
			if a := e.mint(t, caller, role, 60); a.status != http.StatusForbidden || a.code() != "AuthorizationFailed" {
				t.Errorf("Reader mints %s: %d %s", role, a.status, a.raw)
			}
		}
		// ...nor one that outlives it: asked for a day, it is told the longest it may ask
		// for; asked for the default, it gets at most its own expiry.
		if a := e.mint(t, caller, "", 24*3600); a.status != http.StatusBadRequest || !strings.Contains(a.raw, "ask for at most") {
			t.Errorf("a day from the short token: %d %s, want 400 naming the longest lifetime", a.status, a.raw)
		}
		a = e.mint(t, caller, "", 0)
		if a.status != http.StatusCreated || a.body["role"] != "Reader" {
			t.Fatalf("mint from the short token: %d %s", a.status, a.raw)
		}
		if got, _ := time.Parse(time.RFC3339, a.body["expiresOn"].(string)); got.After(short) {
			t.Errorf("child expires %v, after its parent %v", got, short)
		}
		// ...and writes nothing, even as the admin.
		if a := e.call(t, caller, "PUT", e.rgPath("reader-made")+"?api-version=2022-09-01", `{"location":"westus"}`); a.status != http.StatusForbidden {
			t.Errorf("Reader-capped admin token writes: %d %s", a.status, a.raw)
		}
		// A principal gets no token for a role it holds nowhere, and the token of a role it
		// holds in one group does not reach beyond that group.
		if a := e.mint(t, callerContribOther, "Owner", 600); a.status != http.StatusForbidden || a.code() != "AuthorizationFailed" || !strings.Contains(a.raw, "Owner role at any scope") {
			t.Errorf("Contributor asks for an Owner token: %d %s", a.status, a.raw)
		}
		if a := e.mint(t, callerContribOther, "Contributor", 600); a.status != http.StatusCreated {
			t.Errorf("Contributor's own Contributor token: %d %s", a.status, a.raw)
		} else {
			e.setToken("minted "+t.Name(), a.body["accessToken"].(string))
			if b := e.call(t, "minted "+t.Name(), "PUT", e.rgPath("escalated")+"?api-version=2022-09-01", `{"location":"westus"}`); b.status != http.StatusForbidden {
				t.Errorf("minted token escalates: %d %s", b.status, b.raw)
			}
		}
	})
}

// TestRevocation: resetting a service principal's secret or deleting it stops its tokens
// at once; a wrong secret gets OAuth's invalid_client with mlfleet's advice.
func TestRevocation(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, e *env) {
		name := "revoked " + t.Name()
		if err := e.servicePrincipal(name, "Reader", "/subscriptions/"+e.sub); err != nil {
			t.Fatal(err)
		}
		groups := "/subscriptions/" + e.sub + "/resourceGroups?api-version=2022-09-01"
		if a := e.call(t, name, "GET", groups, ""); a.status != http.StatusOK {
			t.Fatalf("new principal reads: %d %s", a.status, a.raw)
		}
		appID, secret := e.who(name).appID, e.who(name).secret
		if _, status, raw := e.signIn(appID, secret+"x"); status != http.StatusUnauthorized || !strings.Contains(raw, `"invalid_client"`) || !strings.Contains(raw, "create-for-rbac") {
			t.Errorf("wrong secret: %d %s", status, raw)
		}
		a := e.call(t, "admin", "POST", "/mlfleet/v1/principals/"+appID+"/resetCredential", "")
		if a.status != http.StatusOK || a.body["password"] == secret || a.body["password"] == "" {
			t.Fatalf("reset: %d %s", a.status, a.raw)
		}
		if a := e.call(t, name, "GET", groups, ""); a.status != http.StatusUnauthorized {
			t.Errorf("token after reset: %d", a.status)
		}
		if _, status, _ := e.signIn(appID, secret); status != http.StatusUnauthorized {
			t.Errorf("old secret after reset: %d", status)
		}
		token, status, raw := e.signIn(appID, a.body["password"].(string))
		if status != http.StatusOK {
			t.Fatalf("new secret: %d %s", status, raw)
		}
		e.setToken(name, token)
		if a := e.call(t, "admin", "DELETE", "/mlfleet/v1/principals/"+appID, ""); a.status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", a.status, a.raw)
		}
		if a := e.call(t, name, "GET", groups, ""); a.status != http.StatusUnauthorized {
			t.Errorf("token after delete: %d", a.status)
		}
	})
}

// TestPrincipalsAPI: only Owners manage principals and grant roles, within their scopes.
func TestPrincipalsAPI(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, e *env) {
		sp := func(caller, role, scope string) answer {
			body, _ := json.Marshal(map[string]any{"displayName": "made by " + caller, "role": role, "scopes": []string{scope}})
			return e.call(t, caller, "POST", "/mlfleet/v1/principals", string(body))
		}
		sub := "/subscriptions/" + e.sub
		if a := sp(callerContribOther, "Reader", e.rgPath(otherRG)); a.status != http.StatusForbidden {
			t.Errorf("Contributor creates a principal: %d %s", a.status, a.raw)
		}
		if a := sp(callerReader, "Reader", sub); a.status != http.StatusForbidden {
			t.Errorf("Reader creates a principal: %d %s", a.status, a.raw)
		}
		if a := sp(callerOtherSub, "Owner", sub); a.status != http.StatusForbidden {
			t.Errorf("Owner of another subscription grants here: %d %s", a.status, a.raw)
		}
		if a := sp(callerOwner, "Reader", sub+"/resourceGroups/no-such-group"); a.status != http.StatusNotFound {
			t.Errorf("scope that does not exist: %d %s", a.status, a.raw)
		}
		a := sp(callerOwner, "Contributor", e.rgPath(targetRG))
		if a.status != http.StatusCreated || len(a.body["password"].(string)) < 32 {
			t.Fatalf("Owner creates a principal: %d %s", a.status, a.raw)
		}
		// A Reader sees only itself; the Reader cannot delete anyone.
		if a := e.call(t, callerReader, "GET", "/mlfleet/v1/principals", ""); a.status != http.StatusOK || len(a.body["value"].([]any)) != 1 {
			t.Errorf("Reader lists principals: %d %s", a.status, a.raw)
		}
		id := a.body["id"].(string)
		if b := e.call(t, callerReader, "DELETE", "/mlfleet/v1/principals/"+id, ""); b.status != http.StatusNotFound && b.status != http.StatusForbidden {
			t.Errorf("Reader deletes a principal: %d %s", b.status, b.raw)
		}
		// Role assignments: ARM's PUT, then a Contributor cannot remove it.
		ra := sub + "/providers/Microsoft.Authorization/roleAssignments/3c5e6a1f-0000-4000-8000-" + map[string]string{"sqlite": "00000000000a", "postgres": "00000000000b"}[e.name]
		body := `{"properties":{"roleDefinitionId":"` + sub + `/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7","principalId":"` + id + `"}}`
		if b := e.call(t, callerContribOther, "PUT", ra+"?api-version=2022-04-01", body); b.status != http.StatusForbidden {
			t.Errorf("Contributor assigns a role: %d %s", b.status, b.raw)
		}
		b := e.call(t, callerOwner, "PUT", ra+"?api-version=2022-04-01", body)
		if b.status != http.StatusCreated || b.body["id"] != ra {
			t.Fatalf("Owner assigns Reader: %d %s", b.status, b.raw)
		}
		props := b.body["properties"].(map[string]any)
		if props["principalId"] != id || props["scope"] != sub || props["principalType"] != "ServicePrincipal" {
			t.Errorf("assignment body: %s", b.raw)
		}
		if b := e.call(t, callerOwner, "GET", sub+"/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=principalId%20eq%20'"+id+"'", ""); b.status != http.StatusOK || len(b.body["value"].([]any)) != 2 {
			t.Errorf("list by principal: %d %s", b.status, b.raw)
		}
		if b := e.call(t, callerContribOther, "DELETE", ra+"?api-version=2022-04-01", ""); b.status != http.StatusForbidden {
			t.Errorf("Contributor removes a role: %d %s", b.status, b.raw)
		}
		if b := e.call(t, callerOwner, "DELETE", ra+"?api-version=2022-04-01", ""); b.status != http.StatusOK {
			t.Errorf("Owner removes the role: %d %s", b.status, b.raw)
		}
		if b := e.call(t, callerOwner, "DELETE", "/mlfleet/v1/principals/"+id, ""); b.status != http.StatusNoContent {
			t.Errorf("Owner deletes what it created: %d %s", b.status, b.raw)
		}
	})
}
