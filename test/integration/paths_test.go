package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestPathSegments sends '.', '..', encoded dots and slashes and empty segments in every name
// position of the compute, workspace, group and cluster routes, with every method: each is a
// 400 InvalidResourceName (but a GET whose only empty segment is a trailing slash, which
// reads the collection), never a redirect, and nothing anywhere changes (issue #11: a
// compute named '..' used to delete its workspace). The SDK and CLI refuse such names
// before sending anything.
func TestPathSegments(t *testing.T) {
	t.Parallel()
	const rg, ws = "paths", "pathsws"
	mustCLI(t, "group", "create", "-n", rg, "-l", "westus", "-o", "none")
	mustCLI(t, "ml", "workspace", "create", "-n", ws, "-g", rg, "-o", "none")
	do(t, call{method: "PUT", path: rgPath(rg) + "?api-version=2021-04-01", body: `{"location":"westus","tags":{"keep":"1"}}`})

	snapshot := func() string {
		var b strings.Builder
		for _, p := range []string{rgPath(rg), wsPath(rg, ws), wsPath(rg, ws) + "/computes", rgPath(rg) + "/providers/Microsoft.ContainerService/managedClusters"} {
			a := do(t, call{method: "GET", path: p + "?api-version=2023-04-01"})
			fmt.Fprintf(&b, "%s %d %s\n", p, a.status, a.raw)
		}
		return b.String()
	}
	before := snapshot()

	bad := []string{"..", ".", "%2e%2e", "%2E.", ".%2e", "a%2Fb", "a%5Cb", ""}
	routes := []string{
		wsPath(rg, ws) + "/computes/{}",
		wsPath(rg, ws) + "/computes/{}/../../../..",
		wsPath(rg, "{}") + "/computes/x",
		rgPath("{}") + "/providers/Microsoft.MachineLearningServices/workspaces/" + ws,
		rgPath(rg) + "/providers/Microsoft.ContainerService/managedClusters/{}",
		rgPath(rg) + "/providers/Microsoft.ContainerService/managedClusters/x/agentPools/{}",
		"/subscriptions/{}/resourceGroups/" + rg,
	}
	body := `{"location":"westus","tags":{"changed":"yes"},"properties":{"computeType":"AKS"}}`
	for _, route := range routes {
		for _, seg := range bad {
			path := strings.ReplaceAll(route, "{}", seg) + "?api-version=2023-04-01&underlyingResourceAction=Delete"
			for _, method := range []string{"PUT", "GET", "DELETE", "POST", "PATCH"} {
				a := do(t, call{method: method, path: path, body: body})
				if method == "GET" && seg == "" && strings.HasSuffix(route, "{}") {
					// A GET of a collection with a trailing slash is the collection, as in
					// ARM (az deployment group list sends one): never the parent resource.
					list := do(t, call{method: method, path: strings.ReplaceAll(route, "/{}", "") + "?api-version=2023-04-01"})
					if a.status != list.status {
						t.Errorf("GET %s: %d %s, want what GET of the collection answers: %d %s", path, a.status, a.raw, list.status, list.raw)
					}
					continue
				}
				if a.status != 400 || a.errorCode() != "InvalidResourceName" {
					t.Errorf("%s %s: %d %s %s, want 400 InvalidResourceName", method, path, a.status, a.errorCode(), a.errorMessage())
				}
			}
		}
	}
	// Unauthenticated, the answer is 401 as for any other path.
	none := ""
	if a := do(t, call{method: "DELETE", path: wsPath(rg, ws) + "/computes/..?api-version=2023-04-01", token: &none}); a.status != 401 {
		t.Errorf("unauthenticated DELETE …/computes/..: %d, want 401", a.status)
	}
	if after := snapshot(); after != before {
		t.Errorf("something changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}

	// The SDK and the CLI refuse such names before sending.
	c := sdk(t)
	for _, name := range []string{"..", "."} {
		if _, err := c.GetCompute(context.Background(), rg, ws, name); err == nil {
			t.Errorf("SDK GetCompute(%q) succeeded", name)
		} else if _, ok := err.(*mlfleet.ValidationError); !ok {
			t.Errorf("SDK GetCompute(%q): %T %v, want a ValidationError", name, err, err)
		}
	}
	for _, args := range [][]string{
		{"ml", "computetarget", "delete", "-n", "..", "-g", rg, "-w", ws, "--yes"},
		{"ml", "computetarget", "show", "-n", "..", "-g", rg, "-w", ws},
		{"group", "delete", "-n", "..", "--yes"},
	} {
		r := mlfleetCLI(t, args...)
		if r.code == 0 || !strings.Contains(r.err, "'..' is not a valid name") {
			t.Errorf("mlfleet %s: exit %d, stderr %q; want an error naming '..'", strings.Join(args, " "), r.code, r.err)
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("something changed after the SDK and CLI calls:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
