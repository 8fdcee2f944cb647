package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// pageOf is one list page as a client reads it: the names of its items, their ids and
// its nextLink ("" on the last page).
type pageOf struct {
	names, ids []string
	next       string
}

// listPage GETs one page of a list and fails the test unless it is a 200.
func (a *testARM) listPage(t *testing.T, path string) pageOf {
	t.Helper()
	status, body := a.call(t, a.owner, http.MethodGet, path, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s = %d %v", path, status, body)
	}
	var p pageOf
	for _, v := range body["value"].([]any) {
		item := v.(map[string]any)
		p.names = append(p.names, item["name"].(string))
		p.ids = append(p.ids, item["id"].(string))
	}
	p.next, _ = body["nextLink"].(string)
	return p
}

// TestPagingAfterDeletes: a nextLink continues after the last item of its page, whatever
// was deleted or added before that item meanwhile. Deleting two items of the first page
// drops nothing from the second, where an offset would skip as many items as were deleted;
// adding one before it repeats nothing.
func TestPagingAfterDeletes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rg := subURL + "/resourceGroups/rg"
	tests := []struct {
		name string
		// list is the list's path and query, for pages of 4.
		list string
		// inGroup says whether the items live in resource group rg, created first.
		inGroup bool
		// create adds the item name (and, for a filtered list, an item it leaves out).
		create func(t *testing.T, a *testARM, name string)
	}{
		{"resource groups", subURL + "/resourcegroups?api-version=2022-09-01&$top=4", false, func(t *testing.T, a *testARM, name string) {
			a.group(t, name)
		}},
		{"resource groups by tag", subURL + "/resourcegroups?api-version=2022-09-01&$top=4&$filter=" + url.QueryEscape("tagname eq 'team'"), false, func(t *testing.T, a *testARM, name string) {
			for _, in := range []armapi.GroupInput{{Location: "westus", Tags: map[string]string{"team": "qa"}}, {Location: "westus"}} {
				if _, _, err := a.rs.PutGroup(ctx, testSub, name, in); err != nil {
					t.Fatal(err)
				}
				name += "-untagged"
			}
		}},
		{"workspaces", rg + "/providers/Microsoft.MachineLearningServices/workspaces?api-version=2024-04-01&$top=4", true, func(t *testing.T, a *testARM, name string) {
			if _, _, err := a.ws.Put(ctx, testSub, "rg", name, armapi.WorkspaceInput{Location: "westus"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"generic resources", rg + "/resources?api-version=2021-04-01&$top=4", true, func(t *testing.T, a *testARM, name string) {
			if _, _, err := a.ws.Put(ctx, testSub, "rg", name, armapi.WorkspaceInput{Location: "westus"}); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newTestARM(t)
			if tt.inGroup {
				a.group(t, "rg")
			}
			var want []string
			for i := range 8 {
				name := fmt.Sprintf("item%d", i)
				tt.create(t, a, name)
				want = append(want, name)
			}
			first := a.listPage(t, tt.list)
			if !slices.Equal(first.names, want[:4]) || first.next == "" {
				t.Fatalf("first page = %v, nextLink %q; want %v and a nextLink", first.names, first.next, want[:4])
			}
			if q := mustQuery(t, first.next); q.Get("$skiptoken") == "" || q.Has("$skip") {
				t.Errorf("nextLink %s: want a $skiptoken and no $skip", first.next)
			}
			// Two of the first page's items go, one comes before them; the rest of the list
			// is still exactly the second page.
			for _, id := range first.ids[1:3] {
				if err := a.st.DeleteResource(ctx, id, 0); err != nil {
					t.Fatal(err)
				}
			}
			tt.create(t, a, "item00")
			second := a.listPage(t, first.next)
			if !slices.Equal(second.names, want[4:]) || second.next != "" {
				t.Errorf("second page after deletes = %v, nextLink %q; want %v and none", second.names, second.next, want[4:])
			}
		})
	}
}

// TestSkipToken: a $skiptoken the server did not issue is a 400 that says to follow the
// nextLink, never a 500 or the first page; ARM's $skipToken spelling is read too; $skip
// (A5) still skips, and the nextLink after it continues by $skiptoken alone.
func TestSkipToken(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	for i := range 6 {
		a.group(t, fmt.Sprintf("rg%d", i))
	}
	if _, _, err := a.ws.Put(context.Background(), testSub, "rg0", "ws1", armapi.WorkspaceInput{Location: "westus"}); err != nil {
		t.Fatal(err)
	}
	lists := map[string]string{
		"resource groups": subURL + "/resourcegroups?api-version=2022-09-01",
		"workspaces":      subURL + "/providers/Microsoft.MachineLearningServices/workspaces?api-version=2024-04-01",
		"resources":       subURL + "/resources?api-version=2021-04-01",
	}
	bad := []string{
		"x",             // not base64
		"50",            // an offset, as nextLinks carried once
		"%2F%2F%2F",     // "///": base64, but not its URL alphabet
		b64("rg1"),      // not an id
		b64("\xff\xfe"), // not UTF-8
	}
	for name, list := range lists {
		for _, token := range bad {
			for _, param := range []string{"$skiptoken", "$skipToken"} {
				status, body := a.call(t, a.owner, http.MethodGet, list+"&"+param+"="+token, nil)
				msg, _ := testutil.Field(body, "error.message").(string)
				target, _ := testutil.Field(body, "error.target").(string)
				if status != http.StatusBadRequest || errorCode(body) != "InvalidRequestContent" || !strings.Contains(msg, "follow the nextLink") || target != "$skiptoken" {
					t.Errorf("%s with %s=%s: %d %v, want 400 InvalidRequestContent saying to follow the nextLink", name, param, token, status, body)
				}
			}
		}
	}

	groups := lists["resource groups"]
	if p := a.listPage(t, groups+"&$skipToken="+b64(subURL+"/resourceGroups/rg3")); !slices.Equal(p.names, []string{"rg4", "rg5"}) {
		t.Errorf("$skipToken after rg3 = %v, want [rg4 rg5]", p.names)
	}
	p := a.listPage(t, groups+"&$skip=2&$top=2")
	if !slices.Equal(p.names, []string{"rg2", "rg3"}) {
		t.Fatalf("$skip=2&$top=2 = %v, want [rg2 rg3]", p.names)
	}
	if q := mustQuery(t, p.next); q.Has("$skip") || q.Get("$top") != "2" || q.Get("$skiptoken") == "" {
		t.Errorf("nextLink after $skip: %s, want $top=2 and a $skiptoken without $skip", p.next)
	}
	if p = a.listPage(t, p.next); !slices.Equal(p.names, []string{"rg4", "rg5"}) || p.next != "" {
		t.Errorf("page after $skip = %v, nextLink %q; want [rg4 rg5] and none", p.names, p.next)
	}
}

// b64 is a $skiptoken's encoding of s.
func b64(s string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// mustQuery parses the query of link.
func mustQuery(t *testing.T, link string) url.Values {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("parse %q: %v", link, err)
	}
	return u.Query()
}
