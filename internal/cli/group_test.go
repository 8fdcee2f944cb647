package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
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

// TestGroupCreateTags: --tags takes az's grammar, several words up to the next flag, as
// well as commas and the flag repeated; a quoted value keeps its spaces, as in az; a word after another flag's
// value, or after --tags=VALUE (as in az), belongs to no flag and is a usage error with no
// request sent.
func TestGroupCreateTags(t *testing.T) {
	var mu sync.Mutex
	var sent []map[string]any
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if r.Method != http.MethodPut || r.URL.Path != "/subscriptions/sub1/resourceGroups/rgu" || json.NewDecoder(r.Body).Decode(&body) != nil {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusNotFound)
			return
		}
		mu.Lock()
		sent = append(sent, body)
		mu.Unlock()
		body["name"] = "rgu"
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(fake.Close)
	lastTags := func() any {
		mu.Lock()
		defer mu.Unlock()
		if len(sent) == 0 {
			return nil
		}
		return sent[len(sent)-1]["tags"]
	}

	both := map[string]any{"a": "b", "c": "d"}
	cases := []struct {
		name string
		args []string
		want map[string]any // nil: a usage error
	}{
		{"several words", []string{"-n", "rgu", "-l", "westus", "--tags", "a=b", "c=d"}, both},
		{"several words, then flags", []string{"--tags", "a=b", "c=d", "-n", "rgu", "-l", "westus"}, both},
		{"one quoted value keeps its spaces", []string{"-n", "rgu", "-l", "westus", "--tags", "owner=a b"}, map[string]any{"owner": "a b"}},
		{"commas", []string{"-n", "rgu", "-l", "westus", "--tags", "a=b,c=d"}, both},
		{"repeated", []string{"-n", "rgu", "--tags", "a=b", "-l", "westus", "--tags", "c=d"}, both},
		{"key without value", []string{"-n", "rgu", "-l", "westus", "--tags", "a=b", "c"}, map[string]any{"a": "b", "c": ""}},
		{"word after another flag", []string{"--tags", "a=b", "-n", "rgu", "c=d", "-l", "westus"}, nil},
		{"word after --tags=", []string{"-n", "rgu", "-l", "westus", "--tags=a=b", "c=d"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			sent = nil
			mu.Unlock()
			_, errOut, code := runAgainst(t, fake, append([]string{"group", "create", "-o", "none"}, tc.args...)...)
			if tc.want == nil {
				if code != 2 || !strings.Contains(errOut, `"c=d"`) || lastTags() != nil {
					t.Errorf("exit %d, stderr %q, tags sent %v; want exit 2 naming \"c=d\" and no request", code, errOut, lastTags())
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			if got := lastTags(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("tags sent %v, want %v", got, tc.want)
			}
		})
	}
}
