package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

const rgAPI = "?api-version=2022-09-01"
const mlAPI = "?api-version=2024-04-01"

// TestBadInput checks that every kind of bad input gets the right ARM status and code, and
// never a 500 (A2, A3, N3).
func TestBadInput(t *testing.T) {
	t.Parallel()
	must(t, do(t, call{method: "PUT", path: rgPath("bad-input-rg") + rgAPI, body: `{"location":"westus"}`}), http.StatusCreated)
	must(t, do(t, call{method: "PUT", path: wsPath("bad-input-rg", "ws1") + mlAPI, body: `{"location":"westus"}`}), http.StatusOK)

	cases := []struct {
		name       string
		call       call
		wantStatus int
		wantCode   string
		wantInMsg  string
	}{
		{"missing api-version", call{method: "GET", path: rgPath("bad-input-rg")}, 400, "MissingApiVersionParameter", "api-version"},
		{"malformed api-version", call{method: "GET", path: rgPath("bad-input-rg") + "?api-version=latest"}, 400, "InvalidApiVersionParameter", "YYYY-MM-DD"},
		{"no token", call{method: "GET", path: rgPath("bad-input-rg") + rgAPI, token: strp("")}, 401, "AuthenticationFailed", "Bearer"},
		{"invalid token", call{method: "GET", path: rgPath("bad-input-rg") + rgAPI, token: strp("mlf_not-a-real-token")}, 401, "InvalidAuthenticationToken", "get-access-token"},
		{"no token, no api-version", call{method: "GET", path: rgPath("bad-input-rg"), token: strp("")}, 401, "AuthenticationFailed", ""},
		{"resource group name with bad characters", call{method: "PUT", path: rgPath("bad*name") + rgAPI, body: `{"location":"westus"}`}, 400, "InvalidResourceName", "1 to 90"},
		{"resource group name ending with a period", call{method: "PUT", path: rgPath("rg.") + rgAPI, body: `{"location":"westus"}`}, 400, "InvalidResourceName", "period"},
		{"resource group name too long", call{method: "PUT", path: rgPath(strings.Repeat("a", 91)) + rgAPI, body: `{"location":"westus"}`}, 400, "InvalidResourceName", ""},
		{"resource group without location", call{method: "PUT", path: rgPath("rg-noloc") + rgAPI, body: `{}`}, 400, "LocationRequired", "location"},
		{"resource group in unknown location", call{method: "PUT", path: rgPath("rg-moon") + rgAPI, body: `{"location":"moon"}`}, 400, "InvalidLocation", "westus"},
		{"malformed JSON", call{method: "PUT", path: rgPath("rg-json") + rgAPI, body: `{"location":`}, 400, "InvalidRequestContent", "not valid JSON"},
		{"empty body", call{method: "PUT", path: rgPath("rg-empty") + rgAPI}, 400, "InvalidRequestContent", "empty"},
		{"body is not an object", call{method: "PUT", path: rgPath("rg-array") + rgAPI, body: `[1,2]`}, 400, "InvalidRequestContent", "object"},
		{"location of wrong type", call{method: "PUT", path: rgPath("rg-type") + rgAPI, body: `{"location":5}`}, 400, "InvalidRequestContent", "'location' must be of type string"},
		{"tags of wrong type", call{method: "PUT", path: rgPath("rg-tags") + rgAPI, body: `{"location":"westus","tags":"x"}`}, 400, "InvalidRequestContent", "tags"},
		{"unknown resource group", call{method: "GET", path: rgPath("no-such-rg") + rgAPI}, 404, "ResourceGroupNotFound", "no-such-rg"},
		{"delete unknown resource group", call{method: "DELETE", path: rgPath("no-such-rg") + rgAPI}, 404, "ResourceGroupNotFound", ""},
		{"unknown subscription", call{method: "GET", path: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups" + rgAPI}, 404, "SubscriptionNotFound", ""},
		{"unknown workspace", call{method: "GET", path: wsPath("bad-input-rg", "nope") + mlAPI}, 404, "WorkspaceNotFound", "nope"},
		{"workspace in unknown group", call{method: "PUT", path: wsPath("no-such-rg", "ws1") + mlAPI, body: `{"location":"westus"}`}, 404, "ResourceGroupNotFound", ""},
		{"workspace name too short", call{method: "PUT", path: wsPath("bad-input-rg", "ab") + mlAPI, body: `{"location":"westus"}`}, 400, "InvalidResourceName", "3 to 33"},
		{"workspace name with a dot", call{method: "PUT", path: wsPath("bad-input-rg", "my.ws") + mlAPI, body: `{"location":"westus"}`}, 400, "InvalidResourceName", ""},
		{"workspace without location", call{method: "PUT", path: wsPath("bad-input-rg", "ws2") + mlAPI, body: `{"properties":{}}`}, 400, "LocationRequired", ""},
		{"workspace properties of wrong type", call{method: "PUT", path: wsPath("bad-input-rg", "ws2") + mlAPI, body: `{"location":"westus","properties":[]}`}, 400, "InvalidRequestContent", "properties"},
		{"workspace moved to another location", call{method: "PUT", path: wsPath("bad-input-rg", "ws1") + mlAPI, body: `{"location":"eastus"}`}, 409, "Conflict", "westus"},
		{"resource group moved to another location", call{method: "PUT", path: rgPath("bad-input-rg") + rgAPI, body: `{"location":"eastus"}`}, 409, "Conflict", "cannot be changed"},
		{"unknown path", call{method: "GET", path: "/subscriptions/" + sub() + "/foo" + rgAPI}, 404, "NotFound", ""},
		{"method not allowed", call{method: "POST", path: rgPath("bad-input-rg") + rgAPI, body: `{}`}, 405, "MethodNotAllowed", "POST"},
		{"bad $skip", call{method: "GET", path: "/subscriptions/" + sub() + "/resourceGroups" + rgAPI + "&$skip=-1"}, 400, "InvalidRequestContent", "$skip"},
		{"unknown operation", call{method: "GET", path: "/subscriptions/" + sub() + "/providers/Microsoft.Resources/operationStatuses/nope" + rgAPI}, 404, "NotFound", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := do(t, tc.call)
			if a.status != tc.wantStatus || a.errorCode() != tc.wantCode {
				t.Fatalf("got %d %s, want %d %s; body %s", a.status, a.errorCode(), tc.wantStatus, tc.wantCode, a.raw)
			}
			if !strings.Contains(a.errorMessage(), tc.wantInMsg) {
				t.Errorf("message %q does not mention %q", a.errorMessage(), tc.wantInMsg)
			}
			if a.header.Get("x-ms-request-id") == "" {
				t.Error("no x-ms-request-id")
			}
			if a.header.Get("x-ms-error-code") != tc.wantCode {
				t.Errorf("x-ms-error-code %q, want %q", a.header.Get("x-ms-error-code"), tc.wantCode)
			}
			if _, ok := a.body["error"].(map[string]any)["additionalInfo"]; !ok {
				t.Errorf("error body lacks additionalInfo: %s", a.raw)
			}
		})
	}
}

// TestResourceGroupLifecycle covers PUT/GET/list/DELETE of resource groups with case
// handling, request ids and the LRO headers of delete (A1, A2, A4, A6).
func TestResourceGroupLifecycle(t *testing.T) {
	t.Parallel()
	a := do(t, call{method: "PUT", path: rgPath("Life-RG") + rgAPI, body: `{"location":"West US","tags":{"team":"ml"}}`,
		headers: map[string]string{"x-ms-client-request-id": "client-123"}})
	must(t, a, http.StatusCreated)
	if a.header.Get("x-ms-client-request-id") != "client-123" {
		t.Errorf("client request id not echoed: %v", a.header)
	}
	if a.body["name"] != "Life-RG" || a.body["location"] != "westus" {
		t.Errorf("created body %s", a.raw)
	}
	// Same name in another case: the same group, updated, keeping its first spelling.
	a = do(t, call{method: "PUT", path: rgPath("life-rg") + rgAPI, body: `{"location":"westus"}`})
	must(t, a, http.StatusOK)
	if a.body["name"] != "Life-RG" || a.body["id"] != rgPath("Life-RG") {
		t.Errorf("case not preserved: %s", a.raw)
	}
	a = do(t, call{method: "GET", path: strings.ToUpper(rgPath("LIFE-rg")[:14]) + rgPath("LIFE-rg")[14:] + rgAPI})
	must(t, a, http.StatusOK)
	if a.body["name"] != "Life-RG" {
		t.Errorf("get by other case: %s", a.raw)
	}
	a = do(t, call{method: "HEAD", path: rgPath("life-RG") + rgAPI})
	must(t, a, http.StatusNoContent)

	a = do(t, call{method: "DELETE", path: rgPath("LIFE-RG") + rgAPI})
	must(t, a, http.StatusAccepted)
	async, loc := a.header.Get("Azure-AsyncOperation"), a.header.Get("Location")
	if !strings.HasPrefix(async, "https://") || !strings.HasPrefix(loc, "https://") || a.header.Get("Retry-After") == "" {
		t.Fatalf("delete headers: %v", a.header)
	}
	st := waitOperation(t, async)
	if st["status"] != "Succeeded" || st["endTime"] == nil || st["startTime"] == nil || st["id"] == nil || st["name"] == nil {
		t.Fatalf("operation status %v", st)
	}
	a = do(t, call{method: "GET", path: strings.TrimPrefix(loc, shared.cfg.Server)})
	must(t, a, http.StatusNoContent)
	must(t, do(t, call{method: "GET", path: rgPath("Life-RG") + rgAPI}), http.StatusNotFound)
	must(t, do(t, call{method: "HEAD", path: rgPath("Life-RG") + rgAPI}), http.StatusNotFound)
}

// TestPaging lists with a page size of 5 (the shared server's): nextLink is present on full
// pages, absent (not null) on the last, and $skip continues (A5).
func TestPaging(t *testing.T) {
	t.Parallel()
	must(t, do(t, call{method: "PUT", path: rgPath("paging-rg") + rgAPI, body: `{"location":"eastus"}`}), http.StatusCreated)
	for i := range 12 {
		must(t, do(t, call{method: "PUT", path: wsPath("paging-rg", fmt.Sprintf("ws-%02d", i)) + mlAPI, body: `{"location":"eastus"}`}), http.StatusOK)
	}
	next := rgPath("paging-rg") + "/providers/Microsoft.MachineLearningServices/workspaces" + mlAPI
	var names []string
	pages := 0
	for next != "" {
		a := do(t, call{method: "GET", path: strings.TrimPrefix(next, shared.cfg.Server)})
		must(t, a, http.StatusOK)
		pages++
		for _, v := range a.body["value"].([]any) {
			names = append(names, v.(map[string]any)["name"].(string))
		}
		nl, has := a.body["nextLink"]
		if has && nl == nil {
			t.Fatalf("nextLink is null instead of absent: %s", a.raw)
		}
		next, _ = nl.(string)
		if next != "" && !strings.Contains(next, "api-version=") {
			t.Fatalf("nextLink without api-version: %s", next)
		}
	}
	if pages != 3 || len(names) != 12 || names[0] != "ws-00" || names[11] != "ws-11" {
		t.Fatalf("got %d pages, names %v", pages, names)
	}
	a := do(t, call{method: "GET", path: rgPath("paging-rg") + "/providers/Microsoft.MachineLearningServices/workspaces" + mlAPI + "&$skip=10"})
	if v := a.body["value"].([]any); len(v) != 2 || a.body["nextLink"] != nil {
		t.Fatalf("$skip=10: %s", a.raw)
	}
	// The SDK follows the pages too.
	list, err := sdk(t).ListWorkspaces(t.Context(), "paging-rg")
	if err != nil || len(list) != 12 {
		t.Fatalf("SDK list: %d, %v", len(list), err)
	}
}

// TestReaderToken shows roles: a Reader token minted by the admin may read but not write,
// and cannot mint itself a stronger token (N3).
func TestReaderToken(t *testing.T) {
	t.Parallel()
	a := do(t, call{method: "POST", path: "/mlfleet/v1/tokens", body: `{"role":"Reader","expiresInSeconds":600}`})
	must(t, a, http.StatusCreated)
	reader := a.body["accessToken"].(string)
	if exp, _ := time.Parse(time.RFC3339, a.body["expiresOn"].(string)); time.Until(exp) < 9*time.Minute || time.Until(exp) > 11*time.Minute {
		t.Errorf("expiresOn %v", a.body["expiresOn"])
	}
	must(t, do(t, call{method: "GET", path: "/subscriptions/" + sub() + "/resourceGroups" + rgAPI, token: &reader}), http.StatusOK)
	a = do(t, call{method: "PUT", path: rgPath("reader-rg") + rgAPI, body: `{"location":"westus"}`, token: &reader})
	if a.status != http.StatusForbidden || a.errorCode() != "AuthorizationFailed" {
		t.Fatalf("reader PUT: %d %s", a.status, a.raw)
	}
	a = do(t, call{method: "POST", path: "/mlfleet/v1/tokens", body: `{"role":"Owner"}`, token: &reader})
	if a.status != http.StatusForbidden {
		t.Fatalf("reader minting an Owner token: %d %s", a.status, a.raw)
	}
}

// TestHealthAndMetrics: health endpoints need no token; /metrics serves Prometheus text.
func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/healthz", "/readyz"} {
		a := do(t, call{method: "GET", path: p, token: strp("")})
		if a.status != 200 || !strings.Contains(a.raw, "ok") {
			t.Errorf("%s: %d %s", p, a.status, a.raw)
		}
	}
	do(t, call{method: "GET", path: "/subscriptions" + rgAPI})
	a := do(t, call{method: "GET", path: "/metrics", token: strp("")})
	if a.status != 200 || !strings.Contains(a.raw, "mlfleet_http_requests_total") || !strings.Contains(a.raw, "go_goroutines") {
		t.Errorf("/metrics: %d %.300s", a.status, a.raw)
	}
}

// waitOperation polls an Azure-AsyncOperation URL until the operation ends.
func waitOperation(t testing.TB, url string) map[string]any {
	t.Helper()
	var body map[string]any
	testutil.WaitFor(t, 60*time.Second, "operation "+url+" ends", func() (bool, string) {
		a := do(t, call{method: "GET", path: strings.TrimPrefix(url, shared.cfg.Server)})
		must(t, a, http.StatusOK)
		body = a.body
		return a.body["status"] != "InProgress", fmt.Sprint(a.body["status"])
	})
	return body
}

func must(t testing.TB, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body %s", a.status, status, a.raw)
	}
}
