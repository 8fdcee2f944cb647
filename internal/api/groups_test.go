package api

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestListGroupsFilter: az group list --tag k=v (and --tag k) lists only the groups with
// that tag, page by page; a $filter the list cannot apply is a 400 that says what it
// takes, never the whole list.
func TestListGroupsFilter(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	for name, tags := range map[string]map[string]string{
		"rg-a": {"team": "qa"}, "rg-b": {"Team": "dev"}, "rg-c": {}, "rg-d": {"team": "qa", "env": "prod"}, "rg-e": {"env": "qa"},
	} {
		if _, _, err := a.rs.PutGroup(context.Background(), testSub, name, armapi.GroupInput{Location: "westus", Tags: tags}); err != nil {
			t.Fatal(err)
		}
	}
	list := func(path string) (int, []string, map[string]any) {
		t.Helper()
		status, body := a.call(t, a.owner, http.MethodGet, path, nil)
		var names []string
		if items, ok := body["value"].([]any); ok {
			for _, v := range items {
				names = append(names, v.(map[string]any)["name"].(string))
			}
		}
		slices.Sort(names)
		return status, names, body
	}
	q := func(filter, more string) string {
		path := subURL + "/resourcegroups?api-version=2022-09-01" + more
		if filter != "" {
			path += "&$filter=" + url.QueryEscape(filter)
		}
		return path
	}
	tests := []struct {
		name, filter string
		want         []string
	}{
		{"no filter", "", []string{"rg-a", "rg-b", "rg-c", "rg-d", "rg-e"}},
		{"az group list --tag team=qa", "tagname eq 'team' and tagvalue eq 'qa'", []string{"rg-a", "rg-d"}},
		{"az group list --tag team", "tagname eq 'team'", []string{"rg-a", "rg-b", "rg-d"}},
		{"ARM's spelling", "tagName eq 'env' and tagValue eq 'prod'", []string{"rg-d"}},
		{"no group has it", "tagName eq 'owner'", nil},
	}
	for _, tt := range tests {
		if status, names, body := list(q(tt.filter, "")); status != http.StatusOK || !slices.Equal(names, tt.want) {
			t.Errorf("%s: GET %s = %d %v, want %v; body %v", tt.name, q(tt.filter, ""), status, names, tt.want, body)
		}
	}

	// One group a page, following nextLink: the filtered list, each group once.
	var got []string
	next := q("tagname eq 'team' and tagvalue eq 'qa'", "&$top=1")
	for pages := 0; next != ""; pages++ {
		if pages > 2 {
			t.Fatalf("more pages than groups: %v", got)
		}
		status, names, body := list(next)
		if status != http.StatusOK || len(names) > 1 {
			t.Fatalf("page %d = %d %v", pages, status, body)
		}
		got = append(got, names...)
		next, _ = body["nextLink"].(string)
	}
	if slices.Sort(got); !slices.Equal(got, []string{"rg-a", "rg-d"}) {
		t.Errorf("pages = %v, want [rg-a rg-d]", got)
	}

	for _, filter := range []string{"garbage(((", "name eq 'rg-a'", "location eq 'westus'", "tagValue eq 'qa'", "startswith(tagName, 'te')", "tagName eq 'team' or tagName eq 'env'"} {
		status, body := a.call(t, a.owner, http.MethodGet, q(filter, ""), nil)
		msg, _ := testutil.Field(body, "error.message").(string)
		if status != http.StatusBadRequest || errorCode(body) != "InvalidFilterInQueryString" || !strings.Contains(msg, "tagName eq") {
			t.Errorf("$filter %q: %d %v, want 400 InvalidFilterInQueryString naming tagName", filter, status, body)
		}
	}
}

// TestTagRules: a body's tags meet ARM's rules whatever the resource, checked as the body is
// read: a refused PUT creates nothing.
func TestTagRules(t *testing.T) {
	t.Parallel()
	a := newTestARM(t)
	path := subURL + "/resourcegroups/tagged?api-version=2022-09-01"
	status, body := a.call(t, a.owner, http.MethodPut, path, map[string]any{"location": "westus", "tags": map[string]string{"kubernetes.io/cluster": "owned"}})
	if e, _ := body["error"].(map[string]any); status != http.StatusBadRequest || e["code"] != "InvalidTagNameCharacters" {
		t.Fatalf("a tag name with '/': %d %v, want 400 InvalidTagNameCharacters", status, body)
	}
	if status, _ := a.call(t, a.owner, http.MethodGet, path, nil); status != http.StatusNotFound {
		t.Errorf("the refused group exists: %d", status)
	}
	if status, body := a.call(t, a.owner, http.MethodPut, path, map[string]any{"location": "westus", "tags": map[string]string{"kubernetes.io-cluster": "owned"}}); status != http.StatusCreated {
		t.Errorf("an ordinary tag: %d %v", status, body)
	}
}
