package compat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// npmDir holds the npm project with the official @azure/arm-machinelearning client
// (installed by `npm ci` there, which .ci/run does).
const npmDir = "npm"

// npmCompute is the part of a compute the script prints for each get/create/attach step.
type npmCompute struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Type              string `json:"type"`
	Location          string `json:"location"`
	ComputeType       string `json:"computeType"`
	ProvisioningState string `json:"provisioningState"`
	IsAttachedCompute *bool  `json:"isAttachedCompute"`
	ResourceID        string `json:"resourceId"`
	AgentCount        *int   `json:"agentCount"`
	AgentVMSize       string `json:"agentVmSize"`
	ClusterPurpose    string `json:"clusterPurpose"`
	CreatedOnIsDate   bool   `json:"createdOnIsDate"`
}

// npmError is how the script prints a failed call (a RestError of @azure/core-rest-pipeline).
type npmError struct {
	Name       string `json:"name"`
	Message    string `json:"message"`
	StatusCode int    `json:"statusCode"`
	Code       string `json:"code"`
}

// npmStep is one line of the script's output; Raw keeps the whole line.
type npmStep struct {
	Step       string    `json:"step"`
	Error      *npmError `json:"error"`
	Unexpected any       `json:"unexpected"`
	Raw        json.RawMessage
}

// requireNode finds node and the installed npm packages: without them the test is skipped,
// except in CI (CI=true, or 1), where it fails: .ci/run installs them.
func requireNode(t *testing.T) string {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf(format+" (CI=true: the npm compatibility test must run)", args...)
		}
		t.Skipf(format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(npmDir, "node_modules", "@azure", "arm-machinelearning", "package.json")); err != nil {
		missing("@azure/arm-machinelearning is not installed; run `npm ci` in test/compat/npm: %v", err)
	}
	return node
}

// npmWorkspace returns a client of the test server that polls every 250ms, with the
// resource group rg and its workspace ws in location created.
func npmWorkspace(ctx context.Context, t *testing.T, rg, ws, location string) *mlfleet.Client {
	t.Helper()
	c := server.Client(t, mlfleet.WithPollInterval(250*time.Millisecond))
	if _, err := c.CreateResourceGroup(ctx, rg, location, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWorkspace(ctx, rg, ws, location); err != nil {
		t.Fatal(err)
	}
	return c
}

// runNpmScript runs script in npmDir with node, as the test server's caller, on the group
// rg, the workspace ws and location, with env added to the environment. It returns the
// steps the script printed, by name and in order; the test fails unless the script ends
// with its step "done". The script's output is logged when the test fails, and with
// MLFLEET_NPM_TRACE set.
func runNpmScript(ctx context.Context, t *testing.T, node, script, rg, ws, location string, env ...string) (map[string]npmStep, []string) {
	t.Helper()
	token, err := server.Config.ReadToken()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = npmDir
	cmd.Env = append(os.Environ(),
		"NODE_EXTRA_CA_CERTS="+server.Config.CAFile,
		"MLFLEET_URL="+server.Config.Server,
		"MLFLEET_TOKEN="+token,
		"MLFLEET_SUBSCRIPTION="+server.Config.Subscription,
		"MLFLEET_RG="+rg,
		"MLFLEET_WORKSPACE="+ws,
		"MLFLEET_LOCATION="+location,
	)
	cmd.Env = append(cmd.Env, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("node %s: %v", script, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("MLFLEET_NPM_TRACE") != "" {
			t.Logf("%s stdout:\n%s", script, npmRedactKeys(stdout.Bytes()))
			t.Logf("%s stderr (HTTP trace):\n%s", script, npmTail(stderr.Bytes(), 128<<10))
		}
	})

	steps := map[string]npmStep{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(stdout.Bytes()))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var s npmStep
		if err := json.Unmarshal(line, &s); err != nil {
			t.Fatalf("%s printed a line that is not a step: %v\n%s", script, err, line)
		}
		s.Raw = append(json.RawMessage(nil), line...)
		steps[s.Step] = s
		order = append(order, s.Step)
	}
	if runErr != nil {
		last := "(none)"
		if len(order) > 0 {
			last = string(steps[order[len(order)-1]].Raw)
		}
		t.Fatalf("node %s: %v; steps done: %v; last: %s", script, runErr, order, npmTruncate(last, 2000))
	}
	if _, ok := steps["done"]; !ok {
		t.Fatalf("%s did not finish; steps: %v", script, order)
	}
	return steps, order
}

// TestNpmArmMachineLearning runs test/compat/npm/compat.mjs, which drives the official npm
// client @azure/arm-machinelearning 2.1.1 against the server: create an AKS compute from the
// workspace (LRO to completion), get, attach a managed cluster made beforehand through the
// mlfleet SDK, list (paged), listKeys, listNodes, detach the attached compute and delete the
// created one (both LROs). The Go side then checks with the mlfleet SDK that the attached
// cluster survived the detach and that the created one went with its compute (S1–S3, A4, A7).
func TestNpmArmMachineLearning(t *testing.T) {
	node := requireNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	const (
		rg, ws, location = "compat-npm-rg", "compat-npm-ws", "westus"
		createName       = "npmcreate"
		attachName       = "npmattach"
		clusterName      = "npm-attach-aks"
		vmSize           = "Standard_D3_v2" // 4 cores: 3 nodes meet FastProd's 12 vCPUs (S5)
		nodes            = 3
	)
	c := npmWorkspace(ctx, t, rg, ws, location)

	// The cluster to attach, made on the cluster side.
	in := &mlfleet.ClusterInput{Location: location}
	in.Properties.DNSPrefix = "npmattach"
	in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: "nodepool1", Count: npmPtr(nodes), VMSize: vmSize, Mode: "System"}}
	start := time.Now()
	_, poller, err := c.BeginCreateManagedCluster(ctx, rg, clusterName, in)
	if err != nil {
		t.Fatalf("create cluster %s: %v", clusterName, err)
	}
	if poller != nil {
		if _, err := poller.Wait(ctx, nil); err != nil {
			t.Fatalf("create cluster %s: %v", clusterName, err)
		}
	}
	mc, err := c.GetManagedCluster(ctx, rg, clusterName)
	if err != nil {
		t.Fatalf("get cluster %s: %v", clusterName, err)
	}
	t.Logf("cluster %s created through the mlfleet SDK in %v: %s", clusterName, time.Since(start).Round(time.Millisecond), mc.ID)
	clusterID := mc.ID
	t.Cleanup(func() {
		p, err := c.BeginDeleteManagedCluster(context.Background(), rg, clusterName)
		if err == nil && p != nil {
			_, err = p.Wait(context.Background(), nil)
		}
		if err != nil && !mlfleet.IsNotFound(err) {
			t.Logf("cleanup: delete cluster %s: %v", clusterName, err)
		}
	})

	steps, order := runNpmScript(ctx, t, node, "compat.mjs", rg, ws, location,
		"MLFLEET_CREATE_NAME="+createName,
		"MLFLEET_ATTACH_NAME="+attachName,
		"MLFLEET_ATTACH_ID="+clusterID,
		"MLFLEET_AGENT_COUNT=3",
	)

	// get returns a step that must have succeeded, decoded into v.
	get := func(name string, v any) {
		t.Helper()
		s, ok := steps[name]
		if !ok {
			t.Fatalf("step %s missing; steps: %v", name, order)
		}
		if s.Error != nil {
			t.Fatalf("step %s failed: %+v", name, *s.Error)
		}
		if err := json.Unmarshal(s.Raw, v); err != nil {
			t.Fatalf("step %s: %v\n%s", name, err, s.Raw)
		}
	}
	checkCompute := func(step string, got npmCompute, name string, attached bool) {
		t.Helper()
		if !strings.EqualFold(got.Name, name) || !strings.HasSuffix(strings.ToLower(got.ID), "/workspaces/"+ws+"/computes/"+name) ||
			!strings.EqualFold(got.Type, "Microsoft.MachineLearningServices/workspaces/computes") {
			t.Errorf("%s: name %q id %q type %q", step, got.Name, got.ID, got.Type)
		}
		if got.ComputeType != "AKS" {
			t.Errorf("%s: computeType %q, want AKS", step, got.ComputeType)
		}
		if got.ProvisioningState != "Succeeded" {
			t.Errorf("%s: provisioningState %q, want Succeeded", step, got.ProvisioningState)
		}
		if got.IsAttachedCompute == nil || *got.IsAttachedCompute != attached {
			t.Errorf("%s: isAttachedCompute %v, want %v", step, npmDeref(got.IsAttachedCompute), attached)
		}
		if got.AgentCount == nil || *got.AgentCount != nodes {
			t.Errorf("%s: agentCount %v, want %d", step, npmDeref(got.AgentCount), nodes)
		}
		if got.AgentVMSize != vmSize {
			t.Errorf("%s: agentVmSize %q, want %s", step, got.AgentVMSize, vmSize)
		}
		if !strings.EqualFold(got.Location, location) {
			t.Errorf("%s: location %q, want %s", step, got.Location, location)
		}
		if !got.CreatedOnIsDate {
			t.Errorf("%s: properties.createdOn did not deserialize to a Date", step)
		}
	}

	// Create from the workspace (S1) and attach (S2), as the pollers' results and as GETs.
	var created, gotCreated, attachedC, gotAttached npmCompute
	get("create", &created)
	checkCompute("create (poller result)", created, createName, false)
	get("get-created", &gotCreated)
	checkCompute("get created", gotCreated, createName, false)
	// scaleSettings is AmlCompute's: a 400 that says how to scale an AKS compute; the
	// compute PUT back as the client read it is accepted.
	var refusal struct {
		Error *struct {
			StatusCode float64 `json:"statusCode"`
			Message    string  `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(steps["update-scalesettings"].Raw, &refusal)
	if refusal.Error == nil || refusal.Error.StatusCode != 400 || !strings.Contains(refusal.Error.Message, "agentCount") {
		t.Errorf("update-scalesettings: want a 400 naming agentCount, got %s", steps["update-scalesettings"].Raw)
	}
	var putBack npmCompute
	get("put-as-read", &putBack)
	checkCompute("put as read", putBack, createName, false)
	get("attach", &attachedC)
	checkCompute("attach (poller result)", attachedC, attachName, true)
	get("get-attached", &gotAttached)
	checkCompute("get attached", gotAttached, attachName, true)
	if !strings.EqualFold(gotAttached.ResourceID, clusterID) {
		t.Errorf("get attached: resourceId %q, want %q", gotAttached.ResourceID, clusterID)
	}
	// The cluster the create made: the compute's resourceId, else a cluster named after it (S1).
	createdCluster := createName
	if gotCreated.ResourceID != "" {
		createdCluster = gotCreated.ResourceID[strings.LastIndex(gotCreated.ResourceID, "/")+1:]
		if !strings.Contains(strings.ToLower(gotCreated.ResourceID), "/providers/microsoft.containerservice/managedclusters/") {
			t.Errorf("get created: resourceId %q is not a managed cluster", gotCreated.ResourceID)
		}
	}

	// The unknown property mlfleet adds (properties.mlfleet) survives the client's
	// deserialization: the client keeps what it does not model.
	var whole struct {
		Resource struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"resource"`
	}
	get("get-created", &whole)
	if _, ok := whole.Resource.Properties["mlfleet"]; !ok {
		t.Logf("note: properties.mlfleet not present in the deserialized compute (keys: %v)", slices.Sorted(maps.Keys(whole.Resource.Properties)))
	}

	// List, paged and iterated.
	var list struct {
		Pages    int      `json:"pages"`
		Names    []string `json:"names"`
		Iterated []string `json:"iterated"`
	}
	get("list", &list)
	for _, n := range []string{createName, attachName} {
		if !npmContainsFold(list.Names, n) {
			t.Errorf("list (byPage, %d pages): %s missing from %v", list.Pages, n, list.Names)
		}
	}
	if !slices.Equal(list.Names, list.Iterated) {
		t.Errorf("list: pages give %v, the iterator %v", list.Names, list.Iterated)
	}

	// Keys: plain kubeconfig text that reaches the cluster; nodes: one per agent.
	for _, label := range []string{"created", "attached"} {
		var secrets struct {
			ComputeType     string `json:"computeType"`
			UserKubeConfig  string `json:"userKubeConfig"`
			AdminKubeConfig string `json:"adminKubeConfig"`
		}
		get("keys-"+label, &secrets)
		if secrets.ComputeType != "AKS" {
			t.Errorf("listKeys %s: computeType %q, want AKS", label, secrets.ComputeType)
		}
		// Plain kubeconfig text (not base64) naming an API server. Whether it still
		// reaches the cluster cannot be checked here: the computes are gone by now.
		for kind, kc := range map[string]string{"userKubeConfig": secrets.UserKubeConfig, "adminKubeConfig": secrets.AdminKubeConfig} {
			if strings.TrimSpace(kc) == "" {
				t.Errorf("listKeys %s: %s is empty", label, kind)
				continue
			}
			rc, err := clientcmd.RESTConfigFromKubeConfig([]byte(kc))
			if err != nil {
				t.Errorf("listKeys %s: %s is not a kubeconfig: %v\n%.200s", label, kind, err, kc)
				continue
			}
			if rc.Host == "" {
				t.Errorf("listKeys %s: %s names no server", label, kind)
			} else if label == "attached" && mc.Properties.Mlfleet.APIServerURL != "" &&
				strings.TrimRight(rc.Host, "/") != strings.TrimRight(mc.Properties.Mlfleet.APIServerURL, "/") {
				t.Logf("note: listKeys attached: %s server %s, the cluster's API server %s", kind, rc.Host, mc.Properties.Mlfleet.APIServerURL)
			}
		}
		var ns struct {
			Count int                   `json:"count"`
			Nodes []mlfleet.ComputeNode `json:"nodes"`
		}
		get("nodes-"+label, &ns)
		if ns.Count != nodes || len(ns.Nodes) != nodes {
			t.Errorf("listNodes %s: %d nodes, want %d: %+v", label, ns.Count, nodes, ns.Nodes)
		}
		for _, n := range ns.Nodes {
			if n.NodeID == "" || n.NodeState == "" {
				t.Errorf("listNodes %s: node without nodeId or nodeState: %+v", label, n)
			}
		}
	}

	// Detach and delete ran to completion; the computes are gone.
	var ignored map[string]any
	get("detach-attached", &ignored)
	get("delete-created", &ignored)
	for _, step := range []string{"get-attached-after-detach", "get-created-after-delete"} {
		s := steps[step]
		if s.Error == nil || s.Error.StatusCode != 404 {
			t.Errorf("%s: want a 404 error, got %s", step, s.Raw)
		}
	}
	var after struct {
		Names []string `json:"names"`
	}
	get("list-after-delete", &after)
	if npmContainsFold(after.Names, createName) || npmContainsFold(after.Names, attachName) {
		t.Errorf("list after delete still has %v", after.Names)
	}

	// Seen from the mlfleet SDK: the computes are gone, the detached cluster stays (S3) and
	// the cluster the create made went with the Delete.
	for _, n := range []string{createName, attachName} {
		if _, err := c.GetCompute(ctx, rg, ws, n); !mlfleet.IsNotFound(err) {
			t.Errorf("SDK GetCompute %s after delete: %v, want not found", n, err)
		}
	}
	kept, err := c.GetManagedCluster(ctx, rg, clusterName)
	if err != nil {
		t.Errorf("cluster %s after Detach: %v (Detach must keep it)", clusterName, err)
	} else if kept.Properties.ProvisioningState != "Succeeded" {
		t.Errorf("cluster %s after Detach: provisioningState %s", clusterName, kept.Properties.ProvisioningState)
	}
	if _, err := c.GetManagedCluster(ctx, rg, createdCluster); !mlfleet.IsNotFound(err) {
		t.Errorf("cluster %s of the created compute after underlyingResourceAction=Delete: %v, want not found", createdCluster, err)
	}
}

func npmPtr[T any](v T) *T { return &v }

func npmDeref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func npmContainsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

func npmTail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func npmTruncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// redactKeys drops the kubeconfigs from the script's output before it goes to a log.
func npmRedactKeys(out []byte) []byte {
	var b bytes.Buffer
	for _, line := range bytes.Split(out, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(`{"step":"keys-`)) {
			line = append(line[:min(len(line), 60):min(len(line), 60)], []byte("… (kubeconfigs left out)")...)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
