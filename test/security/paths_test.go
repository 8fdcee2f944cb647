package security

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/api"
	"github.com/mlfleet/mlfleet/internal/store"
)

// badNames are what a name must never be: each would name the parent, or another path.
var badNames = []string{"..", ".", "%2e%2e", "%2E", "%2e", "a%2Fb", "%2F", "..%2F..", "a%5Cb", ""}

// snapshot is every resource's id and version, every role assignment and every principal.
func (e *env) snapshot(t *testing.T) map[string]string {
	t.Helper()
	ctx := context.Background()
	st, err := e.openStore(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out := map[string]string{}
	rs, err := st.ListResources(ctx, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		out[strings.ToLower(r.ID)] = fmt.Sprint(r.Version)
	}
	ras, err := st.ListRoleAssignments(ctx, store.RoleAssignmentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ra := range ras {
		out["ra:"+ra.Name] = ra.Scope + " " + ra.Role
	}
	ps, err := st.ListPrincipals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		out["p:"+p.ID] = p.SecretHash
	}
	return out
}

// TestMalformedNamesChangeNothing: a '.', '..', an encoded dot or slash, or an empty name
// in any name position of any route, with any method, as the strongest caller, is refused
// with 400 or 404 (never a redirect, never a 5xx), but for a read ending in a slash, which
// is the collection's; and no resource, role assignment or principal changes. Not parallel: the snapshot must see no other test's writes.
func TestMalformedNamesChangeNothing(t *testing.T) {
	routes := api.New(api.Config{}).Routes()
	eachServer(t, func(t *testing.T, e *env) {
		before := e.snapshot(t)
		tried := 0
		for _, rt := range routes {
			segs := strings.Split(strings.TrimPrefix(rt.Pattern, "/"), "/")
			for i, seg := range segs {
				if !strings.HasPrefix(seg, "{") {
					continue
				}
				for _, bad := range badNames {
					trySegs := append([]string(nil), segs...)
					trySegs[i] = bad
					path := e.concrete("/" + strings.Join(trySegs, "/"))
					body := ""
					if rt.Method != http.MethodGet && rt.Method != http.MethodHead && rt.Method != http.MethodDelete {
						body = `{"location":"westus","properties":{}}`
					}
					// A read whose only empty segment is a trailing slash is the collection, as
					// ARM has it (az deployment group list sends one): it answers as the path
					// without the slash does.
					trailing := bad == "" && i == len(segs)-1 && (rt.Method == http.MethodGet || rt.Method == http.MethodHead)
					for _, caller := range []string{"admin", callerNone} {
						a := e.call(t, caller, rt.Method, path+apiVersion, body)
						tried++
						switch {
						case caller == callerNone && a.status != http.StatusUnauthorized:
							t.Errorf("%s %s without a token: %d, want 401", rt.Method, path, a.status)
						case caller != callerNone && trailing:
							if want := e.call(t, caller, rt.Method, strings.TrimSuffix(path, "/")+apiVersion, body); a.status != want.status {
								t.Errorf("%s %s: %d, want %d as without the trailing slash\n%.300s", rt.Method, path, a.status, want.status, a.raw)
							}
						case caller != callerNone && a.status != http.StatusBadRequest && a.status != http.StatusNotFound:
							t.Errorf("%s %s: %d, want 400 or 404\n%.300s", rt.Method, path, a.status, a.raw)
						}
					}
				}
			}
		}
		t.Logf("%d requests", tried)
		after := e.snapshot(t)
		for k, v := range before {
			if after[k] != v {
				t.Errorf("%s changed: %q -> %q", k, v, after[k])
			}
		}
		for k, v := range after {
			if _, ok := before[k]; !ok {
				t.Errorf("%s appeared: %q", k, v)
			}
		}
	})
}

// TestMalformedRoleAssignmentPaths: role assignment paths, whose scope has any depth, refuse
// dot segments and encoded slashes too. Not parallel, for its snapshot.
func TestMalformedRoleAssignmentPaths(t *testing.T) {
	eachServer(t, func(t *testing.T, e *env) {
		before := e.snapshot(t)
		body := fmt.Sprintf(`{"properties":{"roleDefinitionId":"/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635","principalId":"%s"}}`,
			e.sub, e.who(callerReader).id)
		for _, bad := range badNames {
			for _, path := range []string{
				e.rgPath(bad) + "/providers/Microsoft.Authorization/roleAssignments/0b5e3b6a-0000-4000-8000-000000000001",
				e.rgPath(targetRG) + "/" + bad + "/providers/Microsoft.Authorization/roleAssignments/0b5e3b6a-0000-4000-8000-000000000001",
				e.rgPath(targetRG) + "/providers/Microsoft.Authorization/roleAssignments/" + bad,
			} {
				a := e.call(t, "admin", "PUT", path+"?api-version=2022-04-01", body)
				if a.status != http.StatusBadRequest && a.status != http.StatusNotFound {
					t.Errorf("PUT %s: %d %.300s", path, a.status, a.raw)
				}
			}
		}
		after := e.snapshot(t)
		if len(after) != len(before) {
			t.Errorf("%d entries before, %d after", len(before), len(after))
		}
	})
}
