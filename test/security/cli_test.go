package security

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/cli"
)

// mlfleetCLI runs the CLI in-process against the SQLite server (MLFLEET_HOME is its home).
func mlfleetCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := cli.Run(context.Background(), cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, args)
	return out.String(), errb.String(), err
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := mlfleetCLI(t, args...)
	if err != nil {
		t.Fatalf("mlfleet %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// TestIdentityCLI: the az-shaped identity commands, as a user runs them: create a service
// principal with a role, sign in as it and meet its limits, then reset and delete it.
// Not parallel: login and logout change the CLI configuration of the SQLite server's home.
func TestIdentityCLI(t *testing.T) {
	e := envs[0]
	scope := e.rgPath(otherRG)
	var sp map[string]string
	if err := json.Unmarshal([]byte(mustCLI(t, "ad", "sp", "create-for-rbac", "-n", "cli-ci", "--role", "Contributor", "--scopes", scope)), &sp); err != nil {
		t.Fatal(err)
	}
	if sp["appId"] == "" || len(sp["password"]) != 40 || sp["tenant"] != e.srv.Config.Tenant {
		t.Fatalf("create-for-rbac printed %v", sp)
	}
	if out := mustCLI(t, "role", "assignment", "list", "--assignee", sp["appId"], "-o", "tsv", "--query", "[].[roleDefinitionName, scope]"); !strings.Contains(out, "Contributor\t"+scope) {
		t.Errorf("role assignment list: %q", out)
	}
	// As in az, the same name again is the same principal, with a new secret.
	var again map[string]string
	if err := json.Unmarshal([]byte(mustCLI(t, "ad", "sp", "create-for-rbac", "-n", "cli-ci", "--role", "Contributor", "--scopes", scope)), &again); err != nil {
		t.Fatal(err)
	}
	if again["appId"] != sp["appId"] || again["password"] == sp["password"] || len(again["password"]) != 40 {
		t.Errorf("create-for-rbac of the same name again printed %v, want appId %s with a new password", again, sp["appId"])
	}
	if out := mustCLI(t, "ad", "sp", "list", "--query", "length([?displayName=='cli-ci'])"); strings.TrimSpace(out) != "1" {
		t.Errorf("service principals named cli-ci: %s, want 1", out)
	}
	sp["password"] = again["password"]
	// As in az, principalName is what the principal signs in with, and the table shows it.
	if out := mustCLI(t, "role", "assignment", "list", "--assignee", sp["appId"], "-o", "tsv", "--query", "[].principalName"); strings.TrimSpace(out) != sp["appId"] {
		t.Errorf("role assignment list: principalName %q, want %s", out, sp["appId"])
	}
	if out := mustCLI(t, "role", "assignment", "list", "--assignee", sp["appId"], "-o", "table"); !strings.Contains(out, sp["appId"]+"  Contributor") {
		t.Errorf("role assignment list -o table:\n%s", out)
	}

	mustCLI(t, "login", "--service-principal", "-u", sp["appId"], "-p", sp["password"], "--tenant", sp["tenant"])
	if out := mustCLI(t, "account", "show", "--query", "user.type", "-o", "tsv"); strings.TrimSpace(out) != "servicePrincipal" {
		t.Errorf("account show as the service principal: %q", out)
	}
	if out := mustCLI(t, "group", "list", "--query", "[].name", "-o", "tsv"); strings.TrimSpace(out) != otherRG {
		t.Errorf("the service principal lists groups %q, want only %s", out, otherRG)
	}
	if _, errOut, err := mlfleetCLI(t, "group", "create", "-n", "cli-ci-rg", "-l", "westus"); err == nil || !strings.Contains(errOut, "AuthorizationFailed") {
		t.Errorf("the service principal creates a group: %v %s", err, errOut)
	}
	if _, errOut, err := mlfleetCLI(t, "ad", "sp", "create-for-rbac", "-n", "escalate", "--role", "Owner", "--scopes", scope); err == nil || !strings.Contains(errOut, "AuthorizationFailed") {
		t.Errorf("a Contributor creates a principal: %v %s", err, errOut)
	}
	mustCLI(t, "logout")
	if out := mustCLI(t, "account", "show", "--query", "user.name", "-o", "tsv"); strings.TrimSpace(out) != "admin" {
		t.Errorf("after logout: %q", out)
	}

	var reset map[string]string
	if err := json.Unmarshal([]byte(mustCLI(t, "ad", "sp", "credential", "reset", "--id", sp["appId"])), &reset); err != nil {
		t.Fatal(err)
	}
	if _, errOut, err := mlfleetCLI(t, "login", "--service-principal", "-u", sp["appId"], "-p", sp["password"]); err == nil || !strings.Contains(errOut, "invalid_client") {
		t.Errorf("login with the old secret: %v %s", err, errOut)
	}
	oid := strings.TrimSpace(mustCLI(t, "ad", "sp", "show", "--id", sp["appId"], "--query", "id", "-o", "tsv"))
	if out := mustCLI(t, "role", "assignment", "list", "--scope", scope, "--query", "length([?principalId=='"+oid+"'])"); strings.TrimSpace(out) != "1" {
		t.Errorf("assignments of %s before delete: %s", oid, out)
	}
	mustCLI(t, "ad", "sp", "delete", "--id", sp["appId"])
	if _, errOut, err := mlfleetCLI(t, "login", "--service-principal", "-u", sp["appId"], "-p", reset["password"]); err == nil || !strings.Contains(errOut, "invalid_client") {
		t.Errorf("login after delete: %v %s", err, errOut)
	}
	if out := mustCLI(t, "role", "assignment", "list", "--scope", scope, "--query", "length([?principalId=='"+oid+"'])"); strings.TrimSpace(out) != "0" {
		t.Errorf("assignments left: %s", out)
	}
}
