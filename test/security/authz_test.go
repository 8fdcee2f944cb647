package security

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/api"
)

// matrixRG is the resource group the route matrix and the malformed-name tests aim at.
const matrixRG = "sec-matrix"

// apiVersion is one every route accepts.
const apiVersion = "?api-version=2024-04-01"

// concrete fills a route pattern: the subscription is the server's, the resource group
// one that only the matrix uses (it may delete or create it), every other name one that
// does not exist, so that what a caller may do fails with 400 or 404.
func (e *env) concrete(pattern string) string {
	r := strings.NewReplacer(
		"{sub}", e.sub, "{rg}", matrixRG, "{ns}", "Microsoft.ContainerService",
		"{op}", "00000000-0000-4000-8000-0000000000ff", "{location}", "westus")
	path := r.Replace(pattern)
	for strings.Contains(path, "{") {
		i := strings.Index(path, "{")
		j := strings.Index(path[i:], "}")
		path = path[:i] + "sec-missing-" + path[i+1:i+j] + path[i+j+1:]
	}
	return path
}

// expected is the status class a caller gets on a route: "401", "403" or "allowed"
// (anything but 401 and 403).
func expected(caller string, rt api.Route) string {
	read := rt.Method == http.MethodGet || rt.Method == http.MethodHead
	inGroup := strings.Contains(rt.Pattern, "{rg}")
	underSub := strings.Contains(rt.Pattern, "{sub}")
	operation := strings.Contains(rt.Pattern, "{op}")
	switch caller {
	case callerNone, callerExpired:
		return "401"
	case callerOwner:
		return "allowed"
	case callerReader:
		if read {
			return "allowed"
		}
		return "403"
	case callerOtherSub:
		if underSub {
			return "403"
		}
		return "allowed"
	case callerContribOther:
		// A role in another group of the subscription lets it list the subscription's
		// resources (and see only its own group's), read the subscription and its resource
		// providers and follow operations, nothing in the target group nor the
		// subscription's own settings.
		if inGroup || (underSub && !read) {
			return "403"
		}
		if read && underSub && !operation && !isList(rt.Pattern) && rt.Pattern != "/subscriptions/{sub}" && rt.Pattern != "/subscriptions/{sub}/providers/{namespace}" {
			return "403"
		}
		return "allowed"
	}
	panic(caller)
}

// isList reports whether a pattern ends in a collection (a literal), not a name.
func isList(pattern string) bool {
	segs := strings.Split(pattern, "/")
	return !strings.HasPrefix(segs[len(segs)-1], "{")
}

// TestRouteMatrix: every route × every kind of caller gets the status ARM would give: 401
// without a valid token, 403 AuthorizationFailed naming the principal, the action and the
// scope where the caller holds no role that allows the action, and otherwise an answer of
// the handler (which, for names that do not exist, is a 400 or a 404).
func TestRouteMatrix(t *testing.T) {
	t.Parallel()
	routes := api.New(api.Config{}).Routes()
	slices.SortFunc(routes, func(a, b api.Route) int { return strings.Compare(a.Pattern+a.Method, b.Pattern+b.Method) })
	if len(routes) < 30 {
		t.Fatalf("only %d routes", len(routes))
	}
	callers := []string{callerNone, callerExpired, callerOtherSub, callerReader, callerContribOther, callerOwner}
	eachServer(t, func(t *testing.T, e *env) {
		tried := 0
		for _, rt := range routes {
			if strings.HasPrefix(rt.Pattern, "/mlfleet/") {
				continue // principals and tokens: TestPrincipalsAPI, TestTokenLimits
			}
			path := e.concrete(rt.Pattern) + apiVersion
			body := ""
			if rt.Method == http.MethodPut || rt.Method == http.MethodPost || rt.Method == http.MethodPatch {
				body = `{"properties":{}}`
			}
			for _, caller := range callers {
				want := expected(caller, rt)
				a := e.call(t, caller, rt.Method, path, body)
				tried++
				got := "allowed"
				switch {
				case a.status == http.StatusUnauthorized:
					got = "401"
				case a.status == http.StatusForbidden:
					got = "403"
				case a.status >= 500:
					t.Errorf("%s %s as %s: %d %s", rt.Method, path, caller, a.status, a.raw)
					continue
				}
				if got != want {
					t.Errorf("%s %s as %s: got %d (%s), want %s\n%.300s", rt.Method, rt.Pattern, caller, a.status, got, want, a.raw)
					continue
				}
				if got == "403" && rt.Method != http.MethodHead {
					msg := fmt.Sprint(a.body["error"])
					if a.code() != "AuthorizationFailed" || !strings.Contains(msg, e.who(caller).appID) || !strings.Contains(msg, "/subscriptions/") {
						t.Errorf("%s %s as %s: 403 does not name the principal and scope: %s", rt.Method, rt.Pattern, caller, a.raw)
					}
				}
				if got == "401" && a.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s as %s: 401 without WWW-Authenticate", rt.Method, rt.Pattern, caller)
				}
			}
		}
		t.Logf("%d requests", tried)
	})
}

// TestListsShowOnlyWhatTheCallerMayRead: a caller with a role in one resource group sees
// that group (and what is in it) in the subscription's lists, not the others.
func TestListsShowOnlyWhatTheCallerMayRead(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, e *env) {
		names := func(caller, path string) []string {
			a := e.call(t, caller, "GET", path, "")
			if a.status != http.StatusOK {
				t.Fatalf("GET %s as %s: %d %s", path, caller, a.status, a.raw)
			}
			var out []string
			for _, v := range a.body["value"].([]any) {
				m := v.(map[string]any)
				name, _ := m["name"].(string)
				if name == "" {
					name, _ = m["subscriptionId"].(string) // subscriptions have no name
				}
				out = append(out, name)
			}
			slices.Sort(out)
			return out
		}
		groups := "/subscriptions/" + e.sub + "/resourceGroups?api-version=2022-09-01"
		if got := names(callerContribOther, groups); !slices.Equal(got, []string{otherRG}) {
			t.Errorf("Contributor of %s lists groups %v", otherRG, got)
		}
		if got := names(callerOwner, groups); !slices.Contains(got, targetRG) || !slices.Contains(got, otherRG) {
			t.Errorf("Owner lists groups %v", got)
		}
		if got := names(callerOtherSub, groups[:0]+"/subscriptions?api-version=2022-09-01"); len(got) != 1 {
			t.Errorf("Owner of another subscription lists subscriptions %v, want only its own", got)
		}
		// Workspaces in both groups: the Contributor of one sees only its own.
		for _, rg := range []string{targetRG, otherRG} {
			a := e.call(t, "admin", "PUT", e.rgPath(rg)+"/providers/Microsoft.MachineLearningServices/workspaces/ws-"+rg+apiVersion, `{"location":"westus"}`)
			if a.status >= 300 {
				t.Fatalf("create workspace: %d %s", a.status, a.raw)
			}
		}
		ws := "/subscriptions/" + e.sub + "/providers/Microsoft.MachineLearningServices/workspaces" + apiVersion
		if got := names(callerContribOther, ws); !slices.Equal(got, []string{"ws-" + otherRG}) {
			t.Errorf("Contributor of %s lists workspaces %v", otherRG, got)
		}
		if got := names(callerReader, ws); len(got) < 2 {
			t.Errorf("Reader of the subscription lists workspaces %v", got)
		}
		// It may write in its own group, not in the other.
		if a := e.call(t, callerContribOther, "PUT", e.rgPath(otherRG)+"/providers/Microsoft.MachineLearningServices/workspaces/mine"+apiVersion, `{"location":"westus"}`); a.status >= 300 {
			t.Errorf("Contributor writes in its group: %d %s", a.status, a.raw)
		}
		if a := e.call(t, callerContribOther, "DELETE", e.rgPath(targetRG)+"/providers/Microsoft.MachineLearningServices/workspaces/ws-"+targetRG+apiVersion, ""); a.status != http.StatusForbidden {
			t.Errorf("Contributor deletes in another group: %d %s", a.status, a.raw)
		}
		// The activity log shows it the events of its group only; the Owner sees the others.
		logPath := "/subscriptions/" + e.sub + "/providers/Microsoft.Insights/eventtypes/management/values?api-version=2015-04-01"
		seen := func(caller string) (mine, others int) {
			a := e.call(t, caller, "GET", logPath, "")
			if a.status != http.StatusOK {
				t.Fatalf("activity log as %s: %d %s", caller, a.status, a.raw)
			}
			for _, v := range a.body["value"].([]any) {
				id, _ := v.(map[string]any)["resourceId"].(string)
				if strings.HasPrefix(strings.ToLower(id), strings.ToLower(e.rgPath(otherRG))) {
					mine++
				} else {
					others++
				}
			}
			return mine, others
		}
		if mine, others := seen(callerContribOther); mine == 0 || others != 0 {
			t.Errorf("Contributor of %s sees %d events of its group and %d others", otherRG, mine, others)
		}
		if _, others := seen(callerOwner); others == 0 {
			t.Errorf("Owner sees no event outside %s", otherRG)
		}
	})
}
