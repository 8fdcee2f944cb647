package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func computePath(rg, ws, name string) string { return wsPath(rg, ws) + "/computes/" + name }

// newWorkspace makes a resource group with one workspace in westus.
func newWorkspace(t *testing.T, rg, ws string) {
	t.Helper()
	c := sdk(t)
	ctx := context.Background()
	createGroup(t, c, rg, "westus")
	if _, err := c.CreateWorkspace(ctx, rg, ws, "westus"); err != nil {
		t.Fatal(err)
	}
}

// putCompute PUTs a compute body and checks the LRO headers every PUT must carry.
func putCompute(t *testing.T, rg, ws, name, body, query string) answer {
	t.Helper()
	a := do(t, call{method: "PUT", path: computePath(rg, ws, name) + mlAPI + query, body: body})
	if (a.status == 200 || a.status == 201) && !strings.Contains(query, "validateOnly") {
		if a.header.Get("Azure-AsyncOperation") == "" {
			t.Fatalf("PUT %s answered %d without Azure-AsyncOperation", name, a.status)
		}
	}
	return a
}

// putComputesAtOnce PUTs body as the computes of targets (resource group, workspace, name)
// at the same time, each with putCompute, and returns the answers in the order of targets.
func putComputesAtOnce(t *testing.T, body string, targets ...[3]string) []answer {
	t.Helper()
	answers := make([]answer, len(targets))
	var wg sync.WaitGroup
	for i, c := range targets {
		wg.Go(func() { answers[i] = putCompute(t, c[0], c[1], c[2], body, "") })
	}
	wg.Wait()
	return answers
}

// waitPut waits for the operation of a PUT and returns the compute afterwards.
func waitPut(t *testing.T, a answer, rg, ws, name string) (map[string]any, map[string]any) {
	t.Helper()
	op := waitOperation(t, a.header.Get("Azure-AsyncOperation"))
	got := do(t, call{method: "GET", path: computePath(rg, ws, name) + mlAPI})
	must(t, got, 200)
	return op, got.body
}

func deleteCompute(t *testing.T, rg, ws, name, action string) map[string]any {
	t.Helper()
	a := do(t, call{method: "DELETE", path: computePath(rg, ws, name) + mlAPI + "&underlyingResourceAction=" + action})
	must(t, a, http.StatusAccepted)
	if a.header.Get("Location") == "" || a.header.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("DELETE answered 202 without Location/Azure-AsyncOperation: %v", a.header)
	}
	return waitOperation(t, a.header.Get("Azure-AsyncOperation"))
}

func props(c map[string]any) map[string]any {
	p, _ := c["properties"].(map[string]any)
	return p
}

func aksProps(c map[string]any) map[string]any {
	p, _ := props(c)["properties"].(map[string]any)
	return p
}

// requireKeys checks that a compute body has every key azureml-core indexes (A7).
func requireKeys(t *testing.T, c map[string]any) {
	t.Helper()
	for _, k := range []string{"id", "location", "tags", "name"} {
		if _, ok := c[k]; !ok {
			t.Errorf("compute body lacks %q: %v", k, c)
		}
	}
	p := props(c)
	for _, k := range []string{"properties", "provisioningErrors", "description", "provisioningState", "resourceId", "isAttachedCompute"} {
		if _, ok := p[k]; !ok {
			t.Errorf("compute properties lack %q", k)
		}
	}
	if ap := aksProps(c); ap != nil {
		for _, k := range []string{"agentVmSize", "agentCount", "clusterPurpose", "clusterFqdn", "systemServices", "loadBalancerType", "loadBalancerSubnet"} {
			if _, ok := ap[k]; !ok {
				t.Errorf("AKS properties lack %q", k)
			}
		}
		svcs, _ := ap["systemServices"].([]any)
		for _, s := range svcs {
			for _, k := range []string{"systemServiceType", "version", "publicIpAddress"} {
				if _, ok := s.(map[string]any)[k]; !ok {
					t.Errorf("system service lacks %q", k)
				}
			}
		}
	}
}

// clusterAdmin returns a client for a cluster with its admin credentials.
func clusterAdmin(t testing.TB, rg, cluster string) *kubernetes.Clientset {
	t.Helper()
	kc, err := sdk(t).ClusterCredentials(context.Background(), rg, cluster, true)
	if err != nil {
		t.Fatalf("credentials of %s: %v", cluster, err)
	}
	return kubeClient(t, kc)
}

// installed reports what mlfleet's components look like in a cluster.
type installed struct {
	namespace  bool
	replicas   int32
	marker     map[string]string
	tlsSecret  bool
	service    *corev1.Service
	deployment *appsv1.Deployment
}

func inspect(t *testing.T, k kubernetes.Interface) installed {
	t.Helper()
	ctx := context.Background()
	var in installed
	// A namespace being deleted counts as gone: detach does not wait for the namespace
	// controller's grace period.
	if ns, err := k.CoreV1().Namespaces().Get(ctx, "azureml", metav1.GetOptions{}); err == nil && ns.DeletionTimestamp == nil {
		in.namespace = true
	}
	if d, err := k.AppsV1().Deployments("azureml").Get(ctx, "azureml-fe", metav1.GetOptions{}); err == nil {
		in.deployment = d
		in.replicas = *d.Spec.Replicas
	}
	if cm, err := k.CoreV1().ConfigMaps("kube-system").Get(ctx, "azureml-attachment", metav1.GetOptions{}); err == nil {
		in.marker = cm.Data
	}
	if _, err := k.CoreV1().Secrets("azureml").Get(ctx, "azureml-fe-tls", metav1.GetOptions{}); err == nil {
		in.tlsSecret = true
	}
	if s, err := k.CoreV1().Services("azureml").Get(ctx, "azureml-fe", metav1.GetOptions{}); err == nil {
		in.service = s
	}
	return in
}

func inPrefix(t *testing.T, addr, prefix string) bool {
	t.Helper()
	a, err := netip.ParseAddr(addr)
	return err == nil && netip.MustParsePrefix(prefix).Contains(a)
}

// TestComputeCreateFromWorkspace: S1 with the server-side defaults, the in-cluster
// components (§3, S6, S14), idempotent PUT (B2), listKeys/listNodes, then delete with
// underlyingResourceAction=Delete removes the created cluster (S3).
func TestComputeCreateFromWorkspace(t *testing.T) {
	t.Parallel()
	rg, ws := "cc-rg", "cc-ws"
	newWorkspace(t, rg, ws)
	// The body azureml-core sends for provisioning_configuration() with no arguments.
	body := `{"location":"westus","properties":{"computeType":"AKS"}}`
	a := putCompute(t, rg, ws, "ccaks", body, "")
	must(t, a, http.StatusCreated)
	if st := props(a.body)["provisioningState"]; st != "Creating" {
		t.Fatalf("provisioningState %v, want Creating", st)
	}
	op, c := waitPut(t, a, rg, ws, "ccaks")
	if op["status"] != "Succeeded" {
		t.Fatalf("create ended %v: %v", op["status"], op["error"])
	}
	requireKeys(t, c)
	p, ap := props(c), aksProps(c)
	if p["provisioningState"] != "Succeeded" || p["isAttachedCompute"] != false {
		t.Fatalf("state %v attached %v", p["provisioningState"], p["isAttachedCompute"])
	}
	if ap["agentCount"] != 3.0 || ap["agentVmSize"] != "Standard_D3_v2" || ap["clusterPurpose"] != "FastProd" || ap["loadBalancerType"] != "PublicIp" {
		t.Fatalf("defaults not applied: %v", ap)
	}
	if ap["clusterFqdn"] == nil {
		t.Fatal("clusterFqdn not filled")
	}
	svcs := ap["systemServices"].([]any)
	if len(svcs) != 1 || !inPrefix(t, fmt.Sprint(svcs[0].(map[string]any)["publicIpAddress"]), "198.18.0.0/15") {
		t.Fatalf("systemServices %v: want the front-end's public address", svcs)
	}
	// The cluster is a managed cluster named after the compute, in the workspace's group,
	// with a basic load balancer and the location's default version.
	mc, err := sdk(t).GetManagedCluster(context.Background(), rg, "ccaks")
	if err != nil {
		t.Fatal(err)
	}
	if mc.Properties.NetworkProfile.LoadBalancerSku != "basic" || mc.Properties.CurrentKubernetesVersion != "1.37.2" || mc.Location != "westus" {
		t.Fatalf("cluster: lb %s version %s location %s", mc.Properties.NetworkProfile.LoadBalancerSku, mc.Properties.CurrentKubernetesVersion, mc.Location)
	}
	if p["resourceId"] != mc.ID {
		t.Fatalf("resourceId %v, want %s", p["resourceId"], mc.ID)
	}
	k := clusterAdmin(t, rg, "ccaks")
	in := inspect(t, k)
	if !in.namespace || in.replicas != 3 || in.deployment.Status.ReadyReplicas != 3 || in.service.Spec.Type != corev1.ServiceTypeLoadBalancer {
		t.Fatalf("components: %+v", in)
	}
	ks, err := k.CoreV1().Namespaces().Get(context.Background(), "kube-system", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if in.marker["clusterUID"] != string(ks.UID) && !strings.Contains(fmt.Sprint(in.marker), string(ks.UID)) {
		t.Fatalf("marker %v does not carry the kube-system uid %s", in.marker, ks.UID)
	}

	// B2: the same PUT again changes nothing, yet answers with an operation URL.
	rv := in.deployment.ResourceVersion
	again := putCompute(t, rg, ws, "ccaks", body, "")
	must(t, again, http.StatusOK)
	if op := waitOperation(t, again.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("identical PUT: %v", op)
	}
	if got := inspect(t, k); got.deployment.ResourceVersion != rv {
		t.Fatalf("identical PUT changed the deployment (%s → %s)", rv, got.deployment.ResourceVersion)
	}

	keys := do(t, call{method: "POST", path: computePath(rg, ws, "ccaks") + "/listKeys" + mlAPI})
	must(t, keys, 200)
	if !strings.Contains(fmt.Sprint(keys.body["adminKubeConfig"]), "apiVersion: v1") || keys.body["computeType"] != "AKS" {
		t.Fatalf("listKeys: %v", keys.raw)
	}
	nodes := do(t, call{method: "POST", path: computePath(rg, ws, "ccaks") + "/listNodes" + mlAPI})
	must(t, nodes, 200)
	if n, _ := nodes.body["nodes"].([]any); len(n) != 3 {
		t.Fatalf("listNodes: %v", nodes.raw)
	}
	if strings.Contains(do(t, call{method: "GET", path: computePath(rg, ws, "ccaks") + mlAPI}).raw, "BEGIN") {
		t.Fatal("GET returned secret material")
	}

	// S3: Delete removes the compute and the cluster it created.
	if op := deleteCompute(t, rg, ws, "ccaks", "Delete"); op["status"] != "Succeeded" {
		t.Fatalf("delete: %v", op)
	}
	must(t, do(t, call{method: "GET", path: computePath(rg, ws, "ccaks") + mlAPI}), 404)
	if _, err := sdk(t).GetManagedCluster(context.Background(), rg, "ccaks"); !mlfleet.IsNotFound(err) {
		t.Fatalf("cluster still there after Delete: %v", err)
	}
	// The name is free again.
	chk := do(t, call{method: "POST", path: wsPath(rg, ws) + "/checkComputeNameAvailability" + mlAPI, body: `{"name":"ccaks"}`})
	must(t, chk, 200)
	if chk.body["nameAvailable"] != true {
		t.Fatalf("name not released: %v", chk.raw)
	}
}

// TestComputeAttachDetach: S2, S3, S11, S12: attach reads the live cluster, detach removes
// exactly what mlfleet installed, re-attach works, Delete on an attached compute is refused,
// a second attach is a 409 naming the first, force takes the cluster over.
func TestComputeAttachDetach(t *testing.T) {
	t.Parallel()
	rg, ws := "ad-rg", "ad-ws"
	newWorkspace(t, rg, ws)
	if _, err := sdk(t).CreateWorkspace(context.Background(), rg, "ad-ws2", "eastus"); err != nil {
		t.Fatal(err)
	}
	mc := createCluster(t, sdk(t), rg, "adcluster", 4, "Standard_D3_v2", nil)
	k := clusterAdmin(t, rg, "adcluster")
	ctx := context.Background()
	foreign := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "team-app", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{Replicas: ptrInt32(1), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "team"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "team"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}}}
	if _, err := k.AppsV1().Deployments("default").Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	attach := fmt.Sprintf(`{"location":"westus","properties":{"computeType":"AKS","resourceId":%q,"properties":{"clusterPurpose":"DevTest"}}}`, mc.ID)
	a := putCompute(t, rg, ws, "adaks", attach, "")
	must(t, a, http.StatusCreated)
	op, c := waitPut(t, a, rg, ws, "adaks")
	if op["status"] != "Succeeded" {
		t.Fatalf("attach: %v", op)
	}
	requireKeys(t, c)
	if props(c)["isAttachedCompute"] != true || aksProps(c)["agentCount"] != 4.0 || aksProps(c)["agentVmSize"] != "Standard_D3_v2" {
		t.Fatalf("attach did not read the live cluster: %v", props(c))
	}
	if in := inspect(t, k); in.replicas != 1 || in.marker == nil {
		t.Fatalf("DevTest attach: %+v", in) // S6: one replica
	}

	// S11: the same cluster under another name, and from another workspace: 409 naming it.
	for _, target := range [][2]string{{ws, "adaks2"}, {"ad-ws2", "adaks3"}} {
		second := putCompute(t, rg, target[0], target[1], attach, "")
		must(t, second, http.StatusConflict)
		if second.errorCode() != "Conflict" || !strings.Contains(second.errorMessage(), "adaks") || !strings.Contains(second.errorMessage(), "--force") {
			t.Fatalf("second attach: %s", second.raw)
		}
	}
	// S3: Delete of an attached compute is refused: mlfleet did not create that cluster.
	refused := do(t, call{method: "DELETE", path: computePath(rg, ws, "adaks") + mlAPI + "&underlyingResourceAction=Delete"})
	must(t, refused, http.StatusBadRequest)
	if !strings.Contains(refused.errorMessage(), "Detach") {
		t.Fatalf("refused delete: %s", refused.raw)
	}

	// Detach (lowercase, as azureml-core sends it): the components go, the cluster and the
	// foreign workload stay.
	if op := deleteCompute(t, rg, ws, "adaks", "detach"); op["status"] != "Succeeded" {
		t.Fatalf("detach: %v", op)
	}
	in := inspect(t, k)
	if in.namespace || in.deployment != nil || in.marker != nil || in.service != nil {
		t.Fatalf("detach left components: %+v", in)
	}
	if _, err := k.AppsV1().Deployments("default").Get(ctx, "team-app", metav1.GetOptions{}); err != nil {
		t.Fatalf("detach removed a foreign deployment: %v", err)
	}
	// The attachment's cluster roles: the cluster's own (its user's right to read nodes)
	// carry mlfleet's managed-by label too, but no attachment.
	crs, _ := k.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{LabelSelector: kube.LabelManagedBy + "=mlfleet," + kube.LabelAttachment})
	if len(crs.Items) != 0 {
		t.Fatalf("detach left cluster roles: %d", len(crs.Items))
	}
	if _, err := sdk(t).GetManagedCluster(ctx, rg, "adcluster"); err != nil {
		t.Fatalf("detach deleted the cluster: %v", err)
	}

	// Re-attach works at once, then a forced attach from the other workspace takes over.
	a = putCompute(t, rg, ws, "adaks", attach, "")
	must(t, a, http.StatusCreated)
	if op, _ := waitPut(t, a, rg, ws, "adaks"); op["status"] != "Succeeded" {
		t.Fatalf("re-attach: %v", op)
	}
	forced := putCompute(t, rg, "ad-ws2", "adaks4", attach, "&force=true")
	must(t, forced, http.StatusCreated)
	if op, _ := waitPut(t, forced, rg, "ad-ws2", "adaks4"); op["status"] != "Succeeded" {
		t.Fatalf("forced attach: %v", op)
	}
	must(t, do(t, call{method: "GET", path: computePath(rg, ws, "adaks") + mlAPI}), 404)
	// That compute went without a request of its own: the activity log records its delete,
	// under the forced attach's correlation id.
	events, err := sdk(t).ListActivityLog(ctx, mlfleet.ActivityLogFilter{ResourceID: computePath(rg, ws, "adaks")})
	if err != nil {
		t.Fatal(err)
	}
	attachCorrelation := forced.header.Get("x-ms-correlation-request-id")
	if !slices.ContainsFunc(events, func(e *mlfleet.EventData) bool {
		return e.OperationName.Value == "Microsoft.MachineLearningServices/workspaces/computes/delete" && e.Status.Value == "Succeeded" &&
			e.CorrelationID == attachCorrelation
	}) {
		t.Errorf("no activity event for the compute the forced attach removed (correlation %s): %+v", attachCorrelation, events)
	}
	in = inspect(t, k)
	if !strings.Contains(fmt.Sprint(in.marker), "adaks4") {
		t.Fatalf("marker after forced attach: %v", in.marker)
	}
	deps, _ := k.AppsV1().Deployments("azureml").List(ctx, metav1.ListOptions{})
	if len(deps.Items) != 1 {
		t.Fatalf("%d deployments in azureml after forced attach, want 1", len(deps.Items))
	}

	// Deleting the workspace detaches its computes and keeps the cluster.
	p, err := sdk(t).BeginDeleteWorkspace(ctx, rg, "ad-ws2")
	finish(ctx, t, "delete workspace", p, err)
	if in := inspect(t, k); in.namespace || in.marker != nil {
		t.Fatalf("workspace delete left components: %+v", in)
	}
	if _, err := sdk(t).GetManagedCluster(ctx, rg, "adcluster"); err != nil {
		t.Fatalf("workspace delete deleted the cluster: %v", err)
	}
}

func ptrInt32(v int32) *int32 { return &v }

// TestConcurrentAttach: two attaches of one cluster at the same time: exactly one wins (S11).
func TestConcurrentAttach(t *testing.T) {
	t.Parallel()
	rg := "ca-rg"
	newWorkspace(t, rg, "ca-ws1")
	if _, err := sdk(t).CreateWorkspace(context.Background(), rg, "ca-ws2", "westus"); err != nil {
		t.Fatal(err)
	}
	mc := createCluster(t, sdk(t), rg, "cacluster", 3, "Standard_D3_v2", nil)
	body := fmt.Sprintf(`{"location":"westus","properties":{"computeType":"AKS","resourceId":%q}}`, mc.ID)
	answers := putComputesAtOnce(t, body, [3]string{rg, "ca-ws1", "caaks1"}, [3]string{rg, "ca-ws2", "caaks2"})
	won, lost := -1, -1
	for i, a := range answers {
		switch a.status {
		case 201:
			won = i
		case 409:
			lost = i
		default:
			t.Fatalf("attach %d: %d %s", i, a.status, a.raw)
		}
	}
	if won < 0 || lost < 0 {
		t.Fatalf("want one 201 and one 409, got %d and %d", answers[0].status, answers[1].status)
	}
	if !strings.Contains(answers[lost].errorMessage(), fmt.Sprintf("caaks%d", won+1)) {
		t.Fatalf("409 does not name the winner: %s", answers[lost].raw)
	}
	if op, _ := waitPut(t, answers[won], rg, fmt.Sprintf("ca-ws%d", won+1), fmt.Sprintf("caaks%d", won+1)); op["status"] != "Succeeded" {
		t.Fatalf("winner: %v", op)
	}
	must(t, do(t, call{method: "GET", path: computePath(rg, fmt.Sprintf("ca-ws%d", lost+1), fmt.Sprintf("caaks%d", lost+1)) + mlAPI}), 404)
}

// TestConcurrentCreateSameName: one compute name, two workspaces of one region, at the same
// time: exactly one wins (S4, enforced by the store).
func TestConcurrentCreateSameName(t *testing.T) {
	t.Parallel()
	rg := "cn-rg"
	newWorkspace(t, rg, "cn-ws1")
	if _, err := sdk(t).CreateResourceGroup(context.Background(), "cn-rg2", "westus", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk(t).CreateWorkspace(context.Background(), "cn-rg2", "cn-ws2", "westus"); err != nil {
		t.Fatal(err)
	}
	body := `{"location":"westus","properties":{"computeType":"AKS","properties":{"clusterPurpose":"DevTest","agentCount":1}}}`
	targets := [][3]string{{rg, "cn-ws1", "samename"}, {"cn-rg2", "cn-ws2", "samename"}}
	answers := putComputesAtOnce(t, body, targets...)
	if answers[0].status+answers[1].status != 201+409 {
		t.Fatalf("want one 201 and one 409: %d %s / %d %s", answers[0].status, answers[0].raw, answers[1].status, answers[1].raw)
	}
	for i, a := range answers {
		if a.status == 409 && !strings.Contains(a.errorMessage(), "unique per region") {
			t.Fatalf("409 message: %s", a.raw)
		}
		if a.status == 201 {
			if op, _ := waitPut(t, a, targets[i][0], targets[i][1], "samename"); op["status"] != "Succeeded" {
				t.Fatalf("winner: %v", op)
			}
			deleteCompute(t, targets[i][0], targets[i][1], "samename", "Delete")
		}
	}
	// Another region may use the name.
	if _, err := sdk(t).CreateWorkspace(context.Background(), rg, "cn-ws3", "eastus"); err != nil {
		t.Fatal(err)
	}
	a := putCompute(t, rg, "cn-ws3", "samename", strings.Replace(body, "westus", "eastus", 1), "&validateOnly=true")
	must(t, a, 200)
}

// TestComputeValidation: every rule of a create or attach with its exact outcome, never a
// 500, and a dry run that changes nothing (S4, S5, S13, S14, S26, B1).
func TestComputeValidation(t *testing.T) {
	t.Parallel()
	rg, ws := "cv-rg", "cv-ws"
	newWorkspace(t, rg, ws)
	mc := createCluster(t, sdk(t), rg, "cvsmall", 1, "Standard_D3_v2", nil)
	cases := []struct {
		name, compute, body string
		status              int
		code                string
		details             int
		contains            []string
	}{
		{"short name", "ab", `{"properties":{"computeType":"AKS"}}`, 400, "InvalidResourceName", 0, []string{"3 to 24"}},
		{"digit first", "1aks", `{"properties":{"computeType":"AKS"}}`, 400, "InvalidResourceName", 0, []string{"starting with a letter"}},
		{"reserved", "local", `{"properties":{"computeType":"AKS"}}`, 400, "InvalidResourceName", 0, []string{"reserved"}},
		{"too long", "a234567890123456789012345", `{"properties":{"computeType":"AKS"}}`, 400, "InvalidResourceName", 0, nil},
		{"no compute type", "cvaks", `{"properties":{}}`, 400, "UserError", 0, []string{"computeType"}},
		{"other compute type", "cvaks", `{"properties":{"computeType":"AmlCompute"}}`, 400, "UserError", 0, []string{"AKS"}},
		{"bad json type", "cvaks", `{"properties":{"computeType":"AKS","properties":{"agentCount":"three"}}}`, 400, "InvalidRequestContent", 0, nil},
		{"agent count zero", "cvaks", `{"properties":{"computeType":"AKS","properties":{"agentCount":0}}}`, 400, "UserError", 1, []string{"positive integer"}},
		{"unknown size", "cvaks", `{"properties":{"computeType":"AKS","properties":{"agentVmSize":"Standard_Z99"}}}`, 400, "UserError", 1, []string{"Standard_D3_v2"}},
		{"fastprod too small", "cvaks", `{"properties":{"computeType":"AKS","properties":{"agentCount":2}}}`, 400, "UserError", 2, []string{"12 vCPUs", "3 nodes"}},
		{"denseprod too small", "cvaks", `{"properties":{"computeType":"AKS","properties":{"agentCount":2,"clusterPurpose":"DenseProd"}}}`, 400, "UserError", 1, []string{"12 vCPUs"}},
		{"bad purpose", "cvaks", `{"properties":{"computeType":"AKS","properties":{"clusterPurpose":"Prod"}}}`, 400, "UserError", 1, []string{"FastProd, DenseProd or DevTest"}},
		{"ssl without key", "cvaks", `{"properties":{"computeType":"AKS","properties":{"sslConfiguration":{"status":"Enabled","cert":"x","cname":"a.b"}}}}`, 400, "UserError", 1, []string{"cname, cert and key together", "key"}},
		{"ssl leaf and cert", "cvaks", `{"properties":{"computeType":"AKS","properties":{"sslConfiguration":{"status":"Auto","leafDomainLabel":"x","cert":"y"}}}}`, 400, "UserError", 1, []string{"leafDomainLabel only"}},
		{"ssl auto no leaf", "cvaks", `{"properties":{"computeType":"AKS","properties":{"sslConfiguration":{"status":"Auto"}}}}`, 400, "UserError", 1, []string{"needs a leafDomainLabel"}},
		{"ssl overwrite without leaf", "cvaks", `{"properties":{"computeType":"AKS","properties":{"sslConfiguration":{"status":"Enabled","overwriteExistingDomain":true,"cert":"a","key":"b","cname":"c"}}}}`, 400, "UserError", 2, []string{"belong to status Auto"}},
		{"bad lb type", "cvaks", `{"properties":{"computeType":"AKS","properties":{"loadBalancerType":"Public"}}}`, 400, "UserError", 1, []string{"PublicIp or InternalLoadBalancer"}},
		{"subnet with public lb", "cvaks", `{"properties":{"computeType":"AKS","properties":{"loadBalancerSubnet":"s1"}}}`, 400, "UserError", 1, []string{"only be given with load balancer type InternalLoadBalancer"}},
		{"vnet incomplete", "cvaks", `{"properties":{"computeType":"AKS","properties":{"aksNetworkingConfiguration":{"serviceCidr":"10.0.0.0/16"}}}}`, 400, "UserError", 1, []string{"subnetId, dnsServiceIP, dockerBridgeCidr"}},
		{"vnet all wrong together", "cvaks", `{"properties":{"computeType":"AKS","properties":{"aksNetworkingConfiguration":{"subnetId":"/subscriptions/x/resourceGroups/v/providers/Microsoft.Network/virtualNetworks/vn/subnets/s","serviceCidr":"10.0.0.0/16","dnsServiceIP":"10.0.0.0","dockerBridgeCidr":"10.0.128.0/17"}}}}`, 400, "UserError", 2, []string{"overlaps", "first address"}},
		{"vnet dns outside", "cvaks", `{"properties":{"computeType":"AKS","properties":{"aksNetworkingConfiguration":{"subnetId":"/subscriptions/x/resourceGroups/v/providers/Microsoft.Network/virtualNetworks/vn/subnets/s","serviceCidr":"10.0.0.0/16","dnsServiceIP":"10.1.0.10","dockerBridgeCidr":"172.17.0.1/16x"}}}}`, 400, "UserError", 2, []string{"outside the service CIDR", "not a valid IPv4 CIDR"}},
		{"bad resource id", "cvaks", `{"properties":{"computeType":"AKS","resourceId":"/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/virtualMachines/z"}}`, 400, "UserError", 1, []string{"not the id of a managed cluster"}},
		{"other subscription", "cvaks", `{"properties":{"computeType":"AKS","resourceId":"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/y/providers/Microsoft.ContainerService/managedClusters/z"}}`, 400, "UserError", 1, []string{"own subscription"}},
		{"missing cluster", "cvaks", fmt.Sprintf(`{"properties":{"computeType":"AKS","resourceId":"/subscriptions/%s/resourceGroups/%s/providers/Microsoft.ContainerService/managedClusters/nope"}}`, sub(), rg), 400, "UserError", 1, []string{"does not exist"}},
		{"attach too small", "cvaks", fmt.Sprintf(`{"properties":{"computeType":"AKS","resourceId":%q}}`, mc.ID), 400, "UserError", 2, []string{"12 vCPUs; cluster 'cvsmall' has 4 (1 node)", "at least 3 nodes"}},
		{"attach too small and bad ssl", "cvaks", fmt.Sprintf(`{"properties":{"computeType":"AKS","resourceId":%q,"properties":{"clusterPurpose":"DenseProd","sslConfiguration":{"status":"Enabled"}}}}`, mc.ID), 400, "UserError", 2, []string{"12 vCPUs", "cname, cert and key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := putCompute(t, rg, ws, tc.compute, tc.body, "")
			if a.status != tc.status || a.errorCode() != tc.code {
				t.Fatalf("got %d %s, want %d %s: %s", a.status, a.errorCode(), tc.status, tc.code, a.raw)
			}
			if tc.details > 0 {
				d, _ := a.body["error"].(map[string]any)["details"].([]any)
				if len(d) != tc.details {
					t.Fatalf("%d details, want %d: %s", len(d), tc.details, a.raw)
				}
			}
			if tc.details > 0 && !strings.Contains(a.raw, `"type":"ComputeChecks"`) {
				t.Errorf("error lacks the list of checks in additionalInfo: %s", a.raw)
			}
			for _, s := range tc.contains {
				if !strings.Contains(a.raw, s) {
					t.Errorf("error lacks %q: %s", s, a.raw)
				}
			}
		})
	}
	// A dry run of a valid attach lists its checks and changes nothing; DevTest on a 1-node
	// cluster is allowed.
	dry := putCompute(t, rg, ws, "cvaks", fmt.Sprintf(`{"properties":{"computeType":"AKS","resourceId":%q,"properties":{"clusterPurpose":"DevTest"}}}`, mc.ID), "&validateOnly=true")
	must(t, dry, 200)
	if dry.body["valid"] != true || len(dry.body["checks"].([]any)) < 6 {
		t.Fatalf("dry run: %s", dry.raw)
	}
	must(t, do(t, call{method: "GET", path: computePath(rg, ws, "cvaks") + mlAPI}), 404)
	if h, _ := sdk(t).ClusterCredentials(context.Background(), rg, "cvsmall", true); h != nil {
		if in := inspect(t, kubeClient(t, h)); in.namespace || in.marker != nil {
			t.Fatalf("dry run installed something: %+v", in)
		}
	}
	// Name check endpoint (S4).
	for name, want := range map[string]string{"ok-name": "true", "1bad": "Invalid", "amlcompute": "Invalid"} {
		a := do(t, call{method: "POST", path: wsPath(rg, ws) + "/checkComputeNameAvailability" + mlAPI, body: fmt.Sprintf(`{"name":%q}`, name)})
		must(t, a, 200)
		if fmt.Sprint(a.body["nameAvailable"]) != want && a.body["reason"] != want {
			t.Errorf("check %s: %s", name, a.raw)
		}
	}
	// Detach needs a valid action; a missing compute answers 204.
	bad := do(t, call{method: "DELETE", path: computePath(rg, ws, "cvaks") + mlAPI})
	must(t, bad, 400)
	must(t, do(t, call{method: "DELETE", path: computePath(rg, ws, "cvaks") + mlAPI + "&underlyingResourceAction=Detach"}), 204)
	must(t, do(t, call{method: "DELETE", path: computePath(rg, ws, "cvaks") + mlAPI + "&underlyingResourceAction=Destroy"}), 400)
}

var _ = apierrors.IsNotFound
var _ = json.Marshal
var _ = time.Second
