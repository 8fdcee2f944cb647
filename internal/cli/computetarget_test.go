package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// runCLI runs the command line with an empty MLFLEET_HOME: no server, no defaults, so a
// command that gets past its client-side checks fails on the missing configuration.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("MLFLEET_HOME", t.TempDir())
	t.Setenv("MLFLEET_SERVER", "")
	t.Setenv("MLFLEET_TOKEN", "")
	var out, errb bytes.Buffer
	err := Run(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, args)
	return out.String(), errb.String(), ExitCode(err)
}

// TestComputeTargetUsageErrors: the checks azureml-core makes client-side fail as usage
// errors (exit 2) before any call to the server.
func TestComputeTargetUsageErrors(t *testing.T) {
	const id = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	ws := []string{"-g", "rg", "-w", "ws"}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"create without name", []string{"create", "aks"}, "--name/-n"},
		{"create without workspace", []string{"create", "aks", "-n", "a1", "-g", "rg"}, "--workspace-name/-w"},
		{"agent count zero", []string{"create", "aks", "-n", "a1", "--agent-count", "0"}, "--agent-count must be a positive integer"},
		{"agent count negative", []string{"create", "aks", "-n", "a1", "-a", "-2"}, "positive integer"},
		{"agent count not a number", []string{"create", "aks", "-n", "a1", "--agent-count", "three"}, "not an integer"},
		{"bad purpose", []string{"create", "aks", "-n", "a1", "--cluster-purpose", "Prod"}, "FastProd, DenseProd, DevTest"},
		{"bad load balancer", []string{"create", "aks", "-n", "a1", "--load-balancer-type", "Basic"}, "PublicIp, InternalLoadBalancer"},
		{"subnet without internal lb", []string{"create", "aks", "-n", "a1", "--load-balancer-subnet", "s1"}, "only with --load-balancer-type InternalLoadBalancer"},
		{"subnet with public lb", []string{"create", "aks", "-n", "a1", "--load-balancer-type", "PublicIp", "--load-balancer-subnet", "s1"}, "InternalLoadBalancer"},
		{"cname alone", []string{"create", "aks", "-n", "a1", "--ssl-cname", "x.example.com"}, "--ssl-cname, --ssl-cert-file and --ssl-key-file together"},
		{"cert without key", []string{"create", "aks", "-n", "a1", "--ssl-cname", "x", "--ssl-cert-file", "c.pem"}, "together"},
		{"cert and leaf", []string{"create", "aks", "-n", "a1", "--ssl-cname", "x", "--ssl-cert-file", "c", "--ssl-key-file", "k", "--ssl-leaf-domain-label", "l"}, "not both"},
		{"overwrite without leaf", []string{"create", "aks", "-n", "a1", "--ssl-overwrite-domain"}, "only with --ssl-leaf-domain-label"},
		{"missing cert file", []string{"create", "aks", "-n", "a1", "--ssl-cname", "x", "--ssl-cert-file", "/nonexistent/c.pem", "--ssl-key-file", "/nonexistent/k.pem"}, "read --ssl-cert-file"},
		{"partial vnet", []string{"create", "aks", "-n", "a1", "--vnet-name", "v", "--subnet-name", "s"}, "--vnet-name, --vnet-resourcegroup-name, --subnet-name, --service-cidr, --dns-service-ip and --docker-bridge-cidr together"},
		{"attach without id", []string{"attach", "aks", "-n", "a1"}, "--compute-resource-id/-i"},
		{"attach id too short", []string{"attach", "aks", "-n", "a1", "-i", "/subscriptions/s1/resourceGroups/rg"}, "expected /subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name}"},
		{"attach id of another provider", []string{"attach", "aks", "-n", "a1", "-i", "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/managedClusters/c1"}, "provider Microsoft.Compute is not Microsoft.ContainerService"},
		{"attach id without leading slash", []string{"attach", "aks", "-n", "a1", "-i", strings.TrimPrefix(id, "/")}, "invalid --compute-resource-id"},
		{"attach id with empty part", []string{"attach", "aks", "-n", "a1", "-i", strings.Replace(id, "/rg/", "//", 1)}, "invalid --compute-resource-id"},
		{"attach ssl overwrite alone", []string{"attach", "aks", "-n", "a1", "-i", id, "--ssl-overwrite-domain"}, "--ssl-leaf-domain-label"},
		{"update nothing", []string{"update", "aks", "-n", "a1"}, "nothing to update"},
		{"update disable with cert", []string{"update", "aks", "-n", "a1", "--ssl-disable", "--ssl-leaf-domain-label", "l"}, "--ssl-disable cannot be combined"},
		{"scale without count", []string{"scale", "-n", "a1"}, "--agent-count/-a"},
		{"scale to zero", []string{"scale", "-n", "a1", "--agent-count", "0"}, "positive integer"},
		{"delete without confirmation", []string{"delete", "-n", "a1"}, "--yes"},
		{"detach without name", []string{"detach"}, "--name/-n"},
		{"show extra argument", []string{"show", "-n", "a1", "extra"}, "unknown command"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"ml", "computetarget"}, tc.args...)
			if tc.name != "create without workspace" && tc.name != "create without name" {
				args = append(args, ws...)
			}
			out, errOut, code := runCLI(t, args...)
			if code != 2 || !strings.HasPrefix(errOut, "ERROR: ") || !strings.Contains(errOut, tc.want) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 with %q", code, out, errOut, tc.want)
			}
		})
	}
}

// TestComputeTargetPassesChecks: valid flags get past the client-side checks (and then
// fail only for want of a server configuration).
func TestComputeTargetPassesChecks(t *testing.T) {
	const id = "/subscriptions/s1/resourcegroups/rg/providers/Microsoft.ContainerService/managedClusters/c1"
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	for _, f := range []string{cert, key} {
		if err := os.WriteFile(f, []byte("pem"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string][]string{
		"create defaults":   {"create", "aks", "-n", "myaks"},
		"create everything": {"create", "aks", "-n", "a1", "-a", "2", "-s", "Standard_D2_v2", "--cluster-purpose", "devtest", "-l", "eastus", "--load-balancer-type", "internalloadbalancer", "--load-balancer-subnet", "s1", "--ssl-cname", "x", "--ssl-cert-file", cert, "--ssl-key-file", key, "--vnet-name", "v", "--vnet-resourcegroup-name", "vrg", "--subnet-name", "s", "--service-cidr", "10.0.0.0/16", "--dns-service-ip", "10.0.0.10", "--docker-bridge-cidr", "172.17.0.1/16", "--dry-run"},
		"create leaf":       {"create", "aks", "-n", "a1", "--ssl-leaf-domain-label", "l", "--ssl-overwrite-domain"},
		"attach":            {"attach", "aks", "-n", "a1", "-i", id, "--force"},
		"attach quoted id":  {"attach", "aks", "-n", "a1", "-i", `"` + id + `"`},
		"update":            {"update", "aks", "-n", "a1", "--ssl-disable"},
		"update subnet":     {"update", "aks", "-n", "a1", "--load-balancer-subnet", "s2"},
		"scale":             {"scale", "-n", "a1", "--agent-count", "4"},
		"delete":            {"delete", "-n", "a1", "--yes"},
		"check-name":        {"check-name", "-n", "a1"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			_, errOut, code := runCLI(t, append(append([]string{"ml", "computetarget"}, args...), "-g", "rg", "-w", "ws")...)
			if code != 1 || !strings.Contains(errOut, "configuration") {
				t.Fatalf("exit %d, stderr %q; want exit 1 for the missing server configuration", code, errOut)
			}
		})
	}
}

// marshal returns v as generic JSON, the way the server reads it.
func marshal(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// set returns the keys of an object whose value is not null.
func set(m any) map[string]any {
	out := map[string]any{}
	mm, _ := m.(map[string]any)
	for k, v := range mm {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

func TestCreateBody(t *testing.T) {
	t.Run("defaults: only location and type", func(t *testing.T) {
		f := &createAKSFlags{}
		m := marshal(t, f.body("sub1", "westus", nil))
		if m["location"] != "westus" {
			t.Errorf("location = %v, want the workspace's", m["location"])
		}
		props := m["properties"].(map[string]any)
		if props["computeType"] != "AKS" {
			t.Errorf("computeType = %v", props["computeType"])
		}
		if _, ok := props["computeLocation"]; ok {
			t.Errorf("computeLocation sent without --location: %v", props)
		}
		if got := set(props["properties"]); len(got) != 0 {
			t.Errorf("AKS settings sent that the user did not give: %v", got)
		}
		if props["resourceId"] != nil {
			t.Errorf("a create sends no resourceId: %v", props["resourceId"])
		}
	})
	t.Run("every setting", func(t *testing.T) {
		f := &createAKSFlags{vmSize: "Standard_D2_v2", purpose: "DevTest", location: "eastus", description: "d",
			lb:   lbFlags{lbType: "InternalLoadBalancer", subnet: "s1"},
			vnet: vnetFlags{vnet: "net", vnetGroup: "netrg", subnet: "default", serviceCidr: "10.0.0.0/16", dnsServiceIP: "10.0.0.10", dockerBridgeCidr: "172.17.0.1/16"}}
		if err := f.agentCount.Set("2"); err != nil {
			t.Fatal(err)
		}
		ssl := &mlfleet.SSLConfiguration{Status: mlfleet.SSLAuto, LeafDomainLabel: "leaf"}
		m := marshal(t, f.body("sub1", "westus", ssl))
		props := m["properties"].(map[string]any)
		if props["computeLocation"] != "eastus" || props["description"] != "d" {
			t.Errorf("properties: %v", props)
		}
		want := map[string]any{
			"agentCount": 2.0, "agentVmSize": "Standard_D2_v2", "clusterPurpose": "DevTest",
			"loadBalancerType": "InternalLoadBalancer", "loadBalancerSubnet": "s1",
			"sslConfiguration": map[string]any{"status": "Auto", "leafDomainLabel": "leaf"},
			"aksNetworkingConfiguration": map[string]any{
				"subnetId":    "/subscriptions/sub1/resourceGroups/netrg/providers/Microsoft.Network/virtualNetworks/net/subnets/default",
				"serviceCidr": "10.0.0.0/16", "dnsServiceIP": "10.0.0.10", "dockerBridgeCidr": "172.17.0.1/16"},
		}
		got := set(props["properties"])
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("AKS properties\n got %s\nwant %s", gb, wb)
		}
	})
}

func TestSSLConfig(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	_ = os.WriteFile(cert, []byte("CERT"), 0o600)
	_ = os.WriteFile(key, []byte("KEY"), 0o600)
	cases := []struct {
		name  string
		flags sslFlags
		want  *mlfleet.SSLConfiguration
	}{
		{"none", sslFlags{}, nil},
		{"own certificate", sslFlags{certFile: cert, keyFile: key, cname: "www.example.com"}, &mlfleet.SSLConfiguration{Status: "Enabled", Cert: "CERT", Key: "KEY", Cname: "www.example.com"}},
		{"issued", sslFlags{leafLabel: "myleaf", overwrite: true}, &mlfleet.SSLConfiguration{Status: "Auto", LeafDomainLabel: "myleaf", OverwriteExistingDomain: true}},
		{"disabled", sslFlags{disable: true}, &mlfleet.SSLConfiguration{Status: "Disabled"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.flags.validate(); err != nil {
				t.Fatal(err)
			}
			got, err := tc.flags.config()
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestAttachBody(t *testing.T) {
	f := &attachAKSFlags{resourceID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c", purpose: "DevTest"}
	m := marshal(t, f.body("westus", nil))
	props := m["properties"].(map[string]any)
	if m["location"] != "westus" || props["computeType"] != "AKS" || props["resourceId"] != f.resourceID {
		t.Errorf("attach body: %v", m)
	}
	if got := set(props["properties"]); len(got) != 1 || got["clusterPurpose"] != "DevTest" {
		t.Errorf("attach AKS settings: %v (want only clusterPurpose)", got)
	}
	if f.options() != nil {
		t.Error("options without --force")
	}
	f.force = true
	if o := f.options(); o == nil || !o.Force {
		t.Error("--force does not set ComputeOptions.Force")
	}
}

func TestUpdateBody(t *testing.T) {
	str := func(s string) *string { return &s }
	three := 3
	current := func(attached bool) *mlfleet.Compute {
		c := &mlfleet.Compute{ID: "/x", Name: "c1", Type: "Microsoft.MachineLearningServices/workspaces/computes", Location: "westus"}
		c.Properties.ComputeType = "AKS"
		c.Properties.ProvisioningState = "Succeeded"
		c.Properties.IsAttachedCompute = attached
		c.Properties.ResourceID = str("/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c1")
		c.Properties.Mlfleet = &mlfleet.ComputeMlfleet{ClusterUID: "u"}
		c.Properties.Properties = &mlfleet.AKSProperties{ClusterFqdn: str("c1.example"), AgentCount: &three, AgentVMSize: str("Standard_D3_v2"),
			ClusterPurpose: str("FastProd"), LoadBalancerType: str("InternalLoadBalancer"), LoadBalancerSubnet: str("aks-subnet"),
			SystemServices:   []mlfleet.SystemService{{SystemServiceType: "ScoringFrontEnd"}},
			SSLConfiguration: &mlfleet.SSLConfiguration{Status: "Enabled", Cert: "CERT", Cname: "x"}}
		return c
	}
	t.Run("created compute: no resourceId, no read-only fields, TLS kept by the server", func(t *testing.T) {
		f := &updateAKSFlags{purpose: "DevTest"}
		b, err := f.apply(current(false), nil)
		if err != nil {
			t.Fatal(err)
		}
		m := marshal(t, b)
		props := m["properties"].(map[string]any)
		for _, k := range []string{"id", "name", "type", "systemData"} {
			if m[k] != nil {
				t.Errorf("read-only %s sent: %v", k, m[k])
			}
		}
		if props["resourceId"] != nil || props["provisioningState"] != nil || props["mlfleet"] != nil {
			t.Errorf("properties: %v", props)
		}
		aks := set(props["properties"])
		if aks["clusterPurpose"] != "DevTest" || aks["agentCount"] != 3.0 || aks["sslConfiguration"] != nil || aks["systemServices"] != nil || aks["clusterFqdn"] != nil {
			t.Errorf("AKS properties: %v", aks)
		}
	})
	t.Run("attached compute keeps resourceId", func(t *testing.T) {
		f := &updateAKSFlags{ssl: sslFlags{disable: true}}
		ssl, _ := f.ssl.config()
		b, err := f.apply(current(true), ssl)
		if err != nil {
			t.Fatal(err)
		}
		if b.Properties.ResourceID == nil || b.Properties.Properties.SSLConfiguration.Status != "Disabled" {
			t.Errorf("body: %+v", b.Properties)
		}
	})
	t.Run("switch to PublicIp drops the subnet", func(t *testing.T) {
		f := &updateAKSFlags{lb: lbFlags{lbType: "PublicIp"}}
		b, _ := f.apply(current(false), nil)
		if *b.Properties.Properties.LoadBalancerType != "PublicIp" || b.Properties.Properties.LoadBalancerSubnet != nil {
			t.Errorf("lb: %+v", b.Properties.Properties)
		}
	})
	t.Run("subnet on an internal load balancer", func(t *testing.T) {
		f := &updateAKSFlags{lb: lbFlags{subnet: "s2"}}
		b, err := f.apply(current(false), nil)
		if err != nil || *b.Properties.Properties.LoadBalancerSubnet != "s2" {
			t.Errorf("subnet: %v %+v", err, b)
		}
	})
	t.Run("subnet on a public load balancer is refused", func(t *testing.T) {
		cur := current(false)
		cur.Properties.Properties.LoadBalancerType = str("PublicIp")
		f := &updateAKSFlags{lb: lbFlags{subnet: "s2"}}
		if _, err := f.apply(cur, nil); ExitCode(err) != 2 {
			t.Errorf("want a usage error, got %v", err)
		}
	})
}

// TestProgress: the progress lines azureml-core's wait_for_completion(show_output=True)
// prints.
func TestProgress(t *testing.T) {
	cases := []struct {
		name   string
		states []string
		status string
		want   string
	}{
		{"create", []string{"Creating", "Creating", "Creating", "Succeeded"}, "Succeeded", "Creating...\nSucceeded\nProvisioning operation finished, operation \"Succeeded\"\n"},
		{"done at first poll", []string{"Succeeded"}, "Succeeded", "Succeeded\nProvisioning operation finished, operation \"Succeeded\"\n"},
		{"failed", []string{"Creating", "Failed"}, "Failed", "Creating.\nFailed\nProvisioning operation finished, operation \"Failed\"\n"},
		{"two changes", []string{"Updating", "Updating", "Deleting", "Succeeded"}, "Succeeded", "Updating..\nDeleting.\nSucceeded\nProvisioning operation finished, operation \"Succeeded\"\n"},
		{"poll error", []string{"Creating"}, "", "Creating\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			p := &progress{w: &b}
			for _, s := range tc.states {
				p.update(s)
			}
			p.finish(tc.status)
			if b.String() != tc.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tc.want)
			}
		})
	}
}

func TestComputeTables(t *testing.T) {
	list := []any{map[string]any{"name": "c1", "location": "westus", "properties": map[string]any{"computeType": "AKS", "provisioningState": "Succeeded",
		"computeLocation": "eastus", "properties": map[string]any{"clusterPurpose": "DevTest", "agentCount": 1, "agentVmSize": "Standard_D3_v2"}}}}
	rows := computeTable(list).([]any)
	want := computeRow{Name: "c1", ComputeType: "AKS", Location: "eastus", State: "Succeeded", Purpose: "DevTest", Nodes: 1, VMSize: "Standard_D3_v2"}
	if len(rows) != 1 || rows[0] != want {
		t.Errorf("compute table: %+v", rows)
	}
	v := map[string]any{"valid": true, "checks": []any{map[string]any{"name": "Reachable", "passed": true}, map[string]any{"name": "Version", "passed": false, "message": "m"}}}
	checks := validationTable(v).([]checkRow)
	if len(checks) != 2 || checks[0].Result != "Passed" || checks[1].Result != "Failed" || checks[1].Message != "m" {
		t.Errorf("validation table: %+v", checks)
	}
}

func TestKubeconfigForCompute(t *testing.T) {
	kc := func(server string) []byte {
		return []byte(`apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster:
    server: ` + server + `
users:
- name: clusterUser_c1
  user:
    token: t
contexts:
- name: c1
  context:
    cluster: c1
    user: clusterUser_c1
current-context: c1
`)
	}
	file := filepath.Join(t.TempDir(), "config")
	if err := checkKubeconfigConflicts(file, kc("https://a")); err != nil {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := mergeKubeconfig(file, kc("https://a")); err != nil {
		t.Fatal(err)
	}
	if err := checkKubeconfigConflicts(file, kc("https://a")); err != nil {
		t.Errorf("same entries are not a conflict: %v", err)
	}
	err := checkKubeconfigConflicts(file, kc("https://b"))
	if ExitCode(err) != 2 || !strings.Contains(err.Error(), "cluster named 'c1'") || !strings.Contains(err.Error(), "--overwrite-existing") {
		t.Errorf("different cluster: %v", err)
	}
	renamed, err := renameContext(kc("https://a"), "mine")
	if err != nil {
		t.Fatal(err)
	}
	name, err := mergeKubeconfig(file, renamed)
	if err != nil || name != "mine" {
		t.Fatalf("merge renamed: %q %v", name, err)
	}
	data, _ := os.ReadFile(file)
	if !strings.Contains(string(data), "name: mine") || !strings.Contains(string(data), "current-context: mine") || !strings.Contains(string(data), "name: c1") {
		t.Errorf("kubeconfig after rename:\n%s", data)
	}
}
