package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestMintTokenRefusals: POST /mlfleet/v1/tokens refuses an explicit lifetime of 0 like a
// negative one (only leaving it out asks for the default), and a role the caller holds at
// no scope, even though a sign-in's token is capped at Owner.
func TestMintTokenRefusals(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	reader := a.principal(t, "Reader", subURL)
	cases := []struct {
		name      string
		token     string
		body      map[string]any
		status    int
		code      string
		wantInMsg string
	}{
		{"default lifetime", a.owner, map[string]any{}, http.StatusCreated, "", ""},
		{"zero lifetime", a.owner, map[string]any{"expiresInSeconds": 0}, http.StatusBadRequest, "InvalidRequestContent", "positive number of seconds, not 0"},
		{"negative lifetime", a.owner, map[string]any{"expiresInSeconds": -300}, http.StatusBadRequest, "InvalidRequestContent", "positive number of seconds"},
		{"Reader asks for Owner", reader, map[string]any{"role": "Owner"}, http.StatusForbidden, "AuthorizationFailed", "does not hold the Owner role at any scope (its strongest role: Reader)"},
		{"Reader asks for Contributor", reader, map[string]any{"role": "Contributor"}, http.StatusForbidden, "AuthorizationFailed", "Contributor role"},
		{"Reader asks for Reader", reader, map[string]any{"role": "Reader", "expiresInSeconds": 600}, http.StatusCreated, "", ""},
		{"Reader asks for its default", reader, map[string]any{}, http.StatusCreated, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := a.call(t, tc.token, http.MethodPost, "/mlfleet/v1/tokens", tc.body)
			if status != tc.status {
				t.Fatalf("status %d, body %v; want %d", status, body, tc.status)
			}
			if tc.code == "" {
				if tok, _ := body["accessToken"].(string); !strings.HasPrefix(tok, "mlf_") {
					t.Errorf("no token in %v", body)
				}
				return
			}
			e, _ := body["error"].(map[string]any)
			if msg, _ := e["message"].(string); e["code"] != tc.code || !strings.Contains(msg, tc.wantInMsg) {
				t.Errorf("error %v, want code %s and %q in the message", e, tc.code, tc.wantInMsg)
			}
		})
	}
}
