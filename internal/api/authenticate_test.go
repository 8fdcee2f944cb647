package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/store"
)

// TestUnauthenticatedCodes: as ARM does, an expired token gets 401
// ExpiredAuthenticationToken with its expiry, a token the server does not accept
// InvalidAuthenticationToken, and no bearer token at all AuthenticationFailed; each says
// how to get a token and keeps the WWW-Authenticate challenge.
func TestUnauthenticatedCodes(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	ctx := context.Background()
	// An expired token, written to the store as MintFor would have an hour ago.
	expiry := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	const expired = "mlf_expired-token-of-the-admin"
	if err := a.st.CreateToken(ctx, &store.Token{Hash: auth.Hash(expired), Name: "admin", Role: auth.RoleOwner,
		PrincipalID: a.admin.ID, CreatedAt: expiry.Add(-time.Hour), ExpiresAt: expiry}); err != nil {
		t.Fatal(err)
	}
	// A revoked token: its service principal's secret was reset.
	revoked := a.principal(t, "Reader", subURL)
	revokedCaller, err := a.authn.Authenticate(ctx, revoked)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.authn.ResetSecret(ctx, a.admin, revokedCaller.Name, ""); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name          string
		authorization string
		code          string
		wantInMsg     []string
	}{
		{"no header", "", "AuthenticationFailed", []string{"'Authorization: Bearer <token>'"}},
		{"not a bearer token", "Basic YWRtaW46eA==", "AuthenticationFailed", []string{"not a bearer token"}},
		{"empty bearer token", "Bearer ", "AuthenticationFailed", []string{"Bearer <token>"}},
		{"garbage", "Bearer mlf_garbage", "InvalidAuthenticationToken", []string{"did not issue it", "mlfleet account get-access-token"}},
		{"revoked", "Bearer " + revoked, "InvalidAuthenticationToken", []string{"revoked it"}},
		{"expired", "Bearer " + expired, "ExpiredAuthenticationToken", []string{"The access token expiry UTC time '3/4/2026 5:06:07 AM' is earlier than current UTC time '", "mlfleet account get-access-token"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, a.srv.URL+subURL+"/resourceGroups?api-version=2022-09-01", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			ans := send(t, a.srv.Client(), req)
			if ans.status != http.StatusUnauthorized || ans.header.Get("x-ms-error-code") != tc.code {
				t.Fatalf("%d %s, want 401 %s", ans.status, ans.raw, tc.code)
			}
			if got := ans.header.Get("WWW-Authenticate"); got != `Bearer realm="mlfleet"` {
				t.Errorf("WWW-Authenticate %q", got)
			}
			e, _ := ans.body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if e["code"] != tc.code {
				t.Errorf("body code %v, want %s", e["code"], tc.code)
			}
			for _, want := range tc.wantInMsg {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
		})
	}
}
