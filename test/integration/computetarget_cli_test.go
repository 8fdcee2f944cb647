package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// Compute names are unique per region across the package's tests (S4): the ones here
// start with ctcli-.

// cliWorkspace creates, through the CLI, the resource group rg in westus (deleted when the
// test ends) and the workspace ws in it.
func cliWorkspace(t *testing.T, rg, ws string) {
	t.Helper()
	mustCLI(t, "group", "create", "-n", rg, "-l", "westus")
	t.Cleanup(func() { mlfleetCLI(t, "group", "delete", "-n", rg, "--yes") })
	mustCLI(t, "ml", "workspace", "create", "-n", ws, "-g", rg)
}

// TestComputeTargetCLICreate: a compute created from the workspace through every
// `ml computetarget` command a user has for it, from the name check to delete (S1, S4,
// S12-S14, S20, S21, B1).
func TestComputeTargetCLICreate(t *testing.T) {
	t.Parallel()
	const rg, ws, name = "ctcli-rg", "ctcli-ws", "ctcli-dev"
	ctx := context.Background()
	cliWorkspace(t, rg, ws)
	at := []string{"-g", rg, "-w", ws}
	ct := func(args ...string) result {
		return mlfleetCLI(t, append(append([]string{"ml", "computetarget"}, args...), at...)...)
	}

	// The name check answers either way with exit 0.
	r := ct("check-name", "-n", name)
	if r.code != 0 || !strings.Contains(r.out, `"nameAvailable": true`) {
		t.Fatalf("check-name of a free name: %+v", r)
	}
	r = ct("check-name", "-n", "1-starts-with-a-digit")
	if r.code != 0 || !strings.Contains(r.out, `"nameAvailable": false`) || !strings.Contains(r.out, `"reason": "Invalid"`) {
		t.Fatalf("check-name of an invalid name: %+v", r)
	}

	// A dry run of a production cluster of one small node fails every capacity check
	// together; as DevTest it passes and prints its checks.
	r = ct("create", "aks", "-n", name, "--agent-count", "1", "--vm-size", "Standard_D2_v2", "--dry-run")
	if r.code != 1 || !strings.HasPrefix(r.err, "ERROR: (") || strings.Count(r.err, "\n  - (") < 2 || r.out != "" {
		t.Fatalf("dry run of a too small FastProd cluster: %+v", r)
	}
	r = ct("create", "aks", "-n", name, "--agent-count", "1", "--vm-size", "Standard_D2_v2", "--cluster-purpose", "DevTest", "--dry-run", "-o", "table")
	if r.code != 0 || !strings.HasPrefix(r.out, "Check") || !strings.Contains(r.out, "Result") || !strings.Contains(r.out, "Passed") {
		t.Fatalf("dry run -o table: %+v", r)
	}
	if r := ct("show", "-n", name); r.code != 1 {
		t.Fatalf("a dry run created the compute: %+v", r)
	}

	r = ct("create", "aks", "-n", name, "--agent-count", "1", "--vm-size", "Standard_D2_v2", "--cluster-purpose", "DevTest", "--description", "dev cluster", "-o", "table")
	if r.code != 0 {
		t.Fatalf("create: %+v", r)
	}
	if !strings.HasPrefix(r.out, "Creating") || !strings.Contains(r.out, finished+"\nName ") {
		t.Errorf("create -o table: progress, then the table:\n%s", r.out)
	}
	for _, col := range []string{"ComputeType", "Location", "State", "Purpose", "Nodes", "VMSize", "DevTest", "Standard_D2_v2"} {
		if !strings.Contains(r.out, col) {
			t.Errorf("create -o table lacks %s:\n%s", col, r.out)
		}
	}
	if r := ct("check-name", "-n", name); !strings.Contains(r.out, `"nameAvailable": false`) || !strings.Contains(r.out, "AlreadyExists") {
		t.Errorf("check-name of a taken name: %+v", r)
	}
	if out := mustCLI(t, "ml", "computetarget", "show", "-n", name, "-g", rg, "-w", ws, "--query", "[properties.provisioningState, properties.description]", "-o", "tsv"); out != "Succeeded\ndev cluster\n" {
		t.Errorf("show --query: %q", out)
	}
	out := mustCLI(t, "ml", "computetarget", "list", "-g", rg, "-w", ws, "-o", "table")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "Name") || !strings.HasPrefix(lines[2], name) {
		t.Errorf("list -o table:\n%s", out)
	}

	// Credentials into a kubeconfig file, user then admin, and a context of our own name.
	file := filepath.Join(t.TempDir(), "config")
	for _, extra := range [][]string{nil, {"--admin"}, {"--admin", "--context", "mine"}} {
		r := ct(append([]string{"get-credentials", "-n", name, "--file", file}, extra...)...)
		if r.code != 0 || !strings.Contains(r.err, "Merged") {
			t.Fatalf("get-credentials %v: %+v", extra, r)
		}
	}
	kcfg, err := clientcmd.LoadFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if kcfg.CurrentContext != "mine" || len(kcfg.Contexts) < 2 {
		t.Errorf("kubeconfig contexts: current %q, %d contexts", kcfg.CurrentContext, len(kcfg.Contexts))
	}
	rc, err := clientcmd.NewDefaultClientConfig(*kcfg, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	k := kubernetes.NewForConfigOrDie(rc)
	if nodes, err := k.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil || len(nodes.Items) != 1 {
		t.Errorf("nodes through the written kubeconfig: %v", err)
	}
	// Named as aks get-credentials names the cluster's entries: the context after the cluster.
	if r := ct("get-credentials", "-n", name, "--file", "-"); r.code != 0 || !strings.Contains(r.out, "apiVersion: v1") ||
		!strings.Contains(r.out, "current-context: "+name+"\n") || !strings.Contains(r.out, "clusterUser_"+rg+"_"+name) {
		t.Errorf("get-credentials --file -: %+v", r)
	}

	var nodes []map[string]any
	if err := json.Unmarshal([]byte(mustCLI(t, "ml", "computetarget", "list-nodes", "-n", name, "-g", rg, "-w", ws)), &nodes); err != nil || len(nodes) != 1 {
		t.Errorf("list-nodes: %v %v", nodes, err)
	}

	// Scale from the workspace (S20).
	r = ct("scale", "-n", name, "--agent-count", "2", "--query", "properties.properties.agentCount", "-o", "tsv")
	if r.code != 0 || !strings.HasPrefix(r.out, "Updating") || !strings.HasSuffix(r.out, finished+"\n2\n") {
		t.Fatalf("scale: %+v", r)
	}
	admin := clusterAdmin(t, rg, name)
	testutil.Eventually(t, 60*time.Second, "2 ready nodes after scale", nodeCount(ctx, admin, 2))
	if r := ct("scale", "-n", name, "--agent-count", "3", "--no-wait"); r.code != 0 || r.out != "" {
		t.Errorf("scale --no-wait: %+v", r)
	}
	testutil.Eventually(t, 60*time.Second, "scale --no-wait finishing", func() error {
		out := mustCLI(t, "ml", "computetarget", "show", "-n", name, "-g", rg, "-w", ws, "--query", "[properties.provisioningState, properties.properties.agentCount]", "-o", "tsv")
		if out != "Succeeded\n3\n" {
			return fmt.Errorf("got %q", out)
		}
		return nil
	})

	// TLS and the load balancer change in place (S12-S14); what is not given is kept.
	sslOf := func(r result) map[string]any {
		t.Helper()
		if r.code != 0 {
			t.Fatalf("update: %+v", r)
		}
		_, comp := computeOutput(t, r.out)
		ssl, _ := testutil.Field(comp, "properties.properties.sslConfiguration").(map[string]any)
		if ssl["key"] != nil {
			t.Errorf("the TLS key is returned: %v", ssl)
		}
		return ssl
	}
	cert, key := certFiles(t, "ctcli.example.com")
	ssl := sslOf(ct("update", "aks", "-n", name, "--ssl-cname", "ctcli.example.com", "--ssl-cert-file", cert, "--ssl-key-file", key))
	if ssl["status"] != "Enabled" || ssl["cname"] != "ctcli.example.com" {
		t.Errorf("TLS with our certificate: %v", ssl)
	}
	if _, err := admin.CoreV1().Secrets("azureml").Get(ctx, "azureml-fe-tls", metav1.GetOptions{}); err != nil {
		t.Errorf("TLS secret after enabling TLS: %v", err)
	}
	r = ct("update", "aks", "-n", name, "--load-balancer-type", "InternalLoadBalancer")
	if ssl := sslOf(r); ssl["status"] != "Enabled" {
		t.Errorf("TLS after a load balancer change: %v", ssl)
	}
	_, comp := computeOutput(t, r.out)
	if testutil.Field(comp, "properties.properties.loadBalancerType") != "InternalLoadBalancer" || testutil.Field(comp, "properties.properties.clusterPurpose") != "DevTest" {
		t.Errorf("after update --load-balancer-type: %v", comp["properties"])
	}
	if ssl := sslOf(ct("update", "aks", "-n", name, "--ssl-leaf-domain-label", "ctclidev")); ssl["status"] != "Auto" || ssl["leafDomainLabel"] != "ctclidev" {
		t.Errorf("TLS issued by mlfleet: %v", ssl)
	}
	if ssl := sslOf(ct("update", "aks", "-n", name, "--ssl-disable")); ssl["status"] != "Disabled" {
		t.Errorf("TLS off: %v", ssl)
	}
	if _, err := admin.CoreV1().Secrets("azureml").Get(ctx, "azureml-fe-tls", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("TLS secret after --ssl-disable: %v", err)
	}
	if r := ct("update", "aks", "-n", name, "--load-balancer-type", "PublicIp", "--load-balancer-subnet", "s1"); r.code != 2 {
		t.Errorf("subnet with a public load balancer: %+v", r)
	}

	// Delete takes the created cluster with it (S3).
	if r := ct("delete", "-n", name); r.code != 2 || !strings.Contains(r.err, "--yes") {
		t.Errorf("delete without --yes: %+v", r)
	}
	r = ct("delete", "-n", name, "--yes")
	if r.code != 0 || !strings.HasPrefix(r.out, "Deleting") || !strings.HasSuffix(r.out, finished+"\n") {
		t.Fatalf("delete: %+v", r)
	}
	if r := mlfleetCLI(t, "aks", "show", "-n", name, "-g", rg); r.code != 1 || !strings.Contains(r.err, "NotFound") {
		t.Errorf("the created cluster after delete: %+v", r)
	}
	for _, args := range [][]string{{"show", "-n", name}, {"detach", "-n", name}} {
		if r := ct(args...); r.code != 1 || !strings.HasPrefix(r.err, "ERROR: (") || !strings.Contains(r.err, "NotFound") {
			t.Errorf("%v of a deleted compute: %+v", args, r)
		}
	}
}

// TestComputeTargetCLIAttach: attaching an existing cluster through the CLI — dry run,
// warnings, --no-wait, a second attachment refused then forced, delete refused, detach
// keeping the cluster (S2, S3, S5, S11, B1).
func TestComputeTargetCLIAttach(t *testing.T) {
	t.Parallel()
	const rg, ws, ws2 = "ctcli-att-rg", "ctcli-att-ws", "ctcli-att-ws2"
	ctx := context.Background()
	cliWorkspace(t, rg, ws)
	mustCLI(t, "ml", "workspace", "create", "-n", ws2, "-g", rg)
	// One node of one core: too small for production, a warning for DevTest.
	mustCLI(t, "aks", "create", "-n", "ctcli-ext", "-g", rg, "--node-count", "1", "--node-vm-size", "Standard_D1_v2")
	id := strings.TrimSpace(mustCLI(t, "aks", "show", "-n", "ctcli-ext", "-g", rg, "--query", "id", "-o", "tsv"))
	ct := func(args ...string) result { return mlfleetCLI(t, append([]string{"ml", "computetarget"}, args...)...) }

	r := ct("attach", "aks", "-n", "ctcli-att", "-i", id, "-g", rg, "-w", ws, "--dry-run")
	if r.code != 1 || !strings.HasPrefix(r.err, "ERROR: (") || strings.Count(r.err, "\n  - (") < 2 || r.out != "" {
		t.Fatalf("dry run of a FastProd attach of 1 core: %+v", r)
	}
	r = ct("attach", "aks", "-n", "ctcli-att", "-i", id, "-g", rg, "-w", ws, "--cluster-purpose", "DevTest", "--dry-run")
	var v struct {
		Valid  bool
		Checks []struct{ Name, Message string }
	}
	if r.code != 0 || json.Unmarshal([]byte(r.out), &v) != nil || !v.Valid || len(v.Checks) == 0 || !strings.Contains(r.err, "WARNING: ") {
		t.Fatalf("DevTest dry run: %+v", r)
	}
	k := clusterAdmin(t, rg, "ctcli-ext")
	if _, err := k.CoreV1().Namespaces().Get(ctx, "azureml", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a dry run installed something: %v", err)
	}

	r = ct("attach", "aks", "-n", "ctcli-att", "-i", id, "-g", rg, "-w", ws, "--cluster-purpose", "DevTest", "--no-wait")
	if r.code != 0 || r.out != "" || !strings.Contains(r.err, "WARNING: ") {
		t.Fatalf("attach --no-wait: %+v", r)
	}
	testutil.Eventually(t, 60*time.Second, "attach --no-wait finishing", func() error {
		out := mustCLI(t, "ml", "computetarget", "show", "-n", "ctcli-att", "-g", rg, "-w", ws, "--query", "properties.provisioningState", "-o", "tsv")
		if out != "Succeeded\n" {
			return fmt.Errorf("got %q", out)
		}
		return nil
	})
	assertInstalled(ctx, t, k)

	// A cluster is attached once (S11): another workspace is refused, unless forced.
	r = ct("attach", "aks", "-n", "ctcli-att2", "-i", id, "-g", rg, "-w", ws2, "--cluster-purpose", "DevTest")
	if r.code != 1 || !strings.HasPrefix(r.err, "ERROR: (Conflict)") || !strings.Contains(r.err, "ctcli-att") {
		t.Fatalf("second attach: %+v", r)
	}
	r = ct("attach", "aks", "-n", "ctcli-att2", "-i", id, "-g", rg, "-w", ws2, "--cluster-purpose", "DevTest", "--force", "--query", "properties.isAttachedCompute")
	if r.code != 0 || !strings.HasSuffix(r.out, finished+"\ntrue\n") {
		t.Fatalf("forced attach: %+v", r)
	}
	assertInstalled(ctx, t, k)
	// The forced attach detached the compute that held the cluster.
	if r := ct("show", "-n", "ctcli-att", "-g", rg, "-w", ws); r.code != 1 || !strings.Contains(r.err, "NotFound") {
		t.Errorf("the compute whose attachment was taken over: %+v", r)
	}

	// An attached cluster is detached, not deleted.
	r = ct("delete", "-n", "ctcli-att2", "-g", rg, "-w", ws2, "--yes")
	if r.code != 1 || !strings.HasPrefix(r.err, "ERROR: (") || !strings.Contains(strings.ToLower(r.err), "detach") {
		t.Errorf("delete of an attached compute: %+v", r)
	}
	r = ct("detach", "-n", "ctcli-att2", "-g", rg, "-w", ws2)
	if r.code != 0 || !strings.HasSuffix(r.out, finished+"\n") {
		t.Fatalf("detach: %+v", r)
	}
	assertRemoved(ctx, t, k)
	mustCLI(t, "aks", "show", "-n", "ctcli-ext", "-g", rg)

	// Ids that do not name a cluster of ours.
	if r := ct("attach", "aks", "-n", "ctcli-bad", "-i", clusterPath(rg, "nosuchcluster"), "-g", rg, "-w", ws); r.code != 1 || !strings.HasPrefix(r.err, "ERROR: (") {
		t.Errorf("attach of a missing cluster: %+v", r)
	}
	if r := ct("attach", "aks", "-n", "ctcli-bad", "-i", "/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/virtualMachines/z", "-g", rg, "-w", ws); r.code != 2 || !strings.Contains(r.err, "Microsoft.ContainerService") {
		t.Errorf("attach of a VM id: %+v", r)
	}
}

// certFiles writes a self-signed certificate for cname and its key as PEM files.
func certFiles(t *testing.T, cname string) (certFile, keyFile string) {
	t.Helper()
	cert, key := selfSigned(t, cname)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
