package api

import (
	"net/http"
	"strings"
	"testing"
)

// TestMintTokenRefusals: POST /mlfleet/v1/tokens refuses an explicit lifetime of 0 like a
// negative one (only leaving it out asks for the default), a lifetime that would outlive
// the asking token (naming the longest allowed, F-ID1), and a role the caller holds at no
// scope, even though a sign-in's token is capped at Owner. Without a role, the answer's
// role is the cap the new token carries: the caller's strongest role (F-ID1).
func TestMintTokenRefusals(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	reader := a.principal(t, "Reader", subURL)
	contributor := a.principal(t, "Contributor", subURL+"/resourceGroups/rg1")
	nobody := a.principal(t, "", "")
	cases := []struct {
		name      string
		token     string
		body      map[string]any
		status    int
		code      string
		wantInMsg string // for a 201: the role of the answer
	}{
		{"default lifetime", a.owner, map[string]any{}, http.StatusCreated, "", "Owner"},
		{"Owner for a day", a.owner, map[string]any{"expiresInSeconds": 86400}, http.StatusCreated, "", "Owner"},
		{"Contributor asks for its default", contributor, map[string]any{}, http.StatusCreated, "", "Contributor"},
		{"Contributor asks for a day", contributor, map[string]any{"expiresInSeconds": 86400}, http.StatusBadRequest, "InvalidRequestContent", "would outlive the token that asks for it"},
		{"Contributor asks past the maximum", contributor, map[string]any{"expiresInSeconds": 90000}, http.StatusBadRequest, "InvalidRequestContent", "ask for at most"},
		{"no role anywhere", nobody, map[string]any{}, http.StatusCreated, "", "Reader"},
		{"zero lifetime", a.owner, map[string]any{"expiresInSeconds": 0}, http.StatusBadRequest, "InvalidRequestContent", "positive number of seconds, not 0"},
		{"negative lifetime", a.owner, map[string]any{"expiresInSeconds": -300}, http.StatusBadRequest, "InvalidRequestContent", "positive number of seconds"},
		{"Reader asks for Owner", reader, map[string]any{"role": "Owner"}, http.StatusForbidden, "AuthorizationFailed", "does not hold the Owner role at any scope (its strongest role: Reader)"},
		{"Reader asks for Contributor", reader, map[string]any{"role": "Contributor"}, http.StatusForbidden, "AuthorizationFailed", "Contributor role"},
		{"Reader asks for Reader", reader, map[string]any{"role": "Reader", "expiresInSeconds": 600}, http.StatusCreated, "", "Reader"},
		{"Reader asks for its default", reader, map[string]any{}, http.StatusCreated, "", "Reader"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := a.call(t, tc.token, http.MethodPost, "/mlfleet/v1/tokens", tc.body)
			if status != tc.status {
				t.Fatalf("status %d, body %v; want %d", status, body, tc.status)
			}
			if tc.code == "" {
				if tok, _ := body["accessToken"].(string); !strings.HasPrefix(tok, "mlf_") || body["role"] != tc.wantInMsg {
					t.Errorf("answer %v, want a token with role %s", body, tc.wantInMsg)
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
