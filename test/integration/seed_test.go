package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// finished is the last progress line of a compute operation that succeeded (S21).
const finished = `Provisioning operation finished, operation "Succeeded"`

// TestSeed runs the seed's commands verbatim, with `az` replaced by `mlfleet`, after
// `mlfleet configure --defaults` (S22), and checks in the clusters that create and attach
// installed mlfleet's components and that detach removed them and kept the cluster (S1,
// S2, S3). It is not parallel: it sets defaults in the shared CLI config.
func TestSeed(t *testing.T) {
	const rg, ws = "seed-rg", "seed-ws"
	ctx := context.Background()
	c := sdk(t)
	mustCLI(t, "group", "create", "-n", rg, "-l", "westus")
	t.Cleanup(func() {
		if r := mlfleetCLI(t, "group", "delete", "-n", rg, "--yes"); r.code != 0 {
			t.Errorf("group delete: %+v", r)
		}
	})
	mustCLI(t, "ml", "workspace", "create", "-n", ws, "-g", rg)
	mustCLI(t, "configure", "--defaults", "group="+rg, "workspace="+ws)
	t.Cleanup(func() { mustCLI(t, "configure", "--defaults", "group=", "workspace=") })

	// az aks get-versions -l westus -o table
	versions, err := c.KubernetesVersions(ctx, "westus")
	if err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "aks", "get-versions", "-l", "westus", "-o", "table")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2+len(versions.Properties.Orchestrators) || !strings.HasPrefix(lines[0], "KubernetesVersion    Upgrades") || !strings.HasPrefix(lines[1], "---") {
		t.Errorf("aks get-versions -o table:\n%s", out)
	}
	var def string
	for _, o := range versions.Properties.Orchestrators {
		if !strings.Contains(out, o.OrchestratorVersion) {
			t.Errorf("version %s missing from the table:\n%s", o.OrchestratorVersion, out)
		}
		if o.Default != nil && *o.Default {
			def = o.OrchestratorVersion
		}
	}

	// az aks get-versions -l westus --query "orchestrators[?default == `true`].orchestratorVersion" -o table
	out = mustCLI(t, "aks", "get-versions", "-l", "westus", "--query", "orchestrators[?default == `true`].orchestratorVersion", "-o", "table")
	lines = strings.Split(strings.TrimRight(out, "\n"), "\n")
	if def == "" || len(lines) != 3 || lines[0] != "Result" || strings.Trim(lines[1], "-") != "" || lines[2] != def {
		t.Errorf("default version query (default %q):\n%s", def, out)
	}

	// az ml computetarget create aks -n myaks
	r := mlfleetCLI(t, "ml", "computetarget", "create", "aks", "-n", "myaks")
	if r.code != 0 {
		t.Fatalf("ml computetarget create aks: %+v", r)
	}
	progress, comp := computeOutput(t, r.out)
	t.Logf("mlfleet ml computetarget create aks -n myaks printed, before the compute:\n%s", progress)
	if !strings.HasPrefix(progress, "Creating") || !strings.HasSuffix(progress, "Succeeded\n"+finished+"\n") {
		t.Errorf("create progress:\n%s", progress)
	}
	for path, want := range map[string]any{
		"name": "myaks", "location": "westus", "properties.computeType": "AKS", "properties.provisioningState": "Succeeded",
		"properties.isAttachedCompute": false, "properties.properties.agentCount": 3.0, "properties.properties.agentVmSize": "Standard_D3_v2",
		"properties.properties.clusterPurpose": "FastProd", "properties.properties.loadBalancerType": "PublicIp",
	} {
		if got := testutil.Field(comp, path); got != want {
			t.Errorf("created compute: %s = %v, want %v", path, got, want)
		}
	}
	created := clusterAdmin(t, rg, "myaks")
	assertInstalled(ctx, t, created)

	// The seed attaches under the name myaks: detach the created one first (the cluster
	// myaks stays, S3).
	r = mlfleetCLI(t, "ml", "computetarget", "detach", "-n", "myaks", "-g", rg, "-w", ws)
	if r.code != 0 || !strings.HasSuffix(r.out, finished+"\n") || strings.Contains(r.out, "{") {
		t.Fatalf("detach of the created compute: %+v", r)
	}
	assertRemoved(ctx, t, created)
	mustCLI(t, "aks", "show", "-n", "myaks", "-g", rg)

	// An existing cluster: 3 × Standard_D3_v2 = 12 vCPUs, enough for the default FastProd.
	mustCLI(t, "aks", "create", "-n", "myexistingcluster", "-g", rg, "--node-count", "3", "--node-vm-size", "Standard_D3_v2")

	// az aks show -n myexistingcluster -g myresourcegroup --query id
	out = mustCLI(t, "aks", "show", "-n", "myexistingcluster", "-g", rg, "--query", "id")
	id := strings.Trim(strings.TrimSpace(out), `"`)
	if !strings.EqualFold(id, clusterPath(rg, "myexistingcluster")) {
		t.Fatalf("aks show --query id: %q", out)
	}

	// az ml computetarget attach aks -n myaks -i aksresourceid -g myresourcegroup -w myworkspace
	r = mlfleetCLI(t, "ml", "computetarget", "attach", "aks", "-n", "myaks", "-i", id, "-g", rg, "-w", ws)
	if r.code != 0 {
		t.Fatalf("ml computetarget attach aks: %+v", r)
	}
	progress, comp = computeOutput(t, r.out)
	if !strings.HasSuffix(progress, finished+"\n") {
		t.Errorf("attach progress:\n%s", progress)
	}
	if testutil.Field(comp, "properties.isAttachedCompute") != true || !strings.EqualFold(fmt.Sprint(testutil.Field(comp, "properties.resourceId")), id) ||
		testutil.Field(comp, "properties.provisioningState") != "Succeeded" || testutil.Field(comp, "properties.properties.agentCount") != 3.0 {
		t.Errorf("attached compute: %v", comp)
	}
	existing := clusterAdmin(t, rg, "myexistingcluster")
	assertInstalled(ctx, t, existing)
	// S20: a scale-down made on the cluster's side (az aks scale) re-checks the purpose of
	// the compute attached to it, as one made from the workspace does.
	if r := mlfleetCLI(t, "aks", "scale", "-n", "myexistingcluster", "-g", rg, "--node-count", "2"); r.code == 0 ||
		!strings.Contains(r.err, "FastProd cluster needs at least 3 nodes") || !strings.Contains(r.err, "compute 'myaks'") {
		t.Errorf("aks scale of the attached FastProd cluster to 2 nodes: %+v", r)
	}

	// az ml computetarget detach -n myaks -g myresourcegroup -w myworkspace
	r = mlfleetCLI(t, "ml", "computetarget", "detach", "-n", "myaks", "-g", rg, "-w", ws)
	if r.code != 0 || !strings.HasSuffix(r.out, finished+"\n") {
		t.Fatalf("ml computetarget detach: %+v", r)
	}
	assertRemoved(ctx, t, existing)
	if out := mustCLI(t, "aks", "show", "-n", "myexistingcluster", "-g", rg, "--query", "provisioningState", "-o", "tsv"); out != "Succeeded\n" {
		t.Errorf("the cluster after detach: %q", out)
	}
	if _, err := existing.Discovery().ServerVersion(); err != nil {
		t.Errorf("the cluster stopped answering after detach: %v", err)
	}
	if r := mlfleetCLI(t, "ml", "computetarget", "show", "-n", "myaks"); r.code != 1 || !strings.HasPrefix(r.err, "ERROR: (") {
		t.Errorf("show after detach: %+v", r)
	}
}

// computeOutput splits what a waited-for compute command printed: the progress lines,
// then the compute as JSON.
func computeOutput(t *testing.T, out string) (progress string, compute map[string]any) {
	t.Helper()
	i := strings.Index(out, finished+"\n")
	if i < 0 {
		t.Fatalf("no %q line in:\n%s", finished, out)
	}
	end := i + len(finished) + 1
	if err := json.Unmarshal([]byte(out[end:]), &compute); err != nil {
		t.Fatalf("after the progress, not a JSON object (%v):\n%s", err, out)
	}
	return out[:end], compute
}

// assertInstalled checks what create and attach install (SPEC §3): namespace azureml, the
// inference front-end's Deployment and the attachment marker.
func assertInstalled(ctx context.Context, t *testing.T, k kubernetes.Interface) {
	t.Helper()
	if _, err := k.CoreV1().Namespaces().Get(ctx, "azureml", metav1.GetOptions{}); err != nil {
		t.Errorf("namespace azureml: %v", err)
	}
	if _, err := k.AppsV1().Deployments("azureml").Get(ctx, "azureml-fe", metav1.GetOptions{}); err != nil {
		t.Errorf("deployment azureml/azureml-fe: %v", err)
	}
	if _, err := k.CoreV1().ConfigMaps("kube-system").Get(ctx, "azureml-attachment", metav1.GetOptions{}); err != nil {
		t.Errorf("attachment marker kube-system/azureml-attachment: %v", err)
	}
}

// assertRemoved checks that detach removed what attach installed. The namespace may take
// a moment to finish terminating.
func assertRemoved(ctx context.Context, t *testing.T, k kubernetes.Interface) {
	t.Helper()
	if _, err := k.AppsV1().Deployments("azureml").Get(ctx, "azureml-fe", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("deployment azureml/azureml-fe after detach: %v", err)
	}
	if _, err := k.CoreV1().ConfigMaps("kube-system").Get(ctx, "azureml-attachment", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("attachment marker after detach: %v", err)
	}
	testutil.Eventually(t, 60*time.Second, "namespace azureml gone after detach", func() error {
		ns, err := k.CoreV1().Namespaces().Get(ctx, "azureml", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("namespace azureml is %s", ns.Status.Phase)
	})
}
