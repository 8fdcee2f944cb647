package integration

import (
	"encoding/json"
	"maps"
	"testing"
)

// TestTagCommands: az tag's commands on a resource group's tags, against the server: a
// quoted value keeps its spaces, Merge replaces a tag however it is cased, Delete removes
// one by name, create sets exactly the tags given, delete removes them all.
func TestTagCommands(t *testing.T) {
	t.Parallel()
	const rg = "tags-cli-rg"
	mustCLI(t, "group", "create", "-n", rg, "-l", "westus", "--tags", "owner=a b", "env=dev", "-o", "none")
	id := "/subscriptions/" + sub() + "/resourceGroups/" + rg
	tagsOf := func(out string) map[string]string {
		t.Helper()
		var body struct {
			Properties struct{ Tags map[string]string } `json:"properties"`
		}
		if err := json.Unmarshal([]byte(out), &body); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		return body.Properties.Tags
	}
	steps := []struct {
		args []string
		want map[string]string
	}{
		{[]string{"list"}, map[string]string{"owner": "a b", "env": "dev"}},
		{[]string{"update", "--operation", "merge", "--tags", "ENV=prod", "team=ml"}, map[string]string{"owner": "a b", "ENV": "prod", "team": "ml"}},
		{[]string{"update", "--operation", "Delete", "--tags", "owner"}, map[string]string{"ENV": "prod", "team": "ml"}},
		{[]string{"create", "--tags", "only=this"}, map[string]string{"only": "this"}},
	}
	for _, st := range steps {
		if got := tagsOf(mustCLI(t, append(append([]string{"tag"}, st.args...), "--resource-id", id)...)); !maps.Equal(got, st.want) {
			t.Errorf("tag %v: tags %v, want %v", st.args, got, st.want)
		}
	}
	mustCLI(t, "tag", "delete", "--resource-id", id, "--yes")
	if got := tagsOf(mustCLI(t, "tag", "list", "--resource-id", id)); len(got) != 0 {
		t.Errorf("tags after tag delete: %v", got)
	}
	if r := mlfleetCLI(t, "tag", "update", "--resource-id", id, "--operation", "upsert", "--tags", "a=b"); r.code != 2 {
		t.Errorf("--operation upsert: %+v, want a usage error", r)
	}
	mustCLI(t, "group", "delete", "-n", rg, "--yes")
}
