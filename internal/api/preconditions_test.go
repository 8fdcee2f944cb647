package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

func TestPreconditionsHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		ifMatch     []string
		ifNoneMatch []string
		want        arm.Preconditions
		wantErr     bool
	}{
		{name: "none", want: arm.Preconditions{}},
		{name: "create only", ifNoneMatch: []string{"*"}, want: arm.Preconditions{IfNoneMatch: true}},
		{name: "create only, spaces", ifNoneMatch: []string{" * "}, want: arm.Preconditions{IfNoneMatch: true}},
		{name: "etag", ifMatch: []string{`"5"`}, want: arm.Preconditions{IfMatch: `"5"`}},
		{name: "must exist", ifMatch: []string{"*"}, want: arm.Preconditions{IfMatch: "*"}},
		{name: "several If-Match headers make one list", ifMatch: []string{`"5"`, `"6"`}, want: arm.Preconditions{IfMatch: `"5", "6"`}},
		{name: "both", ifMatch: []string{`"5"`}, ifNoneMatch: []string{"*"}, want: arm.Preconditions{IfMatch: `"5"`, IfNoneMatch: true}},
		{name: "If-None-Match with an etag", ifNoneMatch: []string{`"5"`}, wantErr: true},
		{name: "If-None-Match with a weak etag", ifNoneMatch: []string{`W/"5"`}, wantErr: true},
		{name: "If-None-Match with * in a list", ifNoneMatch: []string{"*", `"5"`}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPut, "/", nil)
			for _, v := range tt.ifMatch {
				r.Header.Add("If-Match", v)
			}
			for _, v := range tt.ifNoneMatch {
				r.Header.Add("If-None-Match", v)
			}
			got, err := preconditions(r)
			if tt.wantErr {
				ae := toARM(err)
				if err == nil || ae.Status != http.StatusBadRequest || ae.Code != arm.CodeInvalidRequestContent || !strings.Contains(ae.Message, "only If-None-Match: *") {
					t.Fatalf("preconditions = %+v, %v; want a 400 InvalidRequestContent saying only * is supported", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("preconditions = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestPreconditionsRefused: every PUT and DELETE of computes and managed clusters answers
// an If-None-Match other than * with a 400, before it reads the body or changes anything.
func TestPreconditionsRefused(t *testing.T) {
	t.Parallel()
	st := storetest.OpenSQLite(t)
	authn, token := cappedToken(t, st, auth.RoleContributor)
	// No services: a request that got past the header check would fail with a 500.
	srv := httptest.NewServer(New(Config{Store: st, Auth: authn}))
	t.Cleanup(srv.Close)

	const rg = "/subscriptions/" + testSub + "/resourceGroups/rg1"
	compute := rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1/computes/myaks?api-version=2024-04-01"
	cluster := rg + "/providers/Microsoft.ContainerService/managedClusters/mc1?api-version=2025-02-01"
	tests := []struct{ name, method, path string }{
		{"compute PUT", http.MethodPut, compute},
		{"compute DELETE", http.MethodDelete, compute + "&underlyingResourceAction=Detach"},
		{"cluster PUT", http.MethodPut, cluster},
		{"cluster DELETE", http.MethodDelete, cluster},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(`{"location":"westus"}`))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("If-None-Match", `"3"`)
			ans := send(t, srv.Client(), req)
			var body arm.Body
			if err := json.Unmarshal([]byte(ans.raw), &body); err != nil || body.Error == nil {
				t.Fatalf("%s = %d, body is not an ARM error: %q", tt.name, ans.status, ans.raw)
			}
			e := body.Error
			if ans.status != http.StatusBadRequest || e.Code != arm.CodeInvalidRequestContent || e.Target != "If-None-Match" ||
				!strings.Contains(e.Message, `If-None-Match header '"3"' is not supported: only If-None-Match: * is`) {
				t.Errorf("%s with If-None-Match: \"3\" = %d %s (target %q) %q; want 400 InvalidRequestContent saying only * is supported",
					tt.name, ans.status, e.Code, e.Target, e.Message)
			}
		})
	}
}

// A failed If-Match is served as 412, not folded into a 400 or 409.
func TestPreconditionFailedStatus(t *testing.T) {
	t.Parallel()
	err := arm.Preconditions{IfMatch: `"1"`}.CheckIfMatch("Compute 'myaks'", true, arm.ETag(2))
	rec := httptest.NewRecorder()
	writeError(rec, httptest.NewRequest(http.MethodPut, "/", nil), err)
	if rec.Code != http.StatusPreconditionFailed || rec.Header().Get("x-ms-error-code") != arm.CodePreconditionFailed {
		t.Errorf("a failed If-Match is served as %d %s, want 412 %s", rec.Code, rec.Header().Get("x-ms-error-code"), arm.CodePreconditionFailed)
	}
}

// cappedToken bootstraps the admin of st and returns a token of it limited to role.
func cappedToken(t *testing.T, st store.Store, role string) (*auth.Authenticator, string) {
	t.Helper()
	authn, admin, _ := bootstrapAdmin(t, st)
	token, _, err := authn.MintFor(context.Background(), admin, role, 0)
	if err != nil {
		t.Fatal(err)
	}
	return authn, token
}
