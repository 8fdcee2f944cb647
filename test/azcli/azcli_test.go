// Package azcli runs the real Azure CLI (`az`, as Debian packages it) against a real
// mlfleet server: `az cloud register`, `az login` as a service principal and as a user,
// then the README's `az aks`, `az group`, `az provider` and `az resource` commands verbatim.
// Every az runs with its own configuration directory and with a proxy that records any
// connection: nothing may leave loopback. It skips when az is not installed, unless CI is set.
package azcli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/cli"
	"github.com/mlfleet/mlfleet/internal/sandbox"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	"github.com/mlfleet/mlfleet/test/testserver"
)

var srv *testserver.Server

func TestMain(m *testing.M) {
	// First: this binary is the sandbox stub of the scoring processes its servers start.
	sandbox.Init()
	os.Exit(testserver.Main(m.Run, func(s *testserver.Server) { srv = s }))
}

// proxy is a listener az is told to use for every host but loopback: it records who tried
// to connect, and refuses them.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	tries []string
}

func startProxy(t *testing.T) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 512)
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			n, _ := c.Read(buf)
			line, _, _ := strings.Cut(string(buf[:n]), "\r\n")
			p.mu.Lock()
			p.tries = append(p.tries, line)
			p.mu.Unlock()
			c.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return p
}

func (p *proxy) attempts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.tries...)
}

// azEnv is one isolated az installation: its config directory and environment.
type azEnv struct {
	t     *testing.T
	dir   string
	env   []string
	proxy *proxy
}

func newAz(t *testing.T) *azEnv {
	t.Helper()
	if _, err := exec.LookPath("az"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("az is not installed (CI installs Debian's azure-cli)")
		}
		t.Skip("az is not installed: apt-get install azure-cli")
	}
	p := startProxy(t)
	dir := t.TempDir()
	proxyURL := "http://" + p.ln.Addr().String()
	env := []string{
		"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8",
		"AZURE_CONFIG_DIR=" + filepath.Join(dir, "azure"),
		"AZURE_CORE_COLLECT_TELEMETRY=0", "AZURE_CORE_NO_COLOR=1", "AZURE_CORE_ONLY_SHOW_ERRORS=0",
		"AZURE_CORE_SURVEY_MESSAGE=0", "AZURE_EXTENSION_USE_DYNAMIC_INSTALL=no",
		"REQUESTS_CA_BUNDLE=" + srv.Config.CAFile,
		"HTTPS_PROXY=" + proxyURL, "HTTP_PROXY=" + proxyURL, "https_proxy=" + proxyURL, "http_proxy=" + proxyURL,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"KUBECONFIG=" + filepath.Join(dir, "kubeconfig"),
	}
	seedVersionCheck(t, filepath.Join(dir, "azure"))
	a := &azEnv{t: t, dir: dir, env: env, proxy: p}
	t.Cleanup(func() {
		if tries := p.attempts(); len(tries) > 0 {
			t.Errorf("az tried to leave loopback: %q", tries)
		}
	})
	a.must("cloud", "register", "-n", "mlfleet", "--endpoint-resource-manager", srv.Config.Server+"/")
	a.must("cloud", "set", "-n", "mlfleet")
	return a
}

// seedVersionCheck writes az's cache of its daily version check as an az that ran today
// has it. Without it, the first command of a new configuration asks azure.microsoft.com
// whether a newer az exists, whatever cloud is set: that is az's own traffic, not
// mlfleet's, and the proxy would report it.
func seedVersionCheck(t *testing.T, configDir string) {
	t.Helper()
	out, err := exec.Command(azPython(t), "-c", "from azure.cli.core import __version__; print(__version__)").Output()
	if err != nil {
		t.Fatalf("find az's version: %v", err)
	}
	v := strings.TrimSpace(string(out))
	seed := map[string]any{
		"versions":    map[string]any{"azure-cli": map[string]string{"local": v, "pypi": v}, "core": map[string]string{"local": v, "pypi": v}},
		"update_time": time.Now().Format("2006-01-02 15:04:05.000000"),
	}
	b, _ := json.Marshal(seed)
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(configDir, "versionCheck.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// azPython is the interpreter az runs with (its #! line), which has az's modules.
func azPython(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("az")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if py, ok := strings.CutPrefix(line, "#!"); ok && !strings.Contains(py, " ") {
		return py
	}
	return "python3"
}

// run runs az with args and returns its stdout, stderr and error.
func (a *azEnv) run(args ...string) (string, string, error) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "az", args...)
	cmd.Env, cmd.Dir = a.env, a.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	a.t.Logf("az %s (%s)", strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond))
	return out.String(), errb.String(), err
}

// must runs az and fails the test when it fails.
func (a *azEnv) must(args ...string) string {
	a.t.Helper()
	out, errOut, err := a.run(args...)
	if err != nil {
		a.t.Fatalf("az %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// mustJSON runs az with -o json and decodes its output.
func (a *azEnv) mustJSON(v any, args ...string) {
	a.t.Helper()
	out := a.must(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		a.t.Fatalf("az %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// servicePrincipal creates a service principal with role at scope.
func servicePrincipal(t *testing.T, name, role, scope string) *mlfleet.Principal {
	t.Helper()
	p, err := srv.Client(t).CreatePrincipal(context.Background(), mlfleet.NewPrincipal{Type: mlfleet.PrincipalServicePrincipal, DisplayName: name, Role: role, Scopes: []string{scope}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func subscriptionScope() string { return "/subscriptions/" + srv.Config.Subscription }

// TestSeedCommands runs the README's az block verbatim, as a service principal that is
// Owner of the subscription, and checks each result.
func TestSeedCommands(t *testing.T) {
	az := newAz(t)
	sp := servicePrincipal(t, "az-seed", "Owner", subscriptionScope())
	var accounts []map[string]any
	az.mustJSON(&accounts, "login", "--service-principal", "-u", sp.AppID, "-p", sp.Password, "--tenant", sp.Tenant)
	if len(accounts) != 1 || accounts[0]["id"] != srv.Config.Subscription {
		t.Fatalf("az login lists %v", accounts)
	}

	if out := az.must("aks", "get-versions", "-l", "westus", "-o", "table"); !strings.Contains(out, "KubernetesVersion") || !strings.Contains(out, "1.37.2") {
		t.Errorf("get-versions table:\n%s", out)
	}
	def := strings.TrimSpace(az.must("aks", "get-versions", "-l", "westus", "--query", "orchestrators[?default == `true`].orchestratorVersion", "-o", "table"))
	if lines := strings.Split(def, "\n"); len(lines) != 3 || !strings.HasPrefix(lines[2], "1.") {
		t.Errorf("default version table:\n%s", def)
	}
	var rg map[string]any
	az.mustJSON(&rg, "group", "create", "-n", "myresourcegroup", "-l", "westus")
	if rg["name"] != "myresourcegroup" || rg["location"] != "westus" {
		t.Errorf("group create: %v", rg)
	}
	var mc map[string]any
	az.mustJSON(&mc, "aks", "create", "-n", "myexistingcluster", "-g", "myresourcegroup", "--node-count", "3", "--node-vm-size", "Standard_D3_v2", "--generate-ssh-keys")
	if props, _ := mc["properties"].(map[string]any); mc["provisioningState"] != "Succeeded" && (props == nil || props["provisioningState"] != "Succeeded") {
		t.Errorf("aks create: %.500v", mc)
	}
	id := strings.Trim(strings.TrimSpace(az.must("aks", "show", "-n", "myexistingcluster", "-g", "myresourcegroup", "--query", "id")), `"`)
	if want := subscriptionScope() + "/resourcegroups/myresourcegroup/providers/Microsoft.ContainerService/managedClusters/myexistingcluster"; !strings.EqualFold(id, want) {
		t.Errorf("aks show --query id = %s, want %s", id, want)
	}
	if out := az.must("aks", "list", "-o", "table"); !strings.Contains(out, "myexistingcluster") || !strings.Contains(out, "westus") {
		t.Errorf("aks list table:\n%s", out)
	}
	kc := filepath.Join(az.dir, "kc")
	az.must("aks", "get-credentials", "-n", "myexistingcluster", "-g", "myresourcegroup", "--admin", "-f", kc)
	nodes := kubectlNodes(t, kc)
	if nodes != 3 {
		t.Errorf("kubectl get nodes: %d nodes, want 3", nodes)
	}
	az.must("aks", "scale", "-n", "myexistingcluster", "-g", "myresourcegroup", "--node-count", "4")
	if nodes := kubectlNodes(t, kc); nodes != 4 {
		t.Errorf("after scale: %d nodes, want 4", nodes)
	}
	if out := az.must("aks", "nodepool", "list", "--cluster-name", "myexistingcluster", "-g", "myresourcegroup", "-o", "table"); !strings.Contains(out, "Standard_D3_v2") || !strings.Contains(out, " 4 ") {
		t.Errorf("nodepool list table:\n%s", out)
	}
	az.mustJSON(&mc, "aks", "update", "-n", "myexistingcluster", "-g", "myresourcegroup", "--api-server-authorized-ip-ranges", "8.8.8.8/32")
	if !strings.Contains(fmt.Sprint(mc), "8.8.8.8/32") {
		t.Errorf("aks update did not set the range: %.500v", mc)
	}
	// mlfleet's own CLI prints what az prints, so that a --query written for one works
	// with the other.
	for _, args := range [][]string{
		{"aks", "show", "-n", "myexistingcluster", "-g", "myresourcegroup", "-o", "json"},
		{"aks", "list", "-g", "myresourcegroup", "-o", "json"},
		{"aks", "list", "-g", "myresourcegroup", "-o", "table"},
		{"aks", "show", "-n", "myexistingcluster", "-g", "myresourcegroup", "--query", "[provisioningState, enableRbac, apiServerAccessProfile.authorizedIpRanges[0], networkProfile.dnsServiceIp]", "-o", "tsv"},
		{"aks", "nodepool", "list", "--cluster-name", "myexistingcluster", "-g", "myresourcegroup", "-o", "json"},
		{"aks", "nodepool", "list", "--cluster-name", "myexistingcluster", "-g", "myresourcegroup", "-o", "table"},
		{"aks", "nodepool", "show", "--cluster-name", "myexistingcluster", "-g", "myresourcegroup", "-n", "nodepool1", "-o", "json"},
		{"aks", "get-upgrades", "-n", "myexistingcluster", "-g", "myresourcegroup", "-o", "json"},
		{"aks", "get-upgrades", "-n", "myexistingcluster", "-g", "myresourcegroup", "-o", "table"},
		{"aks", "get-versions", "-l", "westus", "-o", "json"},
		{"group", "exists", "-n", "myresourcegroup", "-o", "json"},
		{"group", "exists", "-n", "nosuchgroup", "-o", "json"},
		{"provider", "show", "-n", "Microsoft.ContainerService", "-o", "json"},
		{"provider", "list", "-o", "table"},
		{"resource", "list", "-g", "myresourcegroup", "-o", "json"},
		{"resource", "list", "-g", "myresourcegroup", "-o", "table"},
		{"account", "list", "-o", "table"},
	} {
		sameAsAz(t, az, args...)
	}
	var upgrades map[string]any
	az.mustJSON(&upgrades, "aks", "get-upgrades", "-n", "myexistingcluster", "-g", "myresourcegroup")
	if !strings.Contains(fmt.Sprint(upgrades), "controlPlaneProfile") {
		t.Errorf("get-upgrades: %v", upgrades)
	}
	var provider map[string]any
	az.mustJSON(&provider, "provider", "show", "-n", "Microsoft.ContainerService")
	if provider["namespace"] != "Microsoft.ContainerService" || provider["registrationState"] != "Registered" {
		t.Errorf("provider show: %.300v", provider)
	}
	if out := az.must("resource", "list", "-g", "myresourcegroup", "-o", "table"); !strings.Contains(out, "myexistingcluster") || !strings.Contains(out, "Microsoft.ContainerService/managedClusters") {
		t.Errorf("resource list table:\n%s", out)
	}
	// az rest: attach a cluster to a workspace as a compute, the seed's way. Not
	// myexistingcluster, which now accepts API server connections from 8.8.8.8 only (the
	// attach says so: TestAttachRefusesAuthorizedRanges).
	var second map[string]any
	az.mustJSON(&second, "aks", "create", "-n", "myaks2cluster", "-g", "myresourcegroup", "--node-count", "1", "--node-vm-size", "Standard_D3_v2", "--generate-ssh-keys")
	attached, _ := second["id"].(string)
	ws := subscriptionScope() + "/resourceGroups/myresourcegroup/providers/Microsoft.MachineLearningServices/workspaces/myworkspace"
	// The README's lines, verbatim: az fills in {subscriptionId}.
	readmeWS := "/subscriptions/{subscriptionId}/resourceGroups/myresourcegroup/providers/Microsoft.MachineLearningServices/workspaces/myworkspace"
	az.must("rest", "--method", "put", "--url", readmeWS+"?api-version=2023-04-01", "--body", `{"location":"westus"}`)
	attach := filepath.Join(az.dir, "attach.json")
	body := fmt.Sprintf(`{"location":"westus","properties":{"computeType":"AKS","resourceId":"%s","properties":{"clusterPurpose":"DevTest"}}}`, attached)
	if err := os.WriteFile(attach, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	az.must("rest", "--method", "put", "--url", readmeWS+"/computes/myaks2?api-version=2023-04-01", "--body", "@"+attach)
	// Any other placeholder is sent as it is: a 400 that says what to write, whatever the
	// caller's role.
	if out, errOut, err := az.run("rest", "--method", "put", "--url", strings.Replace(readmeWS, "{subscriptionId}", "{sub}", 1)+"/computes/myaks2?api-version=2023-04-01", "--body", "@"+attach); err == nil ||
		!strings.Contains(errOut, "InvalidSubscriptionId") || !strings.Contains(errOut, "{subscriptionId}") {
		t.Errorf("az rest with {sub}: err %v\n%s\n%s", err, out, errOut)
	}
	state := waitCompute(t, az, ws+"/computes/myaks2?api-version=2023-04-01")
	if state != "Succeeded" {
		t.Errorf("attach by az rest ended %s", state)
	}
	az.must("rest", "--method", "delete", "--url", ws+"/computes/myaks2?api-version=2023-04-01&underlyingResourceAction=Detach")
	// The authorized ranges of myexistingcluster keep mlfleet out: the attach says what to add.
	out, errOut, err := az.run("rest", "--method", "put", "--url", ws+"/computes/myaks3?api-version=2023-04-01", "--body",
		fmt.Sprintf(`{"location":"westus","properties":{"computeType":"AKS","resourceId":"%s"}}`, id))
	if err == nil || !strings.Contains(errOut, "127.0.0.1/32") {
		t.Errorf("attach of a cluster closed to mlfleet: err %v\n%s\n%s", err, out, errOut)
	}

	az.must("aks", "delete", "-n", "myexistingcluster", "-g", "myresourcegroup", "--yes")
	az.must("aks", "delete", "-n", "myaks2cluster", "-g", "myresourcegroup", "--yes", "--no-wait")
	out, errOut, err = az.run("aks", "show", "-n", "myexistingcluster", "-g", "myresourcegroup")
	if err == nil || !strings.Contains(errOut, "ResourceNotFound") && !strings.Contains(errOut, "NotFound") {
		t.Errorf("aks show after delete: err %v\n%s\n%s", err, out, errOut)
	}
}

// kubectlNodes counts the nodes kubectl sees with the kubeconfig az wrote.
// sameAsAz runs a command with az and with mlfleet's CLI and compares what they print:
// the same text, or with -o json the same value once az's nulls (the attributes of its
// SDK models that the server did not set) and mlfleet's own extension (mlfleet) are left
// out of each object.
func sameAsAz(t *testing.T, az *azEnv, args ...string) {
	t.Helper()
	want := az.must(args...)
	var out, errb bytes.Buffer
	if err := cli.Run(context.Background(), cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, args); err != nil {
		t.Errorf("mlfleet %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		return
	}
	got := out.String()
	if args[len(args)-1] != "json" {
		if got != want {
			t.Errorf("%s: mlfleet printed\n%s\naz printed\n%s", strings.Join(args, " "), got, want)
		}
		return
	}
	var a, m any
	if err := json.Unmarshal([]byte(want), &a); err != nil {
		t.Fatalf("az %s: %v", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal([]byte(got), &m); err != nil {
		t.Fatalf("mlfleet %s: %v\n%s", strings.Join(args, " "), err, got)
	}
	if a, m := withoutNulls(a, ""), withoutNulls(m, "mlfleet"); !reflect.DeepEqual(a, m) {
		t.Errorf("%s: mlfleet printed\n%v\naz printed (nulls left out)\n%v", strings.Join(args, " "), m, a)
	}
}

// withoutNulls returns v without the null members of its objects, nor their member drop.
func withoutNulls(v any, drop string) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range t {
			if x != nil && k != drop {
				out[k] = withoutNulls(x, drop)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = withoutNulls(x, drop)
		}
		return out
	}
	return v
}

func kubectlNodes(t *testing.T, kubeconfig string) int {
	t.Helper()
	out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "get", "nodes", "-o", "name").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get nodes: %v\n%s", err, out)
	}
	return strings.Count(string(out), "node/")
}

// waitCompute polls a compute with az rest until it leaves Creating/Updating.
func waitCompute(t *testing.T, az *azEnv, url string) string {
	t.Helper()
	// Each look runs az, which takes a while itself.
	state, _ := testutil.PollEvery(t.Context(), time.Second, 2*time.Minute, func() (bool, string) {
		var c map[string]any
		az.mustJSON(&c, "rest", "--method", "get", "--url", url)
		props, _ := c["properties"].(map[string]any)
		state, _ := props["provisioningState"].(string)
		return state != "Creating" && state != "Updating", state
	})
	return state
}

// TestUserLoginAndRoles: a user signs in with a password (an ID token and a refresh token
// come back), a Reader gets ARM's 403 on a write, and a wrong secret fails with mlfleet's
// message.
func TestUserLoginAndRoles(t *testing.T) {
	az := newAz(t)
	ctx := context.Background()
	if _, err := srv.Client(t).CreatePrincipal(ctx, mlfleet.NewPrincipal{Type: mlfleet.PrincipalUser, DisplayName: "Reader Rita",
		UserPrincipalName: "rita@mlfleet.local", Password: "rita's long password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client(t).AssignRole(ctx, "rita@mlfleet.local", "Reader", subscriptionScope()); err != nil {
		t.Fatal(err)
	}
	var accounts []map[string]any
	az.mustJSON(&accounts, "login", "-u", "rita@mlfleet.local", "-p", "rita's long password")
	if len(accounts) != 1 || fmt.Sprint(accounts[0]["user"]) != "map[name:rita@mlfleet.local type:user]" {
		t.Fatalf("az login as a user lists %v", accounts)
	}
	if out := az.must("group", "list", "-o", "tsv", "--query", "length(@)"); strings.TrimSpace(out) == "" {
		t.Errorf("group list as Reader: %q", out)
	}
	_, errOut, err := az.run("group", "create", "-n", "rita-rg", "-l", "westus")
	if err == nil || !strings.Contains(errOut, "AuthorizationFailed") || !strings.Contains(errOut, "rita@mlfleet.local") ||
		!strings.Contains(errOut, "Microsoft.Resources/subscriptions/resourceGroups/write") {
		t.Errorf("Reader creates a group: err %v\n%s", err, errOut)
	}
	// A second command uses the cached token or the refresh token, not the password.
	az.must("account", "get-access-token", "--query", "expiresOn", "-o", "tsv")

	sp := servicePrincipal(t, "az-wrong", "Reader", subscriptionScope())
	_, errOut, err = az.run("login", "--service-principal", "-u", sp.AppID, "-p", sp.Password+"x", "--tenant", sp.Tenant)
	if err == nil || !strings.Contains(errOut, "create-for-rbac") {
		t.Errorf("wrong secret: err %v\n%s", err, errOut)
	}
	_, errOut, err = az.run("login", "-u", "rita@mlfleet.local", "-p", "wrong password")
	if err == nil || !strings.Contains(errOut, "Invalid 'username' or 'password'") {
		t.Errorf("wrong password: err %v\n%s", err, errOut)
	}
}

// TestAzAutoscaler: az's own bodies for the cluster autoscaler are accepted: aks create
// with --enable-cluster-autoscaler, aks update --update-cluster-autoscaler with a profile,
// aks scale refused on an autoscaled pool, nodepool update --disable-cluster-autoscaler
// and aks update --enable-cluster-autoscaler again (B6).
func TestAzAutoscaler(t *testing.T) {
	az := newAz(t)
	sp := servicePrincipal(t, "az-autoscale", "Owner", subscriptionScope())
	az.must("login", "--service-principal", "-u", sp.AppID, "-p", sp.Password, "--tenant", sp.Tenant)
	az.must("group", "create", "-n", "autoscalerg", "-l", "westus")
	pool := func() map[string]any {
		var mc map[string]any
		az.mustJSON(&mc, "aks", "show", "-n", "azas", "-g", "autoscalerg")
		return mc["agentPoolProfiles"].([]any)[0].(map[string]any)
	}
	az.must("aks", "create", "-n", "azas", "-g", "autoscalerg", "--node-count", "3", "--node-vm-size", "Standard_D3_v2", "--generate-ssh-keys",
		"--enable-cluster-autoscaler", "--min-count", "3", "--max-count", "5")
	if p := pool(); p["enableAutoScaling"] != true || p["minCount"] != 3.0 || p["maxCount"] != 5.0 {
		t.Errorf("after create: pool %v", p)
	}
	// az 2.45's model has no eTag (newer ones do, as e_tag): it passes the key through as
	// served, AKS's spelling.
	var shown map[string]any
	az.mustJSON(&shown, "aks", "show", "-n", "azas", "-g", "autoscalerg")
	if e, _ := shown["eTag"].(string); !strings.HasPrefix(e, `"`) || shown["etag"] != nil {
		t.Errorf("aks show: eTag %v, etag %v; want the quoted eTag alone", shown["eTag"], shown["etag"])
	}
	if p, _ := shown["agentPoolProfiles"].([]any); len(p) != 1 || testutil.Field(p[0], "eTag") != shown["eTag"] {
		t.Errorf("aks show: agentPoolProfiles %v, want the pool with the cluster's eTag", shown["agentPoolProfiles"])
	}
	var mc map[string]any
	az.mustJSON(&mc, "aks", "update", "-n", "azas", "-g", "autoscalerg", "--update-cluster-autoscaler", "--min-count", "3", "--max-count", "6",
		"--cluster-autoscaler-profile", "scan-interval=30s", "max-empty-bulk-delete=20")
	if prof, _ := mc["autoScalerProfile"].(map[string]any); prof["scanInterval"] != "30s" && prof["scan-interval"] != "30s" || prof["maxEmptyBulkDelete"] != "20" {
		t.Errorf("after update: autoScalerProfile %v", mc["autoScalerProfile"])
	}
	// az sent the whole profile back, with the defaults of the keys mlfleet does not
	// implement, and the update passed; another value of one of them is refused.
	if _, errOut, err := az.run("aks", "update", "-n", "azas", "-g", "autoscalerg", "--cluster-autoscaler-profile", "max-node-provision-time=20m"); err == nil ||
		!strings.Contains(errOut, "'max-node-provision-time' is '20m': mlfleet's cluster autoscaler does not implement it") {
		t.Errorf("max-node-provision-time=20m: err %v\n%s", err, errOut)
	}
	if p := pool(); p["maxCount"] != 6.0 {
		t.Errorf("after update: pool %v", p)
	}
	if _, errOut, err := az.run("aks", "scale", "-n", "azas", "-g", "autoscalerg", "--node-count", "4"); err == nil {
		t.Errorf("aks scale of an autoscaled pool succeeded")
	} else {
		t.Logf("aks scale refused: %s", strings.TrimSpace(errOut))
	}
	az.must("aks", "nodepool", "update", "--cluster-name", "azas", "-g", "autoscalerg", "-n", "nodepool1", "--disable-cluster-autoscaler")
	if p := pool(); p["enableAutoScaling"] != false || p["minCount"] != nil {
		t.Errorf("after disable: pool %v", p)
	}
	az.must("aks", "update", "-n", "azas", "-g", "autoscalerg", "--enable-cluster-autoscaler", "--min-count", "3", "--max-count", "4")
	if p := pool(); p["enableAutoScaling"] != true || p["maxCount"] != 4.0 {
		t.Errorf("after enable: pool %v", p)
	}
	az.must("aks", "delete", "-n", "azas", "-g", "autoscalerg", "--yes", "--no-wait")
}

// TestAzPoolSettings: the pool settings az aks create sends (--nodepool-labels,
// --nodepool-tags, --max-pods, --node-osdisk-size) are served back by aks show and reach
// the nodes; az aks nodepool update --labels --node-taints relabels and taints them (this
// az's aks create has no --node-taints).
func TestAzPoolSettings(t *testing.T) {
	az := newAz(t)
	sp := servicePrincipal(t, "az-pools", "Owner", subscriptionScope())
	az.must("login", "--service-principal", "-u", sp.AppID, "-p", sp.Password, "--tenant", sp.Tenant)
	az.must("group", "create", "-n", "poolsrg", "-l", "westus")
	az.must("aks", "create", "-n", "azpools", "-g", "poolsrg", "--node-count", "2", "--node-vm-size", "Standard_D3_v2", "--generate-ssh-keys",
		"--nodepool-labels", "team=qa", "tier=gold", "--nodepool-tags", "owner=qa",
		"--max-pods", "50", "--node-osdisk-size", "64")
	var mc map[string]any
	az.mustJSON(&mc, "aks", "show", "-n", "azpools", "-g", "poolsrg")
	p := mc["agentPoolProfiles"].([]any)[0].(map[string]any)
	if labels, _ := p["nodeLabels"].(map[string]any); labels["team"] != "qa" || labels["tier"] != "gold" {
		t.Errorf("aks show: nodeLabels %v", p["nodeLabels"])
	}
	if tags, _ := p["tags"].(map[string]any); tags["owner"] != "qa" {
		t.Errorf("aks show: pool tags %v", p["tags"])
	}
	// az prints the SDK's attribute os_disk_size_gb as osDiskSizeGb.
	if p["maxPods"] != 50.0 || p["osDiskSizeGb"] != 64.0 {
		t.Errorf("aks show: maxPods %v, osDiskSizeGb %v; want 50, 64", p["maxPods"], p["osDiskSizeGb"])
	}
	kc := filepath.Join(az.dir, "kc")
	az.must("aks", "get-credentials", "-n", "azpools", "-g", "poolsrg", "--admin", "-f", kc)
	for _, n := range kubectlNodeList(t, kc) {
		if n.Metadata.Labels["team"] != "qa" || n.Metadata.Labels["tier"] != "gold" || n.Status.Capacity["pods"] != "50" || len(n.Spec.Taints) != 0 {
			t.Errorf("node %s after create: labels %v, taints %v, pods %s", n.Metadata.Name, n.Metadata.Labels, n.Spec.Taints, n.Status.Capacity["pods"])
		}
	}

	az.must("aks", "nodepool", "update", "--cluster-name", "azpools", "-g", "poolsrg", "-n", "nodepool1",
		"--labels", "a=b", "--node-taints", "dedicated=ml:NoExecute")
	az.mustJSON(&mc, "aks", "show", "-n", "azpools", "-g", "poolsrg")
	p = mc["agentPoolProfiles"].([]any)[0].(map[string]any)
	if taints, _ := p["nodeTaints"].([]any); len(taints) != 1 || taints[0] != "dedicated=ml:NoExecute" {
		t.Errorf("aks show after nodepool update: nodeTaints %v", p["nodeTaints"])
	}
	for _, n := range kubectlNodeList(t, kc) {
		_, team := n.Metadata.Labels["team"]
		if n.Metadata.Labels["a"] != "b" || team || len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "dedicated" || n.Spec.Taints[0].Effect != "NoExecute" {
			t.Errorf("node %s after nodepool update: labels %v, taints %v", n.Metadata.Name, n.Metadata.Labels, n.Spec.Taints)
		}
	}
	az.must("aks", "delete", "-n", "azpools", "-g", "poolsrg", "--yes", "--no-wait")
}

// kubectlNode is what the tests read of a node from kubectl get nodes -o json.
type kubectlNode struct {
	Metadata struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		Taints []struct{ Key, Value, Effect string } `json:"taints"`
	} `json:"spec"`
	Status struct {
		Capacity map[string]string `json:"capacity"`
	} `json:"status"`
}

// kubectlNodeList lists the nodes kubectl sees with the kubeconfig az wrote.
func kubectlNodeList(t *testing.T, kubeconfig string) []kubectlNode {
	t.Helper()
	out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "get", "nodes", "-o", "json").Output()
	if err != nil {
		t.Fatalf("kubectl get nodes: %v", err)
	}
	var list struct {
		Items []kubectlNode `json:"items"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) == 0 {
		t.Fatal("kubectl get nodes: no nodes")
	}
	return list.Items
}

// azFails runs az, which must fail with exit code 1 (a request az sent and the server
// refused, not a missing resource: 3) and print want.
func (a *azEnv) azFails(want string, args ...string) {
	a.t.Helper()
	out, errOut, err := a.run(args...)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 1 || !strings.Contains(errOut, want) {
		a.t.Errorf("az %s: exit %d (%v), want 1 saying %q\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, err, want, out, errOut)
	}
}

// TestAzVersionsOfUnknownLocation: az aks get-versions of a location that is no Azure
// region fails with ARM's NoRegisteredProviderFound, which names the locations there are,
// rather than printing an empty table.
func TestAzVersionsOfUnknownLocation(t *testing.T) {
	az := newAz(t)
	sp := servicePrincipal(t, "az-versions", "Reader", subscriptionScope())
	az.must("login", "--service-principal", "-u", sp.AppID, "-p", sp.Password, "--tenant", sp.Tenant)
	az.azFails("(NoRegisteredProviderFound) No registered resource provider found for location 'nowhere'", "aks", "get-versions", "-l", "nowhere", "-o", "table")
	az.azFails("The supported locations are 'australiacentral, ", "aks", "get-versions", "-l", "nowhere")
}

// TestAzMinorVersion: QA12 F5 with the real az. az aks get-versions offers no upgrade,
// as get-upgrades and az aks upgrade say; az aks create -k 1.37 keeps "1.37" (on the pool
// too, where az sends it) and shows the patch it runs in currentKubernetesVersion, as
// AKS does, and az aks upgrade to that patch or to 1.37 again is no change.
func TestAzMinorVersion(t *testing.T) {
	az := newAz(t)
	sp := servicePrincipal(t, "az-minor", "Owner", subscriptionScope())
	az.must("login", "--service-principal", "-u", sp.AppID, "-p", sp.Password, "--tenant", sp.Tenant)
	if out := az.must("aks", "get-versions", "-l", "westus", "-o", "table"); strings.Count(out, "None available") != strings.Count(out, "\n")-2 {
		t.Errorf("get-versions lists upgrades:\n%s", out)
	}
	az.must("group", "create", "-n", "minorrg", "-l", "westus")
	az.must("aks", "create", "-n", "minor", "-g", "minorrg", "--node-count", "1", "--node-vm-size", "Standard_D3_v2", "-k", "1.37", "--generate-ssh-keys")
	show := []string{"aks", "show", "-n", "minor", "-g", "minorrg", "--query", "[kubernetesVersion, currentKubernetesVersion, agentPoolProfiles[0].orchestratorVersion, agentPoolProfiles[0].currentOrchestratorVersion]", "-o", "tsv"}
	if out := az.must(show...); strings.Join(strings.Fields(out), " ") != "1.37 1.37.2 1.37 1.37.2" {
		t.Errorf("aks show after create -k 1.37: %q, want 1.37 1.37.2 1.37 1.37.2", out)
	}
	if out := az.must("aks", "get-upgrades", "-n", "minor", "-g", "minorrg", "--query", "controlPlaneProfile.kubernetesVersion", "-o", "tsv"); strings.TrimSpace(out) != "1.37.2" {
		t.Errorf("get-upgrades: %q, want 1.37.2", out)
	}
	az.must("aks", "upgrade", "-n", "minor", "-g", "minorrg", "-k", "1.37", "--yes")
	if out := az.must(show...); strings.Join(strings.Fields(out), " ") != "1.37 1.37.2 1.37 1.37.2" {
		t.Errorf("aks show after upgrade -k 1.37: %q", out)
	}
	az.azFails("Cluster 'minor' runs Kubernetes 1.37.2; upgrades are not supported by mlfleet yet", "aks", "upgrade", "-n", "minor", "-g", "minorrg", "-k", "1.38.0", "--yes")
	az.must("aks", "delete", "-n", "minor", "-g", "minorrg", "--yes", "--no-wait")
}

// TestAzUnsupportedSettings: the settings az aks sends that mlfleet cannot honour are
// refused with what mlfleet does instead (az exits 1 with the message), on create and on
// update, while az's read-modify-write PUT of an unchanged cluster keeps working; the node
// pool shows its version and power state; the AKS operations mlfleet does not run are
// refused, not "not found".
func TestAzUnsupportedSettings(t *testing.T) {
	az := newAz(t)
	sp := servicePrincipal(t, "az-unsupported", "Owner", subscriptionScope())
	az.must("login", "--service-principal", "-u", sp.AppID, "-p", sp.Password, "--tenant", sp.Tenant)
	az.must("group", "create", "-n", "unsuprg", "-l", "westus")
	create := []string{"aks", "create", "-n", "azun", "-g", "unsuprg", "--node-count", "1", "--node-vm-size", "Standard_D3_v2", "--generate-ssh-keys"}
	az.azFails("Automatic upgrades (upgrade channel 'patch') are not supported by mlfleet", append(create, "--auto-upgrade-channel", "patch")...)
	az.azFails("Pricing tier", append(create, "--uptime-sla")...)
	az.azFails("Availability zones (1, 2, 3) are not available", append(create, "--zones", "1", "2", "3", "--os-sku", "CBLMariner",
		"--node-osdisk-type", "Ephemeral", "--enable-node-public-ip", "--enable-encryption-at-host")...)
	az.azFails("FIPS-enabled node images are not available", append(create, "--enable-fips-image")...)
	az.azFails("Ultra SSD is not available", append(create, "--enable-ultra-ssd")...)
	// QA finding 6: accepted and dropped before, each now refused with the property named.
	az.azFails("Clusters without Kubernetes RBAC are not available", append(create, "--disable-rbac")...)
	az.azFails("An OIDC issuer is not available", append(create, "--enable-oidc-issuer")...)
	az.azFails("Network policy 'calico' is not available", append(create, "--network-plugin", "kubenet", "--network-policy", "calico")...)
	az.azFails("Network plugin 'azure' is not available", append(create, "--network-plugin", "azure")...)
	az.azFails("VM set type 'AvailabilitySet' is not available", append(create, "--vm-set-type", "AvailabilitySet", "--load-balancer-sku", "basic")...)
	az.azFails("Node resource group 'myNodeRG' is not available", append(create, "--node-resource-group", "myNodeRG")...)
	az.azFails("Proximity placement group", append(create, "--ppg", "/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/proximityPlacementGroups/z")...)
	az.azFails("osDiskSizeGB 10 is out of range", append(create, "--node-osdisk-size", "10")...)
	// Without those flags az sends enableFIPS and enableUltraSSD false, scaleSetPriority
	// Regular, scaleSetEvictionPolicy Delete and spotMaxPrice -1: AKS's values, accepted.
	az.must(create...)
	az.azFails("Load balancer outbound settings are not available: managedOutboundIPs.count 2",
		"aks", "update", "-n", "azun", "-g", "unsuprg", "--load-balancer-managed-outbound-ip-count", "2")

	// Unrelated updates PUT back the cluster as read: sku, pools' power state and version.
	az.must("aks", "update", "-n", "azun", "-g", "unsuprg", "--tags", "env=qa")
	az.must("aks", "update", "-n", "azun", "-g", "unsuprg", "--auto-upgrade-channel", "none")
	az.azFails("Microsoft Entra integration (aadProfile) is not supported by mlfleet",
		"aks", "update", "-n", "azun", "-g", "unsuprg", "--enable-aad", "--aad-admin-group-object-ids", "00000000-0000-0000-0000-000000000001")
	az.azFails("Automatic upgrades", "aks", "update", "-n", "azun", "-g", "unsuprg", "--auto-upgrade-channel", "patch")
	az.azFails("An OIDC issuer is not available", "aks", "update", "-n", "azun", "-g", "unsuprg", "--enable-oidc-issuer")
	az.azFails("Pricing tier", "aks", "update", "-n", "azun", "-g", "unsuprg", "--uptime-sla")
	var mc map[string]any
	az.mustJSON(&mc, "aks", "show", "-n", "azun", "-g", "unsuprg")
	if sku, _ := mc["sku"].(map[string]any); mc["aadProfile"] != nil || mc["autoUpgradeProfile"] != nil || sku["tier"] != "Free" || testutil.Field(mc, "tags.env") != "qa" {
		t.Errorf("aks show after the refused updates: aadProfile %v, autoUpgradeProfile %v, sku %v, tags %v", mc["aadProfile"], mc["autoUpgradeProfile"], mc["sku"], mc["tags"])
	}

	nodepool := []string{"--cluster-name", "azun", "-g", "unsuprg", "-n", "nodepool1"}
	var pool map[string]any
	az.mustJSON(&pool, append([]string{"aks", "nodepool", "show"}, nodepool...)...)
	if pool["currentOrchestratorVersion"] != mc["currentKubernetesVersion"] || testutil.Field(pool, "powerState.code") != "Running" {
		t.Errorf("nodepool show: currentOrchestratorVersion %v (cluster %v), powerState %v", pool["currentOrchestratorVersion"], mc["currentKubernetesVersion"], pool["powerState"])
	}
	az.azFails("Stopping agent pool 'nodepool1'", append([]string{"aks", "nodepool", "stop"}, nodepool...)...)
	az.azFails("Max surge '33%' is not available", append([]string{"aks", "nodepool", "update", "--max-surge", "33%"}, nodepool...)...)
	az.azFails("Scale-down mode 'Deallocate' is not available", append([]string{"aks", "nodepool", "update", "--scale-down-mode", "Deallocate"}, nodepool...)...)
	az.must(append([]string{"aks", "nodepool", "update", "--labels", "team=qa"}, nodepool...)...)
	if out, errOut, err := az.run(append([]string{"aks", "nodepool", "start"}, nodepool...)...); err != nil {
		t.Logf("nodepool start of a running pool: %v\n%s%s", err, out, errOut)
	}
	var ups map[string]any
	az.mustJSON(&ups, append([]string{"aks", "nodepool", "get-upgrades"}, "--cluster-name", "azun", "-g", "unsuprg", "--nodepool-name", "nodepool1")...)
	if ups["kubernetesVersion"] != mc["currentKubernetesVersion"] {
		t.Errorf("nodepool get-upgrades = %v", ups)
	}
	az.azFails("Deleting agent pools is not supported by mlfleet", append([]string{"aks", "nodepool", "delete"}, nodepool...)...)
	az.azFails("Rotating cluster certificates is not supported by mlfleet", "aks", "rotate-certs", "-n", "azun", "-g", "unsuprg", "--yes")
	az.azFails("Unregistering a resource provider", "provider", "unregister", "-n", "Microsoft.ContainerService")
	az.azFails("Management locks", "lock", "create", "-n", "l1", "-g", "unsuprg", "--lock-type", "CanNotDelete")
	az.azFails("az group export", "group", "export", "-n", "unsuprg")
	var list []any
	az.mustJSON(&list, "deployment", "group", "list", "-g", "unsuprg")
	az.mustJSON(&list, "lock", "list", "-g", "unsuprg")
	az.must("aks", "delete", "-n", "azun", "-g", "unsuprg", "--yes", "--no-wait")
}

// TestAzTags: az tag create, update, list and delete --resource-id change the tags of a
// resource group and of a workspace as their own, and az tag list counts them.
func TestAzTags(t *testing.T) {
	az := newAz(t)
	sp := servicePrincipal(t, "az-tags", "Owner", subscriptionScope())
	az.must("login", "--service-principal", "-u", sp.AppID, "-p", sp.Password, "--tenant", sp.Tenant)
	var rg map[string]any
	az.mustJSON(&rg, "group", "create", "-n", "tagsrg", "-l", "westus")
	var ws map[string]any
	az.mustJSON(&ws, "resource", "create", "-g", "tagsrg", "-n", "tagsws", "--resource-type", "Microsoft.MachineLearningServices/workspaces",
		"--is-full-object", "--properties", `{"location":"westus","properties":{}}`)
	tagsOf := func(v map[string]any) map[string]any {
		m, _ := testutil.Field(v, "properties.tags").(map[string]any)
		return m
	}
	for _, id := range []string{rg["id"].(string), ws["id"].(string)} {
		var out map[string]any
		az.mustJSON(&out, "tag", "create", "--resource-id", id, "--tags", "a=1", "b=2")
		if tags := tagsOf(out); !reflect.DeepEqual(tags, map[string]any{"a": "1", "b": "2"}) {
			t.Errorf("%s: tag create = %v", id, out)
		}
		az.mustJSON(&out, "tag", "update", "--resource-id", id, "--operation", "merge", "--tags", "c=3", "a=9")
		if tags := tagsOf(out); !reflect.DeepEqual(tags, map[string]any{"a": "9", "b": "2", "c": "3"}) {
			t.Errorf("%s: tag update --operation merge = %v", id, out)
		}
		az.mustJSON(&out, "tag", "update", "--resource-id", id, "--operation", "delete", "--tags", "b=2")
		if tags := tagsOf(out); !reflect.DeepEqual(tags, map[string]any{"a": "9", "c": "3"}) {
			t.Errorf("%s: tag update --operation delete = %v", id, out)
		}
		az.mustJSON(&out, "tag", "list", "--resource-id", id)
		if tags := tagsOf(out); !reflect.DeepEqual(tags, map[string]any{"a": "9", "c": "3"}) {
			t.Errorf("%s: tag list = %v", id, out)
		}
		var res map[string]any
		az.mustJSON(&res, "resource", "show", "--ids", id)
		if !reflect.DeepEqual(res["tags"], map[string]any{"a": "9", "c": "3"}) {
			t.Errorf("%s: resource show after az tag: tags %v", id, res["tags"])
		}
	}
	var names []map[string]any
	az.mustJSON(&names, "tag", "list")
	counts := map[string]any{}
	for _, n := range names {
		counts[n["tagName"].(string)] = testutil.Field(n, "count.value")
	}
	if counts["a"] != 2.0 || counts["c"] != 2.0 {
		t.Errorf("tag list: %v", names)
	}
	az.must("tag", "delete", "--resource-id", rg["id"].(string), "--yes")
	var out map[string]any
	az.mustJSON(&out, "tag", "list", "--resource-id", rg["id"].(string))
	if len(tagsOf(out)) != 0 {
		t.Errorf("tag list after tag delete = %v", out)
	}
	az.azFails("Predefined tag names", "tag", "create", "-n", "predefined")
	az.must("group", "delete", "-n", "tagsrg", "--yes", "--no-wait")
}
