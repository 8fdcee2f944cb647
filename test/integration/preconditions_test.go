package integration

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// etagPattern is the shape of mlfleet's etags: a quoted version number.
var etagPattern = regexp.MustCompile(`^"[0-9]+"$`)

// getETag GETs a resource and checks that its etag is in the body and the ETag header,
// the same in both. The body's key is the resource type's: eTag for a managed cluster
// (AKS's spelling, which armcontainerservice reads), etag for a compute.
func getETag(t *testing.T, path string) (answer, string) {
	t.Helper()
	a := do(t, call{method: "GET", path: path})
	must(t, a, http.StatusOK)
	key := "etag"
	if strings.Contains(path, "/managedClusters/") {
		key = "eTag"
	}
	etag, _ := a.body[key].(string)
	if !etagPattern.MatchString(etag) || a.header.Get("ETag") != etag {
		t.Fatalf("GET %s: body %s %q, ETag header %q; want the same quoted number in both", path, key, etag, a.header.Get("ETag"))
	}
	return a, etag
}

// wantError fails unless a is an ARM error with this status and code whose message holds
// every one of parts.
func wantError(t *testing.T, what string, a answer, status int, code string, parts ...string) {
	t.Helper()
	ok := a.status == status && a.errorCode() == code
	for _, p := range parts {
		ok = ok && strings.Contains(a.errorMessage(), p)
	}
	if !ok {
		t.Errorf("%s: %d %s %q; want %d %s saying %q", what, a.status, a.errorCode(), a.errorMessage(), status, code, parts)
	}
}

// TestPreconditionsCompute: If-None-Match: * makes a compute PUT create only (409, with the
// command that changes a compute instead), If-Match makes PUT and DELETE apply only to the
// compute as last read (412 otherwise), and the CLI's create goes through the first.
func TestPreconditionsCompute(t *testing.T) {
	t.Parallel()
	rg, ws, name := "pre-rg", "pre-ws", "prefast"
	newWorkspace(t, rg, ws)
	path := computePath(rg, ws, name) + mlAPI

	// A production compute, as `create aks` with no options makes it.
	create := do(t, call{method: "PUT", path: path, body: `{"location":"westus","properties":{"computeType":"AKS"}}`,
		headers: map[string]string{"If-None-Match": "*"}})
	must(t, create, http.StatusCreated)
	if op, _ := waitPut(t, create, rg, ws, name); op["status"] != "Succeeded" {
		t.Fatalf("create: %v", op)
	}
	before, etag := getETag(t, path)
	unchanged := func(t *testing.T, what string) {
		t.Helper()
		after, now := getETag(t, path)
		ap, bp := aksProps(after.body), aksProps(before.body)
		if ap["agentCount"] != bp["agentCount"] || ap["clusterPurpose"] != bp["clusterPurpose"] || ap["agentCount"] != 3.0 || ap["clusterPurpose"] != "FastProd" || now != etag {
			t.Errorf("after %s: %v agents, purpose %v, etag %s; want it unchanged (3 FastProd, etag %s)", what, ap["agentCount"], ap["clusterPurpose"], now, etag)
		}
	}

	t.Run("create only on an existing compute", func(t *testing.T) {
		a := do(t, call{method: "PUT", path: path, headers: map[string]string{"If-None-Match": "*"},
			body: `{"location":"westus","properties":{"computeType":"AKS","properties":{"clusterPurpose":"DevTest","agentCount":1}}}`})
		wantError(t, "create-only PUT of an existing compute", a, http.StatusConflict, "Conflict",
			"Compute '"+name+"' already exists in workspace '"+ws+"'", "mlfleet ml computetarget update")
		unchanged(t, "a create-only PUT")
	})
	t.Run("CLI create on an existing compute", func(t *testing.T) {
		r := mlfleetCLI(t, "ml", "computetarget", "create", "aks", "-n", name, "-g", rg, "-w", ws, "--cluster-purpose", "DevTest", "--agent-count", "1")
		if r.code != 1 || !strings.HasPrefix(r.err, "ERROR: (Conflict) Compute '"+name+"' already exists in workspace '"+ws+"'") ||
			!strings.Contains(r.err, "mlfleet ml computetarget update") || r.out != "" {
			t.Errorf("create aks on an existing compute: exit %d\nstdout: %s\nstderr: %s\nwant exit 1 and ERROR: (Conflict) pointing to update", r.code, r.out, r.err)
		}
		unchanged(t, "`ml computetarget create aks`")
	})
	t.Run("stale If-Match", func(t *testing.T) {
		a := do(t, call{method: "PUT", path: path, headers: map[string]string{"If-Match": `"1"`},
			body: `{"location":"westus","properties":{"computeType":"AKS","properties":{"agentCount":4}}}`})
		wantError(t, "PUT with a stale If-Match", a, http.StatusPreconditionFailed, "PreconditionFailed", etag)
		unchanged(t, "a PUT with a stale If-Match")

		a = do(t, call{method: "DELETE", path: path + "&underlyingResourceAction=Delete", headers: map[string]string{"If-Match": `"1"`}})
		wantError(t, "DELETE with a stale If-Match", a, http.StatusPreconditionFailed, "PreconditionFailed", etag)
		unchanged(t, "a DELETE with a stale If-Match")
	})
	t.Run("If-Match on a missing compute", func(t *testing.T) {
		missing := computePath(rg, ws, "premissing") + mlAPI
		a := do(t, call{method: "PUT", path: missing, headers: map[string]string{"If-Match": etag},
			body: `{"location":"westus","properties":{"computeType":"AKS","properties":{"clusterPurpose":"DevTest","agentCount":1}}}`})
		wantError(t, "PUT with If-Match of a missing compute", a, http.StatusPreconditionFailed, "PreconditionFailed", "premissing")
		must(t, do(t, call{method: "GET", path: missing}), http.StatusNotFound)
	})

	// The current etag lets the update through; then that etag is stale.
	up := do(t, call{method: "PUT", path: path, headers: map[string]string{"If-Match": etag},
		body: `{"location":"westus","properties":{"computeType":"AKS","properties":{"agentCount":4}}}`})
	must(t, up, http.StatusOK)
	if up.header.Get("ETag") == "" || up.header.Get("ETag") != up.body["etag"] {
		t.Errorf("PUT answered ETag header %q, body etag %v; want both, the same", up.header.Get("ETag"), up.body["etag"])
	}
	if op, c := waitPut(t, up, rg, ws, name); op["status"] != "Succeeded" || aksProps(c)["agentCount"] != 4.0 {
		t.Fatalf("update with the current etag: %v, agentCount %v", op, aksProps(c)["agentCount"])
	}
	_, newer := getETag(t, path)
	if newer == etag {
		t.Errorf("etag %s did not change with the update", etag)
	}
	a := do(t, call{method: "PUT", path: path, headers: map[string]string{"If-Match": etag},
		body: `{"location":"westus","properties":{"computeType":"AKS","properties":{"agentCount":5}}}`})
	wantError(t, "PUT with the etag from before the update", a, http.StatusPreconditionFailed, "PreconditionFailed")
	if c, _ := getETag(t, path); aksProps(c.body)["agentCount"] != 4.0 {
		t.Errorf("a refused PUT changed the agent count to %v", aksProps(c.body)["agentCount"])
	}

	// A DELETE with the current etag goes through.
	del := do(t, call{method: "DELETE", path: path + "&underlyingResourceAction=Delete", headers: map[string]string{"If-Match": newer}})
	must(t, del, http.StatusAccepted)
	if op := waitOperation(t, del.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("delete with the current etag: %v", op)
	}
	must(t, do(t, call{method: "GET", path: path}), http.StatusNotFound)
}

// TestPreconditionsCluster: `aks create` is create only (409 on an existing cluster,
// pointing to `aks update` and `aks scale`), `aks update` is not, and If-Match guards
// managed cluster PUT and DELETE.
func TestPreconditionsCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rg, name := "pre-aks-rg", "preaks"
	createGroup(t, sdk(t), rg, "westus")
	mustCLI(t, "aks", "create", "-n", name, "-g", rg, "--node-count", "1", "--node-vm-size", "Standard_D2_v2")
	path := clusterPath(rg, name) + csAPI
	_, etag := getETag(t, path)
	nodes := func(t *testing.T, what string, want int) {
		t.Helper()
		mc, err := sdk(t).GetManagedCluster(ctx, rg, name)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(mc.Properties.AgentPoolProfiles); n != 1 || mc.Properties.AgentPoolProfiles[0].Count != want {
			t.Errorf("after %s: pools %+v, want one of %d nodes", what, mc.Properties.AgentPoolProfiles, want)
		}
	}

	r := mlfleetCLI(t, "aks", "create", "-n", name, "-g", rg, "--node-count", "2", "--node-vm-size", "Standard_D2_v2")
	if r.code != 1 || !strings.HasPrefix(r.err, "ERROR: (Conflict) ") || !strings.Contains(r.err, "aks update") || !strings.Contains(r.err, "aks scale") || r.out != "" {
		t.Errorf("aks create of an existing cluster: exit %d\nstdout: %s\nstderr: %s\nwant exit 1 and ERROR: (Conflict) pointing to aks update and aks scale", r.code, r.out, r.err)
	}
	nodes(t, "a second aks create", 1)
	a := do(t, call{method: "PUT", path: path, headers: map[string]string{"If-None-Match": "*"},
		body: `{"location":"westus","properties":{"agentPoolProfiles":[{"name":"nodepool1","count":2,"vmSize":"Standard_D2_v2","mode":"System"}]}}`})
	wantError(t, "create-only PUT of an existing cluster", a, http.StatusConflict, "Conflict", name, "aks update")
	nodes(t, "a create-only PUT", 1)
	if _, now := getETag(t, path); now != etag {
		t.Errorf("refused creates changed the etag %s → %s", etag, now)
	}

	// A stale If-Match changes and deletes nothing.
	ranges := func(t *testing.T) []string {
		t.Helper()
		mc, err := sdk(t).GetManagedCluster(ctx, rg, name)
		if err != nil {
			t.Fatal(err)
		}
		if mc.Properties.APIServerAccessProfile == nil {
			return nil
		}
		return mc.Properties.APIServerAccessProfile.AuthorizedIPRanges
	}
	a = do(t, call{method: "PUT", path: path, headers: map[string]string{"If-Match": `"1"`},
		body: `{"properties":{"apiServerAccessProfile":{"authorizedIPRanges":["10.1.0.0/16"]}}}`})
	wantError(t, "cluster PUT with a stale If-Match", a, http.StatusPreconditionFailed, "PreconditionFailed", etag)
	if got := ranges(t); len(got) != 0 {
		t.Errorf("a refused PUT set the authorized ranges %v", got)
	}
	a = do(t, call{method: "DELETE", path: path, headers: map[string]string{"If-Match": `"1"`}})
	wantError(t, "cluster DELETE with a stale If-Match", a, http.StatusPreconditionFailed, "PreconditionFailed", etag)
	getETag(t, path)

	// `aks update` is not create only; a PUT with the current etag goes through.
	mustCLI(t, "aks", "update", "-n", name, "-g", rg, "--api-server-authorized-ip-ranges", "10.2.0.0/16")
	if got := ranges(t); strings.Join(got, ",") != "10.2.0.0/16" {
		t.Errorf("aks update set the authorized ranges %v, want 10.2.0.0/16", got)
	}
	_, etag = getETag(t, path)
	a = do(t, call{method: "PUT", path: path, headers: map[string]string{"If-Match": etag},
		body: `{"properties":{"apiServerAccessProfile":{"authorizedIPRanges":["10.1.0.0/16"]}}}`})
	if a.status != http.StatusOK || a.header.Get("ETag") == "" {
		t.Fatalf("cluster PUT with the current etag: %d (ETag header %q) %s", a.status, a.header.Get("ETag"), a.raw)
	}
	if op := a.header.Get("Azure-AsyncOperation"); op != "" {
		waitOperation(t, op)
	}
	if got := ranges(t); strings.Join(got, ",") != "10.1.0.0/16" {
		t.Errorf("PUT with the current etag set the authorized ranges %v, want 10.1.0.0/16", got)
	}

	// A DELETE with the current etag goes through.
	_, etag = getETag(t, path)
	del := do(t, call{method: "DELETE", path: path, headers: map[string]string{"If-Match": etag}})
	must(t, del, http.StatusAccepted)
	if op := waitOperation(t, del.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("delete with the current etag: %v", op)
	}
	if _, err := sdk(t).GetManagedCluster(ctx, rg, name); !mlfleet.IsNotFound(err) {
		t.Errorf("cluster after delete: %v", err)
	}
}
