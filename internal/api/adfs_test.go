package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// tokenServer is an API with an authenticator that signs ID tokens, a service principal
// and a user.
func tokenServer(t *testing.T) (srv *httptest.Server, key *auth.SigningKey, sp, user *auth.CreatedPrincipal) {
	t.Helper()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	key, err := auth.LoadOrCreateSigningKey(filepath.Join(t.TempDir(), "token.key"))
	if err != nil {
		t.Fatal(err)
	}
	authn := auth.New(st, auth.Options{Tenant: "tenant-1", SigningKey: key})
	if _, err := authn.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	admin, _ := authn.MintAdmin(ctx)
	caller, err := authn.Authenticate(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	sp, err = authn.CreatePrincipal(ctx, caller, auth.NewPrincipal{Type: store.PrincipalServicePrincipal, Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	user, err = authn.CreatePrincipal(ctx, caller, auth.NewPrincipal{Type: store.PrincipalUser, Name: "Alice", Login: "alice@mlfleet.local", Password: "correct horse"})
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewTLSServer(New(Config{Store: st, Auth: authn}))
	t.Cleanup(srv.Close)
	return srv, key, sp, user
}

func postToken(t *testing.T, srv *httptest.Server, contentType, body string) (int, map[string]any) {
	t.Helper()
	resp, err := srv.Client().Post(srv.URL+"/adfs/oauth2/token", contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("token answer is not JSON: %d %s", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

const form = "application/x-www-form-urlencoded"

func TestTokenEndpointGrants(t *testing.T) {
	t.Parallel()
	srv, key, sp, user := tokenServer(t)

	status, m := postToken(t, srv, form, url.Values{"grant_type": {"client_credentials"}, "client_id": {sp.Principal.Login},
		"client_secret": {sp.Secret}, "scope": {"https://mlfleet/.default"}}.Encode())
	if status != 200 || m["token_type"] != "Bearer" || m["access_token"] == "" || m["expires_in"].(float64) < 3500 || m["refresh_token"] != nil {
		t.Fatalf("client_credentials: %d %v", status, m)
	}
	bearer(t, srv, m["access_token"].(string), http.StatusOK)

	status, m = postToken(t, srv, form+"; charset=utf-8", url.Values{"grant_type": {"password"}, "client_id": {"04b07795-8ddb-461a-bbee-02f9e1bf7b46"},
		"username": {"ALICE@mlfleet.local"}, "password": {"correct horse"}, "scope": {"https://mlfleet//.default openid profile offline_access"}}.Encode())
	if status != 200 || m["refresh_token"] == nil || m["id_token"] == nil {
		t.Fatalf("password: %d %v", status, m)
	}
	claims, err := key.Verify(m["id_token"].(string))
	if err != nil {
		t.Fatalf("id_token does not verify: %v", err)
	}
	if claims["aud"] != "04b07795-8ddb-461a-bbee-02f9e1bf7b46" || claims["sub"] != user.Principal.ID || claims["upn"] != "alice@mlfleet.local" ||
		!strings.HasSuffix(claims["iss"].(string), "/adfs") || claims["exp"] == nil {
		t.Fatalf("id_token claims: %v", claims)
	}
	refresh := m["refresh_token"].(string)
	// A refresh token is no bearer token.
	bearer(t, srv, refresh, http.StatusUnauthorized)
	status, m = postToken(t, srv, form, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {"x"}}.Encode())
	if status != 200 || m["access_token"] == "" || m["id_token"] == nil {
		t.Fatalf("refresh_token: %d %v", status, m)
	}
	bearer(t, srv, m["access_token"].(string), http.StatusOK)

	// The key set verifies what the token endpoint signs.
	resp, err := srv.Client().Get(srv.URL + "/adfs/discovery/keys")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("keys: %v %v", resp, err)
	}
	resp.Body.Close()
}

// bearer calls GET /tenants with token and checks the status.
func bearer(t *testing.T, srv *httptest.Server, token string, want int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/tenants?api-version=2019-11-01", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if got := send(t, srv.Client(), req).status; got != want {
		t.Fatalf("GET /tenants with the token: %d, want %d", got, want)
	}
}

// TestTokenEndpointRefuses: bad requests get OAuth 2.0 error bodies, never a 5xx.
func TestTokenEndpointRefuses(t *testing.T) {
	t.Parallel()
	srv, _, sp, _ := tokenServer(t)
	cc := func(id, secret string) string {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}.Encode()
	}
	tests := []struct {
		name, contentType, body string
		status                  int
		code                    string
	}{
		{"json body", "application/json", `{"grant_type":"client_credentials"}`, 400, "invalid_request"},
		{"no content type", "", cc(sp.Principal.Login, sp.Secret), 400, "invalid_request"},
		{"no grant", form, "client_id=x", 400, "invalid_request"},
		{"unknown grant", form, "grant_type=authorization_code&code=x", 400, "unsupported_grant_type"},
		{"no secret", form, "grant_type=client_credentials&client_id=" + sp.Principal.Login, 400, "invalid_request"},
		{"wrong secret", form, cc(sp.Principal.Login, sp.Secret+"x"), 401, "invalid_client"},
		{"unknown client", form, cc("00000000-0000-0000-0000-000000000000", sp.Secret), 401, "invalid_client"},
		{"admin by name", form, cc("admin", ""), 400, "invalid_request"},
		{"wrong password", form, "grant_type=password&username=alice@mlfleet.local&password=nope", 400, "invalid_grant"},
		{"password without user", form, "grant_type=password&password=nope", 400, "invalid_request"},
		{"bad refresh", form, "grant_type=refresh_token&refresh_token=mlf_nope", 400, "invalid_grant"},
		{"empty refresh", form, "grant_type=refresh_token", 400, "invalid_request"},
		{"bad form", form, "grant_type=%zz", 400, "invalid_request"},
		{"huge body", form, "grant_type=client_credentials&client_id=" + strings.Repeat("a", 70<<10), 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, m := postToken(t, srv, tt.contentType, tt.body)
			if status != tt.status || m["error"] != tt.code || m["error_description"] == "" {
				t.Fatalf("%d %v, want %d %s", status, m, tt.status, tt.code)
			}
		})
	}
}

// TestTokenEndpointMethods: the token endpoint answers POST only; any other method is a
// 405 with Allow: POST, with or without a token, never a 404 or a 401.
func TestTokenEndpointMethods(t *testing.T) {
	t.Parallel()
	srv, _, _, _ := tokenServer(t)
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodOptions, http.MethodDelete} {
		req, err := http.NewRequest(method, srv.URL+"/adfs/oauth2/token", nil)
		if err != nil {
			t.Fatal(err)
		}
		ans := send(t, srv.Client(), req)
		if ans.status != http.StatusMethodNotAllowed || ans.header.Get("Allow") != http.MethodPost || testutil.Field(ans.body, "error.code") != "MethodNotAllowed" {
			t.Errorf("%s /adfs/oauth2/token = %d, Allow %q: %s", method, ans.status, ans.header.Get("Allow"), ans.raw)
		}
	}
}

// TestTenantDiscovery: what MSAL (inside azidentity) reads before it has a token, for an
// authority https://server/{tenant}, is served without one. The tenant's discovery
// document names an issuer on the server's host (MSAL refuses another) and the token
// endpoint; an unknown tenant is a 400 that names the right one.
func TestTenantDiscovery(t *testing.T) {
	t.Parallel()
	srv, _, _, _ := tokenServer(t)
	host := strings.TrimPrefix(srv.URL, "https://")
	get := func(path string) answer {
		req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		return send(t, srv.Client(), req)
	}
	for _, tenant := range []string{"tenant-1", "TENANT-1", "common", "organizations"} {
		ans := get("/" + tenant + "/v2.0/.well-known/openid-configuration")
		if ans.status != http.StatusOK || testutil.Field(ans.body, "token_endpoint") != srv.URL+"/adfs/oauth2/token" ||
			testutil.Field(ans.body, "issuer") != srv.URL+"/tenant-1/v2.0" || testutil.Field(ans.body, "authorization_endpoint") == "" {
			t.Errorf("discovery of tenant %s = %d: %s", tenant, ans.status, ans.raw)
		}
	}
	ans := get("/common/discovery/instance?api-version=1.1&authorization_endpoint=" + url.QueryEscape(srv.URL+"/tenant-1/oauth2/v2.0/authorize"))
	if ans.status != http.StatusOK || testutil.Field(ans.body, "tenant_discovery_endpoint") != srv.URL+"/tenant-1/v2.0/.well-known/openid-configuration" ||
		!strings.Contains(ans.raw, `"aliases":["`+host+`"]`) {
		t.Errorf("instance discovery = %d: %s", ans.status, ans.raw)
	}
	ans = get("/other-tenant/v2.0/.well-known/openid-configuration")
	if ans.status != http.StatusBadRequest || testutil.Field(ans.body, "error") != "invalid_tenant" || !strings.Contains(ans.raw, "tenant-1") {
		t.Errorf("discovery of an unknown tenant = %d: %s", ans.status, ans.raw)
	}
	// Nothing else under a tenant is anonymous.
	if ans := get("/tenant-1/v2.0/other"); ans.status != http.StatusUnauthorized {
		t.Errorf("GET /tenant-1/v2.0/other without a token = %d: %s", ans.status, ans.raw)
	}
}
