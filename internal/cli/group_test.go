package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestGroupListTag: --tag sends az's $filter (the value only when given, quotes doubled)
// and the groups the server answers are printed. The server is a fake that records the
// filter; the filtering itself is the API's (internal/api TestListGroupsFilter).
func TestGroupListTag(t *testing.T) {
	fake, filters := filterServer(t, "/subscriptions/sub1/resourceGroups", "", func(_ *httptest.Server, w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"value": []any{map[string]any{"name": "rg-a", "location": "westus", "tags": map[string]string{"team": "qa"}}}})
	})

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
			if sent := filters(); len(sent) != i+1 || sent[i] != tc.filter {
				t.Errorf("$filter sent %q, want %q", sent, tc.filter)
			}
		})
	}
}
