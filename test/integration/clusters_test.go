package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

const csAPI = "?api-version=2025-02-01"

func clusterPath(rg, name string) string {
	return rgPath(rg) + "/providers/Microsoft.ContainerService/managedClusters/" + name
}

// createGroup creates resource group rg in location through c; t fails when it cannot.
func createGroup(t testing.TB, c *mlfleet.Client, rg, location string) {
	t.Helper()
	if _, err := c.CreateResourceGroup(context.Background(), rg, location, nil); err != nil {
		t.Fatalf("create resource group %s: %v", rg, err)
	}
}

// finish waits for the operation a Begin call started (its poller p and error err); t fails,
// naming it what, unless both the call and the operation succeed. A nil poller is an
// operation the server ended at once.
func finish(ctx context.Context, t testing.TB, what string, p *mlfleet.Poller, err error) {
	t.Helper()
	if err == nil && p != nil {
		_, err = p.Wait(ctx, nil)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// createCluster creates an embedded cluster through the SDK and waits for it.
func createCluster(t *testing.T, c *mlfleet.Client, rg, name string, count int, size string, mutate func(*mlfleet.ClusterInput)) *mlfleet.ManagedCluster {
	t.Helper()
	ctx := context.Background()
	in := &mlfleet.ClusterInput{}
	in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: "nodepool1", Count: &count, VMSize: size}}
	if mutate != nil {
		mutate(in)
	}
	start := time.Now()
	_, p, err := c.BeginCreateManagedCluster(ctx, rg, name, in)
	if err != nil {
		t.Fatalf("create cluster %s: %v", name, err)
	}
	if p == nil {
		t.Fatal("create answered without Azure-AsyncOperation")
	}
	if _, err := p.Wait(ctx, nil); err != nil {
		t.Fatalf("create cluster %s: %v", name, err)
	}
	t.Logf("cluster %s created in %v", name, time.Since(start).Round(time.Millisecond))
	mc, err := c.GetManagedCluster(ctx, rg, name)
	if err != nil {
		t.Fatal(err)
	}
	return mc
}

func kubeClient(t testing.TB, kubeconfig []byte) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 10 * time.Second
	return kubernetes.NewForConfigOrDie(cfg)
}

// runningPods counts the pods of the default namespace that selector selects: those Running
// on a node, and all.
func runningPods(ctx context.Context, k kubernetes.Interface, selector string) (running, total int, err error) {
	pods, err := k.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return 0, 0, err
	}
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.Spec.NodeName != "" {
			running++
		}
	}
	return running, len(pods.Items), nil
}

// podCount is a condition for testutil.Eventually: want pods that selector selects are Running.
func podCount(ctx context.Context, k kubernetes.Interface, selector string, want int) func() error {
	return func() error {
		running, total, err := runningPods(ctx, k, selector)
		if err != nil {
			return err
		}
		if running != want {
			return fmt.Errorf("%d of %d pods running", running, total)
		}
		return nil
	}
}

func readyNodes(ctx context.Context, k kubernetes.Interface) ([]corev1.Node, error) {
	list, err := k.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []corev1.Node
	for _, n := range list.Items {
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

func nodeCount(ctx context.Context, k kubernetes.Interface, want int) func() error {
	return func() error {
		nodes, err := readyNodes(ctx, k)
		if err != nil {
			return err
		}
		if len(nodes) != want {
			return fmt.Errorf("%d ready nodes, want %d", len(nodes), want)
		}
		return nil
	}
}

// TestManagedClusterLifecycle creates an embedded cluster and checks it the way kubectl
// would: version, nodes and their capacity, RBAC of the user credentials, pods that run, a
// load balancer address, scaling both ways, and a delete that removes its data (S7, S8,
// S18, S20, A4, B3).
func TestManagedClusterLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := sdk(t)
	createGroup(t, c, "aks-life-rg", "westus")
	mc := createCluster(t, c, "aks-life-rg", "life", 3, "Standard_D3_v2", nil)
	p := mc.Properties
	if p.ProvisioningState != "Succeeded" || p.CurrentKubernetesVersion == "" || p.PowerState.Code != "Running" || p.Mlfleet.Provider != "embedded" {
		t.Fatalf("cluster after create: %+v", p)
	}

	k := clusterAdmin(t, "aks-life-rg", "life")
	v, err := k.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != "v"+p.CurrentKubernetesVersion || strings.HasPrefix(v.GitVersion, "v0.") || v.Major != "1" {
		t.Fatalf("GET /version says %s (major %s), the resource says %s", v.GitVersion, v.Major, p.CurrentKubernetesVersion)
	}
	testutil.Eventually(t, 30*time.Second, "3 ready nodes", nodeCount(ctx, k, 3))
	nodes, _ := readyNodes(ctx, k)
	for _, n := range nodes {
		cpu, mem := n.Status.Capacity[corev1.ResourceCPU], n.Status.Capacity[corev1.ResourceMemory]
		if cpu.Value() != 4 || mem.Value() != 14336<<20 || n.Labels["node.kubernetes.io/instance-type"] != "Standard_D3_v2" {
			t.Errorf("node %s: cpu %s memory %s labels %v", n.Name, cpu.String(), mem.String(), n.Labels)
		}
	}

	// The user credentials are a real identity without admin rights.
	user, err := c.ClusterCredentials(ctx, "aks-life-rg", "life", false)
	if err != nil {
		t.Fatal(err)
	}
	u := kubeClient(t, user)
	if _, err := u.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("user cannot list pods: %v", err)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "escalate"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "clusterUser", APIGroup: "rbac.authorization.k8s.io"}}}
	if _, err := u.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("user creating a ClusterRoleBinding: %v, want Forbidden", err)
	}
	if _, err := k.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Errorf("admin creating a ClusterRoleBinding: %v", err)
	}

	// A Deployment's pods get scheduled on the simulated nodes and run.
	replicas := int32(3)
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "nginx", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m")}}}}}}}}
	if _, err := k.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 60*time.Second, "3 running pods", podCount(ctx, k, "app=web", 3))

	// A LoadBalancer Service gets an address.
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer,
		Selector: labels, Ports: []corev1.ServicePort{{Port: 80}}}}
	if _, err := k.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "load balancer address", func() error {
		s, err := k.CoreV1().Services("default").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(s.Status.LoadBalancer.Ingress) == 0 || s.Status.LoadBalancer.Ingress[0].IP == "" {
			return fmt.Errorf("no ingress yet")
		}
		return nil
	})

	// Scale up and down from the cluster side; the VM size cannot change.
	for _, n := range []int{5, 2} {
		_, poller, err := c.BeginScaleAgentPool(ctx, "aks-life-rg", "life", "nodepool1", n)
		finish(ctx, t, fmt.Sprintf("scale to %d", n), poller, err)
		testutil.Eventually(t, 30*time.Second, fmt.Sprintf("%d nodes", n), nodeCount(ctx, k, n))
		mc, _ := c.GetManagedCluster(ctx, "aks-life-rg", "life")
		if mc.Properties.AgentPoolProfiles[0].Count != n || mc.Properties.ProvisioningState != "Succeeded" {
			t.Fatalf("after scale to %d: %+v", n, mc.Properties.AgentPoolProfiles)
		}
	}
	a := do(t, call{method: "PUT", path: clusterPath("aks-life-rg", "life") + "/agentPools/nodepool1" + csAPI, body: `{"properties":{"count":2,"vmSize":"Standard_D4_v2"}}`})
	if a.status != 400 || !strings.Contains(a.errorMessage(), "cannot be changed") {
		t.Fatalf("VM size change: %d %s", a.status, a.raw)
	}

	// Delete removes the cluster, its API server and its data.
	dataDir := filepath.Join(shared.home, "clusters", p.Mlfleet.ClusterID)
	if _, err := os.Stat(dataDir); err != nil {
		t.Fatalf("cluster data dir: %v", err)
	}
	poller, err := c.BeginDeleteManagedCluster(ctx, "aks-life-rg", "life")
	finish(ctx, t, "delete managed cluster", poller, err)
	if _, err := c.GetManagedCluster(ctx, "aks-life-rg", "life"); !mlfleet.IsNotFound(err) {
		t.Fatalf("cluster still there: %v", err)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatalf("data dir still there: %v", err)
	}
	if _, err := k.Discovery().ServerVersion(); err == nil {
		t.Fatal("the API server still answers after delete")
	}
}

// TestClusterValidation checks refusals that need no cluster (S7, S8, S15, S17).
func TestClusterValidation(t *testing.T) {
	t.Parallel()
	must(t, do(t, call{method: "PUT", path: rgPath("aks-val-rg") + rgAPI, body: `{"location":"westus"}`}), http.StatusCreated)
	cases := []struct {
		name, cluster, body string
		status              int
		code, inMessage     string
	}{
		{"bad name", "bad.name", `{"location":"westus"}`, 400, "InvalidResourceName", "1 to 63"},
		{"unknown version", "c1", `{"location":"westus","properties":{"kubernetesVersion":"1.19.0"}}`, 400, "UnsupportedKubernetesVersion", "Supported versions: 1.35.4"},
		{"supported but not runnable", "c1", `{"location":"westus","properties":{"kubernetesVersion":"1.36.3"}}`, 400, "UnsupportedKubernetesVersion", "runs only"},
		{"unknown VM size", "c1", `{"location":"westus","properties":{"agentPoolProfiles":[{"name":"np","count":1,"vmSize":"Standard_Z9"}]}}`, 400, "InvalidParameter", "Standard_D3_v2"},
		{"zero nodes", "c1", `{"location":"westus","properties":{"agentPoolProfiles":[{"name":"np","count":0}]}}`, 400, "InvalidParameter", "1 to 100"},
		{"bad pool name", "c1", `{"location":"westus","properties":{"agentPoolProfiles":[{"name":"Pool_1","count":1}]}}`, 400, "InvalidParameter", "lowercase"},
		{"ranges with a basic load balancer", "c1", `{"location":"westus","properties":{"networkProfile":{"loadBalancerSku":"basic"},"apiServerAccessProfile":{"authorizedIPRanges":["10.0.0.0/8"]}}}`, 400, "InvalidParameter", "standard load balancer"},
		{"bad range", "c1", `{"location":"westus","properties":{"apiServerAccessProfile":{"authorizedIPRanges":["10.0.0.0/99"]}}}`, 400, "InvalidParameter", "not an IP address or CIDR"},
		{"private with ranges", "c1", `{"location":"westus","properties":{"apiServerAccessProfile":{"enablePrivateCluster":true,"authorizedIPRanges":["10.0.0.0/8"]}}}`, 400, "InvalidParameter", "private cluster"},
		{"dns IP outside the service CIDR", "c1", `{"location":"westus","properties":{"networkProfile":{"serviceCidr":"10.0.0.0/16","dnsServiceIP":"10.1.0.10"}}}`, 400, "InvalidParameter", "inside the service CIDR"},
		{"bad outbound type", "c1", `{"location":"westus","properties":{"networkProfile":{"outboundType":"nat"}}}`, 400, "InvalidParameter", "userDefinedRouting"},
		{"several problems together", "c1", `{"location":"westus","properties":{"kubernetesVersion":"1.19.0","agentPoolProfiles":[{"name":"np","count":0,"vmSize":"nope"}]}}`, 400, "InvalidParameter", "3 checks failed"},
		{"unknown provider", "c1", `{"location":"westus","properties":{"mlfleet":{"provider":"gke"}}}`, 400, "InvalidParameter", "embedded, external"},
		{"import without kubeconfig", "c1", `{"location":"westus","properties":{"mlfleet":{"provider":"external"}}}`, 400, "InvalidParameter", "kubeconfig"},
		{"wrong type", "c1", `{"location":"westus","properties":{"agentPoolProfiles":[{"count":"three"}]}}`, 400, "InvalidRequestContent", "count"},
		{"credentials of a missing cluster", "", "", 404, "ResourceNotFound", "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var a answer
			if tc.cluster == "" {
				a = do(t, call{method: "POST", path: clusterPath("aks-val-rg", "nope") + "/listClusterUserCredential" + csAPI})
			} else {
				a = do(t, call{method: "PUT", path: clusterPath("aks-val-rg", tc.cluster) + csAPI, body: tc.body})
			}
			if a.status != tc.status || a.errorCode() != tc.code || !strings.Contains(a.errorMessage(), tc.inMessage) {
				t.Fatalf("got %d %s %q; want %d %s containing %q", a.status, a.errorCode(), a.errorMessage(), tc.status, tc.code, tc.inMessage)
			}
		})
	}
	a := do(t, call{method: "GET", path: clusterPath("aks-val-rg", "c1") + csAPI})
	if a.status != 404 {
		t.Fatalf("a refused create left a resource: %d %s", a.status, a.raw)
	}
}

// TestVersionsEndpoints serves the catalog in both shapes and the seed's CLI commands (S7, S22).
func TestVersionsEndpoints(t *testing.T) {
	t.Parallel()
	a := do(t, call{method: "GET", path: "/subscriptions/" + sub() + "/providers/Microsoft.ContainerService/locations/westus/orchestrators?api-version=2019-08-01&resource-type=managedClusters"})
	must(t, a, 200)
	orch := a.body["properties"].(map[string]any)["orchestrators"].([]any)
	first := orch[0].(map[string]any)
	if first["orchestratorVersion"] != "1.38.0" || first["isPreview"] != true || first["orchestratorType"] != "Kubernetes" {
		t.Errorf("newest first with a preview mark: %v", first)
	}
	a = do(t, call{method: "GET", path: "/subscriptions/" + sub() + "/providers/Microsoft.ContainerService/locations/westus/kubernetesVersions" + csAPI})
	must(t, a, 200)
	if !strings.Contains(a.raw, `"1.37.2":{"upgrades":[]}`) || !strings.Contains(a.raw, `"isDefault":true`) {
		t.Errorf("kubernetesVersions: %s", a.raw)
	}
	a = do(t, call{method: "GET", path: "/subscriptions/" + sub() + "/providers/Microsoft.ContainerService/locations/moon/orchestrators" + csAPI})
	if a.status != 400 || !strings.Contains(a.raw, `"code":"NoRegisteredProviderFound"`) {
		t.Errorf("unknown location: %d %s, want 400 NoRegisteredProviderFound", a.status, a.raw)
	}
	// The CLI prints ARM's error, which names the locations to use, as az does.
	if r := mlfleetCLI(t, "aks", "get-versions", "-l", "nowhere", "-o", "table"); r.code == 0 || r.out != "" ||
		!strings.Contains(r.err, "(NoRegisteredProviderFound) No registered resource provider found for location 'nowhere'") || !strings.Contains(r.err, "The supported locations are 'australiacentral, ") {
		t.Errorf("aks get-versions -l nowhere: exit %d\nstdout: %s\nstderr: %s\nwant an error naming the supported locations", r.code, r.out, r.err)
	}

	out := mustCLI(t, "aks", "get-versions", "-l", "westus", "-o", "table")
	// No upgrades: mlfleet does not run them (QA12 F5).
	want := "KubernetesVersion    Upgrades\n" +
		"-------------------  --------------\n" +
		"1.38.0(preview)      None available\n" +
		"1.37.2               None available\n" +
		"1.36.3               None available\n" +
		"1.35.4               None available\n"
	if out != want {
		t.Errorf("get-versions table:\n%s\nwant:\n%s", out, want)
	}
	out = mustCLI(t, "aks", "get-versions", "-l", "westus", "--query", "orchestrators[?default == `true`].orchestratorVersion", "-o", "table")
	if out != "Result\n--------\n1.37.2\n" {
		t.Errorf("default version query:\n%q", out)
	}
}

// TestPublicIPPolicy: a policy that forbids public IPs refuses outbound type loadBalancer
// with RequestDisallowedByPolicy, and userDefinedRouting still works (S16). Not parallel:
// the policy applies to the whole subscription while it exists.
func TestPublicIPPolicy(t *testing.T) {
	mustCLI(t, "group", "create", "-n", "policy-rg", "-l", "westus")
	r := mlfleetCLI(t, "policy", "assignment", "create", "-n", "no-public-ip", "--policy", "not-allowed-resource-types",
		"--params", `{"listOfResourceTypesNotAllowed":{"value":["Microsoft.Network/publicIPAddresses"]}}`)
	if r.code != 0 {
		t.Fatalf("policy create: %+v", r)
	}
	defer mustCLI(t, "policy", "assignment", "delete", "-n", "no-public-ip")
	r = mlfleetCLI(t, "aks", "create", "-n", "pubip", "-g", "policy-rg", "--node-count", "1", "--no-wait")
	if r.code != 1 || !strings.Contains(r.err, "ERROR: (RequestDisallowedByPolicy)") || !strings.Contains(r.err, "userDefinedRouting") {
		t.Fatalf("create with a public IP under the policy: %+v", r)
	}
	a := do(t, call{method: "PUT", path: clusterPath("policy-rg", "pubip") + csAPI, body: `{"location":"westus"}`})
	if a.status != 403 || a.errorCode() != "RequestDisallowedByPolicy" {
		t.Fatalf("raw PUT: %d %s", a.status, a.raw)
	}
	out := mustCLI(t, "aks", "create", "-n", "udr", "-g", "policy-rg", "--node-count", "1", "--node-vm-size", "Standard_D2_v2",
		"--outbound-type", "userDefinedRouting", "--query", "[provisioningState, networkProfile.outboundType]", "-o", "tsv")
	if out != "Succeeded\nuserDefinedRouting\n" {
		t.Fatalf("userDefinedRouting under the policy: %q", out)
	}
	mustCLI(t, "aks", "delete", "-n", "udr", "-g", "policy-rg", "--yes")
}

// TestAuthorizedIPRanges: the API server's listener refuses addresses outside the ranges,
// and an update lets them in (S15).
func TestAuthorizedIPRanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := sdk(t)
	createGroup(t, c, "aks-ranges-rg", "westus")
	createCluster(t, c, "aks-ranges-rg", "ranges", 1, "Standard_D2_v2", func(in *mlfleet.ClusterInput) {
		in.Properties.APIServerAccessProfile = &mlfleet.APIServerAccessProfile{AuthorizedIPRanges: []string{"203.0.113.0/24"}}
	})
	k := clusterAdmin(t, "aks-ranges-rg", "ranges")
	if _, err := k.Discovery().ServerVersion(); err == nil {
		t.Fatal("a client on 127.0.0.1 reached an API server that allows only 203.0.113.0/24")
	}
	r := mlfleetCLI(t, "aks", "update", "-n", "ranges", "-g", "aks-ranges-rg", "--api-server-authorized-ip-ranges", "203.0.113.0/24,127.0.0.1/32",
		"--query", "apiServerAccessProfile.authorizedIpRanges", "-o", "tsv")
	if r.code != 0 || !strings.Contains(r.out, "127.0.0.1/32") {
		t.Fatalf("update ranges: %+v", r)
	}
	testutil.Eventually(t, 10*time.Second, "API server reachable after the update", func() error {
		_, err := k.Discovery().ServerVersion()
		return err
	})
	if p, err := c.BeginDeleteManagedCluster(ctx, "aks-ranges-rg", "ranges"); err == nil {
		_, _ = p.Wait(ctx, nil)
	}
}

// TestExternalCluster registers a cluster reached only by its kubeconfig (another embedded
// cluster here) and reads its facts from the live cluster; delete only forgets it (S25).
func TestExternalCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := sdk(t)
	createGroup(t, c, "aks-ext-rg", "eastus")
	// The source autoscales, so that its autoscaler writes kube-system/cluster-autoscaler-status.
	createCluster(t, c, "aks-ext-rg", "source", 2, "Standard_NC6", func(in *mlfleet.ClusterInput) {
		on, lo, hi := true, 2, 4
		ap := &in.Properties.AgentPoolProfiles[0]
		ap.EnableAutoScaling, ap.MinCount, ap.MaxCount = &on, &lo, &hi
		in.Properties.AutoScalerProfile = mlfleet.AutoScalerProfile{"scan-interval": "1s"}
	})
	admin, err := c.ClusterCredentials(ctx, "aks-ext-rg", "source", true)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "the source's autoscaler status", func() error {
		_, err := kubeClient(t, admin).CoreV1().ConfigMaps("kube-system").Get(ctx, "cluster-autoscaler-status", metav1.GetOptions{})
		return err
	})
	// The kubeconfig names its certificates by relative paths, as kind's and minikube's
	// do: aks import reads them into what it sends.
	file := kubeconfigWithFiles(t, admin)
	// A kubeconfig that would run a program on the server is refused before anything runs.
	marker := filepath.Join(t.TempDir(), "ran")
	sneaky := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(sneaky, fmt.Appendf(nil, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: touch, args: [%q], interactiveMode: Never}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`, marker), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := mlfleetCLI(t, "aks", "import", "-n", "sneaky", "-g", "aks-ext-rg", "--kubeconfig", sneaky); r.code == 0 || !strings.Contains(r.err, "--allow-kubeconfig-exec") {
		t.Errorf("aks import of a kubeconfig with an exec plugin: %+v", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the server ran the exec plugin of a kubeconfig a user sent")
	}
	out := mustCLI(t, "aks", "import", "-n", "registered", "-g", "aks-ext-rg", "--kubeconfig", file,
		"--query", "[provisioningState, mlfleet.provider, currentKubernetesVersion, agentPoolProfiles[0].count, agentPoolProfiles[0].vmSize]", "-o", "tsv")
	src, _ := c.GetManagedCluster(ctx, "aks-ext-rg", "source")
	want := fmt.Sprintf("Succeeded\nexternal\n%s\n2\nStandard_NC6\n", src.Properties.CurrentKubernetesVersion)
	if out != want {
		t.Fatalf("registered cluster facts:\n%q\nwant\n%q", out, want)
	}
	// The registered cluster's GPU nodes are visible through its credentials.
	nodes, err := clusterAdmin(t, "aks-ext-rg", "registered").CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil || len(nodes.Items) != 2 {
		t.Fatalf("nodes through the registered kubeconfig: %v", err)
	}
	if gpu := nodes.Items[0].Status.Capacity["nvidia.com/gpu"]; gpu.Value() != 1 {
		t.Errorf("NC6 node GPU capacity %s", gpu.String())
	}
	// The secret kubeconfig is never served by GET.
	a := do(t, call{method: "GET", path: clusterPath("aks-ext-rg", "registered") + csAPI})
	if strings.Contains(a.raw, "certificate-authority-data") || strings.Contains(a.raw, `"kubeconfig"`) {
		t.Fatalf("GET leaks the kubeconfig: %s", a.raw)
	}
	// Deleting the registration leaves the cluster running.
	// The registration reports the autoscaling the cluster's own autoscaler runs, and
	// refuses to change it.
	out = mustCLI(t, "aks", "show", "-n", "registered", "-g", "aks-ext-rg",
		"--query", "[agentPoolProfiles[0].enableAutoScaling, agentPoolProfiles[0].minCount, agentPoolProfiles[0].maxCount]", "-o", "tsv")
	if got := strings.Join(strings.Fields(out), " "); !strings.EqualFold(got, "true 2 4") {
		t.Errorf("registered cluster's autoscaling: %q, want true 2 4", out)
	}
	r := mlfleetCLI(t, "aks", "update", "-n", "registered", "-g", "aks-ext-rg", "--update-cluster-autoscaler", "--min-count", "1", "--max-count", "5")
	if r.code == 0 || !strings.Contains(r.err, "scaled where they run") {
		t.Errorf("aks update --update-cluster-autoscaler of a registered cluster: %+v", r)
	}
	mustCLI(t, "aks", "delete", "-n", "registered", "-g", "aks-ext-rg", "--yes")
	if _, err := kubeClient(t, admin).Discovery().ServerVersion(); err != nil {
		t.Fatalf("the source cluster stopped when its registration was deleted: %v", err)
	}
	mustCLI(t, "aks", "delete", "-n", "source", "-g", "aks-ext-rg", "--yes")
}

// kubeconfigWithFiles writes kubeconfig to a file of a new directory with its certificate
// authority, client certificate and key in files beside it, named by relative paths, and
// returns the kubeconfig file's path.
func kubeconfigWithFiles(t *testing.T, kubeconfig []byte) string {
	t.Helper()
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
		return name
	}
	for name, c := range cfg.Clusters {
		if len(c.CertificateAuthorityData) > 0 {
			c.CertificateAuthority, c.CertificateAuthorityData = write(name+"-ca.crt", c.CertificateAuthorityData), nil
		}
	}
	for name, u := range cfg.AuthInfos {
		if len(u.ClientCertificateData) > 0 {
			u.ClientCertificate, u.ClientCertificateData = write(name+".crt", u.ClientCertificateData), nil
			u.ClientKey, u.ClientKeyData = write(name+".key", u.ClientKeyData), nil
		}
	}
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, write("kubeconfig", out))
}

// TestClusterCLI runs the aks commands as a user would, and kubectl with the credentials
// the CLI wrote (S22).
func TestClusterCLI(t *testing.T) {
	t.Parallel()
	mustCLI(t, "group", "create", "-n", "aks-cli-rg", "-l", "westus")
	r := mlfleetCLI(t, "aks", "create", "-n", "cliaks", "-g", "aks-cli-rg", "--node-count", "1", "--node-vm-size", "Standard_D3_v2", "-o", "table")
	if r.code != 0 || !strings.Contains(r.out, "cliaks") || !strings.Contains(r.out, "Succeeded") || !strings.Contains(r.err, "Running") {
		t.Fatalf("aks create: %+v", r)
	}
	id := mustCLI(t, "aks", "show", "-n", "cliaks", "-g", "aks-cli-rg", "--query", "id", "-o", "tsv")
	if strings.TrimSpace(id) != clusterPath("aks-cli-rg", "cliaks") {
		t.Errorf("aks show --query id: %q", id)
	}
	// The user credentials and the admin ones go into one kubeconfig file, as contexts.
	file := filepath.Join(t.TempDir(), "config")
	for _, admin := range []bool{false, true} {
		args := []string{"aks", "get-credentials", "-n", "cliaks", "-g", "aks-cli-rg", "--file", file}
		if admin {
			args = append(args, "--admin")
		}
		r = mlfleetCLI(t, args...)
		if r.code != 0 || !strings.Contains(r.err, "Merged") {
			t.Fatalf("get-credentials: %+v", r)
		}
	}
	// A file whose "cliaks" cluster is another one (the cluster made again, say) is not
	// overwritten without --overwrite-existing, as az does.
	stale := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(stale, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: cliaks\n  cluster:\n    server: https://gone.example:443\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"aks", "get-credentials", "-n", "cliaks", "-g", "aks-cli-rg", "--file", stale}
	if r = mlfleetCLI(t, args...); r.code != 2 || !strings.Contains(r.err, "--overwrite-existing") {
		t.Errorf("get-credentials over another cluster of the same name: %+v", r)
	}
	if r = mlfleetCLI(t, append(args, "--overwrite-existing", "--context", "mine")...); r.code != 0 || !strings.Contains(r.err, `Merged "mine"`) {
		t.Errorf("get-credentials --overwrite-existing --context mine: %+v", r)
	}
	if kubectl, err := exec.LookPath("kubectl"); err == nil {
		var out []byte
		testutil.Eventually(t, 30*time.Second, "kubectl get nodes", func() error {
			out, err = exec.Command(kubectl, "--kubeconfig", file, "get", "nodes", "-o", "name").CombinedOutput()
			if err != nil || strings.Count(string(out), "node/") != 1 {
				return fmt.Errorf("%v: %s", err, out)
			}
			return nil
		})
		out, err = exec.Command(kubectl, "--kubeconfig", file, "config", "get-contexts", "-o", "name").CombinedOutput()
		if err != nil || strings.Count(string(out), "\n") != 2 {
			t.Errorf("kubeconfig contexts after two get-credentials: %v %s", err, out)
		}
	} else if os.Getenv("CI") != "" {
		t.Fatal("kubectl is not installed; .ci/run must install it")
	}
	out := mustCLI(t, "aks", "scale", "-n", "cliaks", "-g", "aks-cli-rg", "--node-count", "2", "--query", "agentPoolProfiles[0].count", "-o", "tsv")
	if out != "2\n" {
		t.Errorf("aks scale: %q", out)
	}
	out = mustCLI(t, "aks", "list", "-g", "aks-cli-rg", "-o", "table")
	if !strings.HasPrefix(out, "Name") || !strings.Contains(out, "cliaks") {
		t.Errorf("aks list table:\n%s", out)
	}
	r = mlfleetCLI(t, "aks", "delete", "-n", "cliaks", "-g", "aks-cli-rg", "--yes")
	if r.code != 0 {
		t.Fatalf("aks delete: %+v", r)
	}
	r = mlfleetCLI(t, "aks", "show", "-n", "cliaks", "-g", "aks-cli-rg")
	if r.code != 1 || !strings.Contains(r.err, "ResourceNotFound") {
		t.Fatalf("show after delete: %+v", r)
	}
}

// TestPrivateCluster: a private cluster is created on the cluster side; its API server has
// a private FQDN and no public one (S17).
func TestPrivateCluster(t *testing.T) {
	t.Parallel()
	mustCLI(t, "group", "create", "-n", "aks-private-rg", "-l", "westus")
	out := mustCLI(t, "aks", "create", "-n", "private", "-g", "aks-private-rg", "--node-count", "1", "--node-vm-size", "Standard_D2_v2",
		"--enable-private-cluster", "--query", "{state:provisioningState, private:apiServerAccessProfile.enablePrivateCluster, fqdn:fqdn, privateFqdn:privateFqdn}", "-o", "json")
	for _, want := range []string{`"state": "Succeeded"`, `"private": true`, `"fqdn": null`, `"privateFqdn": "private-`} {
		if !strings.Contains(out, want) {
			t.Errorf("private cluster: %s lacks %s", out, want)
		}
	}
	r := mlfleetCLI(t, "aks", "update", "-n", "private", "-g", "aks-private-rg", "--api-server-authorized-ip-ranges", "10.0.0.0/8")
	if r.code != 1 || !strings.Contains(r.err, "A private cluster cannot have authorized IP ranges") {
		t.Errorf("authorized ranges on a private cluster: %+v", r)
	}
	mustCLI(t, "aks", "delete", "-n", "private", "-g", "aks-private-rg", "--yes")
}
