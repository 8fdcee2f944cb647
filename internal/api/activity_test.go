package api

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

const activityPath = "/subscriptions/" + testSub + "/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01"

func activityURL(filter string) string {
	return activityPath + "&$filter=" + url.QueryEscape(filter)
}

// timeFilter is az's filter for the last hour, with an extra condition.
func timeFilter(extra string) string {
	now := time.Now().UTC()
	f := "eventTimestamp ge " + now.Add(-time.Hour).Format("2006-01-02T15:04:05.000000") + " and eventTimestamp le " + now.Add(time.Minute).Format("2006-01-02T15:04:05.000000")
	if extra != "" {
		f += " and " + extra
	}
	return f
}

// listEvents follows nextLink and returns every event of the filter.
func (a *apiServer) listEvents(t *testing.T, path string) []map[string]any {
	t.Helper()
	var all []map[string]any
	for pages := 0; path != ""; pages++ {
		ans := a.call(t, a.reader, "GET", path, "")
		if ans.status != http.StatusOK {
			t.Fatalf("GET %s = %d %s", path, ans.status, ans.raw)
		}
		for _, v := range ans.body["value"].([]any) {
			all = append(all, v.(map[string]any))
		}
		next, _ := ans.body["nextLink"].(string)
		path = strings.TrimPrefix(next, a.srv.URL)
		if pages > 50 {
			t.Fatal("nextLink never ends")
		}
	}
	return all
}

func value(e map[string]any, key string) any {
	if m, ok := e[key].(map[string]any); ok {
		return m["value"]
	}
	return e[key]
}

// TestActivityLog: every write that passed authentication is recorded — successes,
// failures, a 403, an operation's start and its end — with the caller and the correlation
// id (the client's or the request id, returned as x-ms-correlation-request-id); reads and
// unauthenticated requests are not; bodies never are; the list filters, pages and refuses
// a bad $filter with a 400.
func TestActivityLog(t *testing.T) {
	t.Parallel()
	a := newAPIServer(t, Config{PageSize: 2})
	const secret = "s3cr3t-value-that-must-not-leak"

	put := a.call(t, a.admin, "PUT", rgURL("rg1"), `{"location":"westus","tags":{"password":"`+secret+`"}}`, "x-ms-correlation-request-id", "corr-create")
	if put.status != http.StatusCreated || put.header.Get("x-ms-correlation-request-id") != "corr-create" {
		t.Fatalf("PUT rg1 = %d, correlation %q: %s", put.status, put.header.Get("x-ms-correlation-request-id"), put.raw)
	}
	bad := a.call(t, a.admin, "PUT", rgURL("rg2"), `{"location":"nowhere-`+secret+`"}`)
	if bad.status != http.StatusBadRequest || bad.header.Get("x-ms-correlation-request-id") != bad.header.Get("x-ms-request-id") {
		t.Fatalf("PUT rg2 = %d (correlation %q, request id %q), want a 400 correlated by its request id", bad.status, bad.header.Get("x-ms-correlation-request-id"), bad.header.Get("x-ms-request-id"))
	}
	if ans := a.call(t, a.reader, "DELETE", rgURL("rg1"), ""); ans.status != http.StatusForbidden {
		t.Fatalf("a reader's DELETE = %d", ans.status)
	}
	if ans := a.call(t, "", "PUT", rgURL("rg3"), `{"location":"westus"}`); ans.status != http.StatusUnauthorized {
		t.Fatalf("unauthenticated PUT = %d", ans.status)
	}
	if ans := a.call(t, a.admin, "GET", rgURL("rg1"), ""); ans.status != http.StatusOK {
		t.Fatalf("GET = %d", ans.status)
	}
	del := a.call(t, a.admin, "DELETE", rgURL("rg1"), "", "x-ms-correlation-request-id", "corr-delete", "x-ms-client-request-id", "client-7")
	if del.status != http.StatusAccepted {
		t.Fatalf("DELETE = %d %s", del.status, del.raw)
	}

	// The delete's operation ends in the background.
	var events []map[string]any
	testutil.Poll(t.Context(), 10*time.Second, func() (bool, string) {
		events = a.listEvents(t, activityURL(timeFilter("")))
		return len(events) == 5, ""
	})
	type row struct{ op, status, sub, caller, corr string }
	var got []row
	for _, e := range events {
		got = append(got, row{value(e, "operationName").(string), value(e, "status").(string), value(e, "subStatus").(string), e["caller"].(string), e["correlationId"].(string)})
	}
	const rgWrite, rgDelete = "Microsoft.Resources/subscriptions/resourceGroups/write", "Microsoft.Resources/subscriptions/resourceGroups/delete"
	want := []row{
		{rgDelete, "Succeeded", "", "admin", "corr-delete"},
		{rgDelete, "Accepted", "Accepted", "admin", "corr-delete"},
		{rgDelete, "Failed", "Forbidden", "reader", "*"},
		{rgWrite, "Failed", "BadRequest", "admin", bad.header.Get("x-ms-request-id")},
		{rgWrite, "Succeeded", "Created", "admin", "corr-create"},
	}
	if len(got) != len(want) {
		t.Fatalf("activity log:\n%v\nwant\n%v", got, want)
	}
	for i := range want {
		if want[i].corr == "*" {
			want[i].corr = got[i].corr
		}
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if events[0]["operationId"] != events[1]["operationId"] || !strings.HasSuffix(del.header.Get("Azure-AsyncOperation"), "/"+events[1]["operationId"].(string)+"?api-version=2022-09-01") {
		t.Errorf("the delete's events do not share its operation id: %v, %v, %s", events[0]["operationId"], events[1]["operationId"], del.header.Get("Azure-AsyncOperation"))
	}
	if h := events[1]["httpRequest"].(map[string]any); h["clientRequestId"] != "client-7" || h["method"] != "DELETE" || h["clientIpAddress"] != "127.0.0.1" {
		t.Errorf("httpRequest = %v", h)
	}
	if p := events[3]["properties"].(map[string]any); p["statusMessage"] != `{"error":{"code":"InvalidLocation"}}` {
		t.Errorf("the 400's properties = %v", p)
	}

	// Filters.
	for _, tt := range []struct {
		filter string
		n      int
	}{
		{timeFilter("resourceGroupName eq 'RG2'"), 1},
		{timeFilter("correlationId eq 'corr-delete'"), 2},
		{timeFilter("resourceUri eq '/subscriptions/" + testSub + "/resourceGroups/rg1'"), 4},
		{timeFilter("resourceProvider eq 'Microsoft.Resources' and caller eq 'reader'"), 1},
		{timeFilter("status eq 'Failed'"), 2},
		{"eventTimestamp ge '2020-01-01T00:00:00Z' and eventTimestamp le '2020-01-02T00:00:00Z'", 0},
	} {
		if got := a.listEvents(t, activityURL(tt.filter)); len(got) != tt.n {
			t.Errorf("$filter=%s lists %d events, want %d", tt.filter, len(got), tt.n)
		}
	}
	sel := a.call(t, a.reader, "GET", activityURL(timeFilter("correlationId eq 'corr-create'"))+"&$select=caller,operationName", "")
	if sel.status != http.StatusOK || !strings.Contains(sel.raw, `"value":[{"caller":"admin","operationName":{"value":"`+rgWrite+`"`) {
		t.Errorf("$select: %d %s", sel.status, sel.raw)
	}
	for _, tt := range []struct{ path, code string }{
		{activityURL("eventTimestamp ge 'yesterday'"), "InvalidFilter"},
		{activityURL("resourceGroupName eq 'a' or resourceGroupName eq 'b'"), "InvalidFilter"},
		{activityPath + "&$select=body", "InvalidRequestContent"},
		{activityPath + "&$skiptoken=nope", "InvalidRequestContent"},
		{strings.Replace(activityPath, "?api-version=2015-04-01", "", 1), "MissingApiVersionParameter"},
	} {
		if ans := a.call(t, a.reader, "GET", tt.path, ""); ans.status != http.StatusBadRequest || errorCode(ans.body) != tt.code {
			t.Errorf("GET %s = %d %s, want 400 %s", tt.path, ans.status, ans.raw, tt.code)
		}
	}
	if ans := a.call(t, a.reader, "GET", strings.Replace(activityPath, testSub, "00000000-0000-0000-0000-000000000bad", 1), ""); ans.status != http.StatusForbidden {
		t.Errorf("another subscription's log = %d %s, want 403 (no role there)", ans.status, ans.raw)
	}

	// Nothing of the bodies is kept.
	if !strings.Contains(bad.raw, "nowhere-"+secret) {
		t.Fatalf("the 400 no longer repeats the location; the check below proves less: %s", bad.raw)
	}
	all, _ := json.Marshal(a.listEvents(t, activityPath))
	if strings.Contains(string(all), secret) || strings.Contains(string(all), "nowhere") {
		t.Errorf("the activity log holds what a request body carried: %s", all)
	}
}
