package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestGroupListTag: --tag sends az's $filter (the value only when given, quotes doubled)
// and the groups the server answers are printed. The server is a fake that records the
// filter; the filtering itself is the API's (internal/api TestListGroupsFilter).
func TestGroupListTag(t *testing.T) {
	var mu sync.Mutex
	var filters []string
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/subscriptions/sub1/resourceGroups" {
			http.Error(w, "unexpected "+r.URL.String(), http.StatusNotFound)
			return
		}
		mu.Lock()
		filters = append(filters, r.URL.Query().Get("$filter"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"value": []any{map[string]any{"name": "rg-a", "location": "westus", "tags": map[string]string{"team": "qa"}}}})
	}))
	t.Cleanup(fake.Close)

	cases := []struct {
		name   string
		args   []string
		filter string
	}{
		{"no tag", nil, ""},
		{"name and value", []string{"--tag", "team=qa"}, "tagname eq 'team' and tagvalue eq 'qa'"},
		{"name only", []string{"--tag", "team"}, "tagname eq 'team'"},
		{"value with = and a quote", []string{"--tag", "owner=o'neil=x"}, "tagname eq 'owner' and tagvalue eq 'o''neil=x'"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runAgainst(t, fake, append([]string{"group", "list", "--query", "[].name", "-o", "tsv"}, tc.args...)...)
			if code != 0 || out != "rg-a\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(filters) != i+1 || filters[i] != tc.filter {
				t.Errorf("$filter sent %q, want %q", filters, tc.filter)
			}
		})
	}
}
