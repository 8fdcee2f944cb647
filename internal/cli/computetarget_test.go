package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// runCLI runs the command line with an empty MLFLEET_HOME: no server, no defaults, so a
// command that gets past its client-side checks fails on the missing configuration.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runEnv(t, "", "", "", args...)
}

// runEnv runs the command line with an empty MLFLEET_HOME and server, token and
// subscription as the environment's MLFLEET_SERVER, MLFLEET_TOKEN and MLFLEET_SUBSCRIPTION.
func runEnv(t *testing.T, server, token, subscription string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Setenv("MLFLEET_HOME", t.TempDir())
	t.Setenv("MLFLEET_SERVER", server)
	t.Setenv("MLFLEET_TOKEN", token)
	t.Setenv("MLFLEET_SUBSCRIPTION", subscription)
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

// TestComputeTargetConfigs: the flags become the SDK's configurations field by field, the
// PEM files read (the request bodies are the SDK's, tested in pkg/mlfleet).
func TestComputeTargetConfigs(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	_ = os.WriteFile(cert, []byte("CERT"), 0o600)
	_ = os.WriteFile(key, []byte("KEY"), 0o600)
	t.Setenv("MLFLEET_HOME", t.TempDir())
	ref := computeRef{name: "a1", group: "rg", workspace: "ws"}

	t.Run("create", func(t *testing.T) {
		f := &createAKSFlags{vmSize: "Standard_D2_v2", location: "eastus", description: "d",
			provisionFlags: provisionFlags{ref: ref, purpose: "devtest",
				lb:  lbFlags{lbType: "InternalLoadBalancer", subnet: "s1"},
				ssl: sslFlags{cname: "www.example.com", certFile: cert, keyFile: key}},
			vnet: vnetFlags{vnet: "net", vnetGroup: "netrg", subnet: "default", serviceCidr: "10.0.0.0/16", dnsServiceIP: "10.0.0.10", dockerBridgeCidr: "172.17.0.1/16"}}
		if err := f.agentCount.Set("2"); err != nil {
			t.Fatal(err)
		}
		got, err := f.validate()
		if err != nil {
			t.Fatal(err)
		}
		want := mlfleet.AKSProvisioningConfig{AgentCount: 2, VMSize: "Standard_D2_v2", ClusterPurpose: "devtest", Location: "eastus", Description: "d",
			SSL:               mlfleet.SSLOptions{Cname: "www.example.com", Cert: []byte("CERT"), Key: []byte("KEY")},
			VnetResourceGroup: "netrg", VnetName: "net", SubnetName: "default", ServiceCIDR: "10.0.0.0/16", DNSServiceIP: "10.0.0.10", DockerBridgeCIDR: "172.17.0.1/16",
			LoadBalancerType: "InternalLoadBalancer", LoadBalancerSubnet: "s1"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("config\n got %+v\nwant %+v", got, want)
		}
	})
	t.Run("create defaults", func(t *testing.T) {
		f := &createAKSFlags{provisionFlags: provisionFlags{ref: ref}}
		got, err := f.validate()
		if err != nil || !reflect.DeepEqual(got, mlfleet.AKSProvisioningConfig{}) {
			t.Errorf("config %+v, %v; want the zero configuration (the server's defaults)", got, err)
		}
	})
	t.Run("attach", func(t *testing.T) {
		const id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c"
		f := &attachAKSFlags{resourceID: ` "` + id + `"`, force: true,
			provisionFlags: provisionFlags{ref: ref, purpose: "DevTest", ssl: sslFlags{leafLabel: "leaf", overwrite: true}}}
		got, err := f.validate()
		want := mlfleet.AKSAttachConfig{ResourceID: id, ClusterPurpose: "DevTest", Force: true, SSL: mlfleet.SSLOptions{LeafDomainLabel: "leaf", OverwriteExistingDomain: true}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("config %+v, %v; want %+v", got, err, want)
		}
	})
	t.Run("update", func(t *testing.T) {
		f := &updateAKSFlags{ref: ref, lb: lbFlags{subnet: "s2"}, ssl: sslFlags{disable: true}}
		got, err := f.validate()
		want := mlfleet.AKSUpdateConfig{LoadBalancerSubnet: "s2", DisableSSL: true}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("config %+v, %v; want %+v", got, err, want)
		}
	})
}

// TestFlagErrors: the SDK's problems name the flags, all of them listed.
func TestFlagErrors(t *testing.T) {
	cfg := mlfleet.AKSProvisioningConfig{ClusterPurpose: "Prod", LoadBalancerSubnet: "s1", SSL: mlfleet.SSLOptions{OverwriteExistingDomain: true}}
	err := flagErrors(cfg.Validate())
	want := "3 problems with the options:\n" +
		"  - invalid --cluster-purpose \"Prod\": allowed values are FastProd, DenseProd, DevTest\n" +
		"  - --ssl-overwrite-domain applies only with --ssl-leaf-domain-label\n" +
		"  - --load-balancer-subnet applies only with --load-balancer-type InternalLoadBalancer"
	if ExitCode(err) != 2 || err.Error() != want {
		t.Errorf("got (exit %d)\n%v\nwant\n%s", ExitCode(err), err, want)
	}
	// The compute name the SDK checks with the configuration is --name.
	err = flagErrors(mlfleet.ValidateComputeName("Bad_Name!"))
	want = "compute name (--name) \"Bad_Name!\" is invalid: use 3 to 24 letters, digits or '-', starting with a letter and ending with a letter or digit"
	if ExitCode(err) != 2 || err.Error() != want {
		t.Errorf("a bad compute name: got (exit %d) %v, want %s", ExitCode(err), err, want)
	}
	if err := flagErrors(nil); err != nil {
		t.Errorf("flagErrors(nil) = %v", err)
	}
	other := &mlfleet.Error{Code: "Conflict", Message: "m"}
	if err := flagErrors(other); err != other {
		t.Errorf("a server error changed: %v", err)
	}
}

func TestComputeTables(t *testing.T) {
	list := []any{map[string]any{"name": "c1", "location": "westus", "properties": map[string]any{"computeType": "AKS", "provisioningState": "Succeeded",
		"computeLocation": "eastus", "properties": map[string]any{"clusterPurpose": "DevTest", "agentCount": 1, "agentVmSize": "Standard_D3_v2"}}}}
	got, err := json.Marshal(computeTable(list))
	want := `[{"Name":"c1","ComputeType":"AKS","Location":"eastus","State":"Succeeded","Purpose":"DevTest","Nodes":1,"VMSize":"Standard_D3_v2"}]`
	if err != nil || string(got) != want {
		t.Errorf("compute table: %s, %v; want %s", got, err, want)
	}
	v := map[string]any{"valid": true, "checks": []any{map[string]any{"name": "Reachable", "passed": true}, map[string]any{"name": "Version", "passed": false, "message": "m"}}}
	got, err = json.Marshal(validationTable(v))
	want = `[{"Check":"Reachable","Result":"Passed","Message":null},{"Check":"Version","Result":"Failed","Message":"m"}]`
	if err != nil || string(got) != want {
		t.Errorf("validation table: %s, %v; want %s", got, err, want)
	}
}

func TestKubeconfigForCompute(t *testing.T) {
	kc := func(server string) []byte { return testKubeconfig("c1", server, "clusterUser_c1") }
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
