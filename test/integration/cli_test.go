package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestCLIWalkthrough runs the README's walkthrough through the CLI code path. It is not
// parallel: it sets defaults in the shared CLI config and clears them at the end.
func TestCLIWalkthrough(t *testing.T) {
	out := mustCLI(t, "group", "create", "-n", "cli-rg", "-l", "westeurope")
	var rg map[string]any
	if err := json.Unmarshal([]byte(out), &rg); err != nil || rg["name"] != "cli-rg" || rg["location"] != "westeurope" {
		t.Fatalf("group create printed %s (%v)", out, err)
	}
	if !strings.Contains(out, "\n  \"id\": ") {
		t.Errorf("json output is not indented by 2: %s", out)
	}
	out = mustCLI(t, "ml", "workspace", "create", "-n", "cli-ws", "-g", "cli-rg")
	if !strings.Contains(out, `"location": "westeurope"`) {
		t.Errorf("workspace should default to the group's location: %s", out)
	}

	mustCLI(t, "configure", "--defaults", "group=cli-rg", "workspace=cli-ws")
	defer mustCLI(t, "configure", "--defaults", "group=", "workspace=")
	if out := mustCLI(t, "configure", "--list-defaults", "-o", "tsv"); !strings.Contains(out, "group\tcli-rg") {
		t.Errorf("list-defaults: %q", out)
	}
	if out := mustCLI(t, "ml", "workspace", "show", "--query", "name", "-o", "tsv"); out != "cli-ws\n" {
		t.Errorf("workspace show with defaults: %q", out)
	}
	if out := mustCLI(t, "group", "show", "--query", "properties.provisioningState", "-o", "tsv"); out != "Succeeded\n" {
		t.Errorf("group show with defaults: %q", out)
	}
	out = mustCLI(t, "group", "list", "--query", "[?name=='cli-rg']", "-o", "table")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "---") || !strings.Contains(lines[2], "cli-rg") {
		t.Errorf("group list table:\n%s", out)
	}
	out = mustCLI(t, "group", "list", "-o", "table")
	if !strings.HasPrefix(out, "Name") || !strings.Contains(out, "Location") || !strings.Contains(out, "Status") {
		t.Errorf("group list table transformer:\n%s", out)
	}
	for _, format := range []string{"yaml", "jsonc", "tsv", "none"} {
		out := mustCLI(t, "ml", "workspace", "list", "-o", format)
		if format == "none" && out != "" {
			t.Errorf("-o none printed %q", out)
		}
		if format == "yaml" && !strings.Contains(out, "name: cli-ws") {
			t.Errorf("-o yaml: %s", out)
		}
		if format != "none" && !strings.Contains(out, "cli-ws") {
			t.Errorf("-o %s: %s", format, out)
		}
	}

	out = mustCLI(t, "account", "show")
	var acct map[string]any
	_ = json.Unmarshal([]byte(out), &acct)
	if acct["id"] != sub() || acct["isDefault"] != true {
		t.Errorf("account show: %s", out)
	}
	out = mustCLI(t, "account", "get-access-token")
	var tok map[string]any
	_ = json.Unmarshal([]byte(out), &tok)
	if tok["tokenType"] != "Bearer" || tok["subscription"] != sub() || !strings.HasPrefix(tok["accessToken"].(string), "mlf_") {
		t.Fatalf("get-access-token: %s", out)
	}
	// The printed token works for raw API calls, as az's does for curl.
	at := tok["accessToken"].(string)
	must(t, do(t, call{method: "GET", path: rgPath("cli-rg") + rgAPI, token: &at}), 200)
	if _, err := time.ParseInLocation("2006-01-02 15:04:05.000000", tok["expiresOn"].(string), time.Local); err != nil {
		t.Errorf("expiresOn %v: %v", tok["expiresOn"], err)
	}

	// Deleting the group removes the workspace with it; the CLI waits and shows progress.
	r := mlfleetCLI(t, "group", "delete", "-n", "cli-rg", "--yes")
	if r.code != 0 || !strings.Contains(r.err, "Running") {
		t.Fatalf("group delete: %+v", r)
	}
	r = mlfleetCLI(t, "group", "show", "-n", "cli-rg")
	if r.code != 1 || !strings.HasPrefix(r.err, "ERROR: (ResourceGroupNotFound)") {
		t.Fatalf("show after delete: %+v", r)
	}
	r = mlfleetCLI(t, "ml", "workspace", "show", "-n", "cli-ws", "-g", "cli-rg")
	if r.code != 1 || !strings.Contains(r.err, "ResourceGroupNotFound") {
		t.Fatalf("workspace after group delete: %+v", r)
	}
}

// TestCLIErrors: usage errors exit 2, API errors exit 1, both as `ERROR: ...` on stderr.
func TestCLIErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown command", []string{"grop", "list"}, 2, "unknown command"},
		{"unknown flag", []string{"group", "list", "--bogus"}, 2, "unknown flag"},
		{"missing name", []string{"group", "create", "-l", "westus"}, 2, "--name/-n"},
		{"bad output format", []string{"group", "list", "-o", "xml"}, 2, "Allowed values"},
		{"bad query", []string{"group", "list", "--query", "[?name=="}, 2, "query"},
		{"bad location", []string{"group", "create", "-n", "x-rg", "-l", "moon"}, 1, "ERROR: (InvalidLocation)"},
		{"bad workspace name", []string{"ml", "workspace", "create", "-n", "a", "-g", "nope-rg", "-l", "westus"}, 1, "ERROR: (ResourceGroupNotFound)"},
		{"delete without confirmation", []string{"group", "delete", "-n", "whatever"}, 2, "--yes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := mlfleetCLI(t, tc.args...)
			if r.code != tc.wantCode || !strings.Contains(r.err, tc.wantErr) || !strings.HasPrefix(r.err, "ERROR: ") {
				t.Fatalf("exit %d, stderr %q; want exit %d with %q", r.code, r.err, tc.wantCode, tc.wantErr)
			}
		})
	}
}

// TestCLINoWait returns at once with --no-wait; the delete still completes.
func TestCLINoWait(t *testing.T) {
	t.Parallel()
	mustCLI(t, "group", "create", "-n", "nowait-rg", "-l", "westus")
	r := mlfleetCLI(t, "group", "delete", "-n", "nowait-rg", "--yes", "--no-wait")
	if r.code != 0 || strings.Contains(r.err, "Running") {
		t.Fatalf("--no-wait: %+v", r)
	}
	testutil.WaitFor(t, 30*time.Second, "group gone after delete --no-wait", func() (bool, string) {
		r := mlfleetCLI(t, "group", "show", "-n", "nowait-rg")
		return r.code == 1 && strings.Contains(r.err, "ResourceGroupNotFound"), fmt.Sprintf("%+v", r)
	})
}
