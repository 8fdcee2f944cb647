package integration

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// selfSignedPair is selfSigned as strings, for JSON bodies.
func selfSignedPair(t *testing.T, host string) (string, string) {
	cert, key := selfSigned(t, host)
	return string(cert), string(key)
}

// update PUTs AKS properties on an existing compute and waits for the operation.
func update(t *testing.T, rg, ws, name string, aks map[string]any) (map[string]any, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"location": "westus", "properties": map[string]any{"computeType": "AKS", "properties": aks}})
	a := putCompute(t, rg, ws, name, string(body), "")
	must(t, a, http.StatusOK)
	return waitPut(t, a, rg, ws, name)
}

// TestComputeUpdateInPlace: TLS, load balancer and cluster purpose change without a detach
// (S12, S13, S14, S6, B5); the node count changes from the workspace, re-checking the cluster
// purpose on the way down (S20).
func TestComputeUpdateInPlace(t *testing.T) {
	t.Parallel()
	rg, ws := "up-rg", "up-ws"
	newWorkspace(t, rg, ws)
	mc := createCluster(t, sdk(t), rg, "upcluster", 3, "Standard_D3_v2", nil)
	k := clusterAdmin(t, rg, "upcluster")
	ctx := context.Background()
	a := putCompute(t, rg, ws, "upaks", fmt.Sprintf(`{"location":"westus","properties":{"computeType":"AKS","resourceId":%q}}`, mc.ID), "")
	must(t, a, http.StatusCreated)
	if op, _ := waitPut(t, a, rg, ws, "upaks"); op["status"] != "Succeeded" {
		t.Fatalf("attach: %v", op)
	}
	uid := inspect(t, k).deployment.UID

	cert, key := selfSignedPair(t, "scoring.example.com")
	op, c := update(t, rg, ws, "upaks", map[string]any{"sslConfiguration": map[string]any{"status": "Enabled", "cert": cert, "key": key, "cname": "scoring.example.com"}})
	if op["status"] != "Succeeded" {
		t.Fatalf("TLS on: %v", op)
	}
	in := inspect(t, k)
	if !in.tlsSecret || len(in.service.Spec.Ports) != 2 || in.deployment.UID != uid {
		t.Fatalf("TLS on: secret %v ports %v (the deployment must be updated, not replaced)", in.tlsSecret, in.service.Spec.Ports)
	}
	raw, _ := json.Marshal(c)
	if strings.Contains(string(raw), "PRIVATE KEY") || aksProps(c)["sslConfiguration"].(map[string]any)["status"] != "Enabled" {
		t.Fatalf("GET after TLS on: %s", raw)
	}
	// A cert that does not cover the cname, or an expired one, is refused with the reason.
	other, otherKey := selfSignedPair(t, "other.example.com")
	bad := putCompute(t, rg, ws, "upaks", fmt.Sprintf(`{"properties":{"computeType":"AKS","properties":{"sslConfiguration":{"status":"Enabled","cert":%q,"key":%q,"cname":"scoring.example.com"}}}}`, other, otherKey), "")
	if bad.status != 400 || !strings.Contains(bad.errorMessage(), "does not cover cname 'scoring.example.com'") {
		t.Fatalf("wrong cname: %s", bad.raw)
	}
	mismatched := putCompute(t, rg, ws, "upaks", fmt.Sprintf(`{"properties":{"computeType":"AKS","properties":{"sslConfiguration":{"status":"Enabled","cert":%q,"key":%q,"cname":"scoring.example.com"}}}}`, cert, otherKey), "")
	if mismatched.status != 400 || !strings.Contains(mismatched.errorMessage(), "do not form a pair") {
		t.Fatalf("mismatched pair: %s", mismatched.raw)
	}

	op, c = update(t, rg, ws, "upaks", map[string]any{"loadBalancerType": "InternalLoadBalancer", "loadBalancerSubnet": "inference-subnet"})
	if op["status"] != "Succeeded" {
		t.Fatalf("internal LB: %v", op)
	}
	in = inspect(t, k)
	if in.service.Annotations["service.beta.kubernetes.io/azure-load-balancer-internal"] != "true" ||
		in.service.Annotations["service.beta.kubernetes.io/azure-load-balancer-internal-subnet"] != "inference-subnet" {
		t.Fatalf("internal LB annotations: %v", in.service.Annotations)
	}
	svc := aksProps(c)["systemServices"].([]any)[0].(map[string]any)
	if !inPrefix(t, fmt.Sprint(svc["publicIpAddress"]), "10.240.0.0/16") || aksProps(c)["loadBalancerSubnet"] != "inference-subnet" {
		t.Fatalf("internal LB address: %v", aksProps(c))
	}
	if !in.tlsSecret {
		t.Fatal("changing the load balancer dropped TLS")
	}

	op, _ = update(t, rg, ws, "upaks", map[string]any{"clusterPurpose": "DevTest", "loadBalancerType": "PublicIp", "sslConfiguration": map[string]any{"status": "Disabled"}})
	if op["status"] != "Succeeded" {
		t.Fatalf("DevTest: %v", op)
	}
	in = inspect(t, k)
	if in.replicas != 1 || in.tlsSecret || in.service.Annotations["service.beta.kubernetes.io/azure-load-balancer-internal"] != "" {
		t.Fatalf("DevTest, public, no TLS: replicas %d secret %v annotations %v", in.replicas, in.tlsSecret, in.service.Annotations)
	}

	// TLS Auto: mlfleet issues the certificate for the leaf domain label.
	op, _ = update(t, rg, ws, "upaks", map[string]any{"sslConfiguration": map[string]any{"status": "Auto", "leafDomainLabel": "myscore"}})
	if op["status"] != "Succeeded" {
		t.Fatalf("TLS Auto: %v", op)
	}
	sec, err := k.CoreV1().Secrets("azureml").Get(ctx, "azureml-fe-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(sec.Data["tls.crt"])
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil || leaf.VerifyHostname("myscore.westus.cloudapp.mlfleet.local") != nil || leaf.Issuer.CommonName != "mlfleet CA" {
		t.Fatalf("issued certificate: %v %v issuer %s", err, leaf.DNSNames, leaf.Issuer.CommonName)
	}

	// The label is this compute's in westus: another workspace there must choose another
	// one, or take it over with overwriteExistingDomain.
	if _, err := sdk(t).CreateWorkspace(ctx, rg, "up-ws2", "westus"); err != nil {
		t.Fatal(err)
	}
	leafBody := `{"properties":{"computeType":"AKS","properties":{"sslConfiguration":{"status":"Auto","leafDomainLabel":"myscore"%s}}}}`
	taken := putCompute(t, rg, "up-ws2", "upaks2", fmt.Sprintf(leafBody, ""), "&validateOnly=true")
	if taken.status != 409 || !strings.Contains(taken.errorMessage(), "compute 'upaks'") || !strings.Contains(taken.errorMessage(), "overwriteExistingDomain") {
		t.Fatalf("taken leaf domain label: %s", taken.raw)
	}
	must(t, putCompute(t, rg, "up-ws2", "upaks2", fmt.Sprintf(leafBody, `,"overwriteExistingDomain":true`), "&validateOnly=true"), 200)

	// S20: scale from the workspace; VM size cannot change; FastProd refuses 2 nodes.
	op, c = update(t, rg, ws, "upaks", map[string]any{"agentCount": 4})
	if op["status"] != "Succeeded" || aksProps(c)["agentCount"] != 4.0 {
		t.Fatalf("scale up: %v %v", op, aksProps(c)["agentCount"])
	}
	testutil.Eventually(t, 30*time.Second, "4 ready nodes", nodeCount(ctx, k, 4))
	resize := putCompute(t, rg, ws, "upaks", `{"properties":{"computeType":"AKS","properties":{"agentVmSize":"Standard_D4_v3"}}}`, "")
	if resize.status != 400 || !strings.Contains(resize.errorMessage(), "cannot be changed") {
		t.Fatalf("VM size change: %s", resize.raw)
	}
	down := putCompute(t, rg, ws, "upaks", `{"properties":{"computeType":"AKS","properties":{"agentCount":2,"clusterPurpose":"FastProd"}}}`, "")
	if down.status != 400 || !strings.Contains(down.raw, "at least 12 vCPUs") || !strings.Contains(down.raw, "at least 3 nodes") {
		t.Fatalf("scale-down below FastProd: %s", down.raw)
	}
	op, c = update(t, rg, ws, "upaks", map[string]any{"agentCount": 2})
	if op["status"] != "Succeeded" || aksProps(c)["agentCount"] != 2.0 {
		t.Fatalf("scale down (DevTest): %v %v", op, aksProps(c))
	}
	got, err := sdk(t).GetManagedCluster(ctx, rg, "upcluster")
	if err != nil || got.Properties.AgentPoolProfiles[0].Count != 2 {
		t.Fatalf("cluster after scale: %v %+v", err, got.Properties.AgentPoolProfiles)
	}
}

// TestComputeHealth: the monitor shows an unreachable cluster (B4), and attach names the
// addresses to add to the cluster's authorized IP ranges (S15). mlfleet refuses ranges that
// leave its control plane out of an attached cluster, so the compute is attached to the
// cluster registered a second time by its kubeconfig ('aks import'), and the ranges set on
// the first registration lock it out, as a change made outside mlfleet would. Once free,
// the cluster attached again refuses such ranges.
func TestComputeHealth(t *testing.T) {
	t.Parallel()
	rg, ws := "hl-rg", "hl-ws"
	newWorkspace(t, rg, ws)
	c := sdk(t)
	ctx := context.Background()
	mc := createCluster(t, c, rg, "hlcluster", 3, "Standard_D3_v2", nil)
	admin, err := c.ClusterCredentials(ctx, rg, "hlcluster", true)
	if err != nil {
		t.Fatal(err)
	}
	_, ip, err := c.BeginImportManagedCluster(ctx, rg, "hlreg", "westus", admin, "")
	finish(ctx, t, "import", ip, err)
	reg, err := c.GetManagedCluster(ctx, rg, "hlreg")
	if err != nil {
		t.Fatal(err)
	}
	a := putCompute(t, rg, ws, "hlaks", fmt.Sprintf(`{"location":"westus","properties":{"computeType":"AKS","resourceId":%q}}`, reg.ID), "")
	must(t, a, http.StatusCreated)
	if op, got := waitPut(t, a, rg, ws, "hlaks"); op["status"] != "Succeeded" || props(got)["provisioningState"] != "Succeeded" {
		t.Fatalf("attach: %v %v", op, props(got))
	}
	conditions := func() map[string]string {
		got, err := c.GetCompute(ctx, rg, ws, "hlaks")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{"state": got.Properties.ProvisioningState}
		for _, cond := range got.Properties.Mlfleet.Conditions {
			out[cond.Type] = cond.Status
		}
		return out
	}
	if got := conditions(); got["Reachable"] != "True" || got["VersionSupported"] != "True" || got["CapacitySufficient"] != "True" || got["ComponentsReady"] != "True" {
		t.Fatalf("conditions after attach: %v", got)
	}
	setRanges := func(ranges ...string) {
		t.Helper()
		in := &mlfleet.ClusterInput{}
		in.Properties.APIServerAccessProfile = &mlfleet.APIServerAccessProfile{AuthorizedIPRanges: ranges}
		_, p, err := c.BeginCreateManagedCluster(ctx, rg, "hlcluster", in)
		finish(ctx, t, "create managed cluster", p, err)
	}
	setRanges("203.0.113.0/24")
	testutil.Eventually(t, 30*time.Second, "the compute to show the cluster unreachable", func() error {
		if got := conditions(); got["Reachable"] != "False" || got["state"] != "Unknown" {
			return fmt.Errorf("conditions %v", got)
		}
		return nil
	})
	got, _ := c.GetCompute(ctx, rg, ws, "hlaks")
	if len(got.Properties.ProvisioningErrors) == 0 || got.Properties.ProvisioningErrors[0].Error.Code != "ClusterUnreachable" {
		t.Fatalf("provisioningErrors: %+v", got.Properties.ProvisioningErrors)
	}
	// S15: an attach of that cluster says which address to add (with the attachment conflict).
	if _, err := c.CreateWorkspace(ctx, rg, "hl-ws2", "westus"); err != nil {
		t.Fatal(err)
	}
	blocked := putCompute(t, rg, "hl-ws2", "hlaks2", fmt.Sprintf(`{"properties":{"computeType":"AKS","resourceId":%q}}`, mc.ID), "")
	if blocked.status != 400 || !strings.Contains(blocked.raw, "ControlPlaneNotAuthorized") || !strings.Contains(blocked.raw, "127.0.0.1/32") {
		t.Fatalf("attach through authorized ranges: %s", blocked.raw)
	}
	// Detach cannot remove the components of a cluster it cannot reach: it fails and says so,
	// keeping the compute, rather than leaving them behind.
	op := deleteCompute(t, rg, ws, "hlaks", "Detach")
	if op["status"] != "Failed" || !strings.Contains(fmt.Sprint(op["error"]), "ClusterUnreachable") {
		t.Fatalf("detach of an unreachable cluster: %v", op)
	}
	setRanges("203.0.113.0/24", "127.0.0.1/32")
	testutil.Eventually(t, 30*time.Second, "the compute to recover", func() error {
		if got := conditions(); got["Reachable"] != "True" || got["state"] != "Succeeded" {
			return fmt.Errorf("conditions %v", got)
		}
		return nil
	})
	if op := deleteCompute(t, rg, ws, "hlaks", "Detach"); op["status"] != "Succeeded" {
		t.Fatalf("detach after recovery: %v", op)
	}
	if in := inspect(t, clusterAdmin(t, rg, "hlcluster")); in.namespace || in.marker != nil {
		t.Fatalf("detach left components: %+v", in)
	}
	// QA6 #1: an update whose ranges leave the control plane out of an attached cluster is
	// refused, naming the range to add; the cluster keeps its ranges.
	again := putCompute(t, rg, ws, "hlaks3", fmt.Sprintf(`{"location":"westus","properties":{"computeType":"AKS","resourceId":%q}}`, mc.ID), "")
	must(t, again, http.StatusCreated)
	if op, got := waitPut(t, again, rg, ws, "hlaks3"); op["status"] != "Succeeded" {
		t.Fatalf("attach again: %v %v", op, props(got))
	}
	lock := &mlfleet.ClusterInput{}
	lock.Properties.APIServerAccessProfile = &mlfleet.APIServerAccessProfile{AuthorizedIPRanges: []string{"203.0.113.0/24"}}
	_, _, err = c.BeginCreateManagedCluster(ctx, rg, "hlcluster", lock)
	if err == nil || !strings.Contains(err.Error(), "ControlPlaneNotAuthorized") || !strings.Contains(err.Error(), "203.0.113.0/24,127.0.0.1/32") {
		t.Fatalf("ranges that lock the control plane out of an attached cluster: %v, want ControlPlaneNotAuthorized with the range to add", err)
	}
	if got, err := c.GetManagedCluster(ctx, rg, "hlcluster"); err != nil || len(got.Properties.APIServerAccessProfile.AuthorizedIPRanges) != 2 {
		t.Fatalf("ranges after the refusal: %+v %v", got.Properties.APIServerAccessProfile, err)
	}
}

// attachedOnOwnServer starts a server whose next health pass is an hour away, with the
// one-node cluster {rg}c attached as compute {rg}aks of workspace {rg}ws, and returns its
// client and a reader of the compute's agentCount.
func attachedOnOwnServer(t *testing.T, rg string) (*mlfleet.Client, func() int) {
	t.Helper()
	_, c := ownServerWithCluster(t, rg, "--health-interval", "1h")
	ctx := context.Background()
	_, ap, err := c.BeginCreateOrUpdateCompute(ctx, rg, rg+"ws", rg+"aks", devTestAttach(c.AKSResourceID(rg, rg+"c")), nil)
	finish(ctx, t, "attach", ap, err)
	return c, func() int {
		t.Helper()
		got, err := c.GetCompute(ctx, rg, rg+"ws", rg+"aks")
		if err != nil {
			t.Fatal(err)
		}
		if n := got.Properties.Properties.AgentCount; n != nil {
			return *n
		}
		return 0
	}
}

// TestComputeFollowsClusterScale: once a scale of an attached cluster ends (az aks scale, a
// node pool's scale), the compute shows the cluster's new node count at once, not at its
// next health pass (here an hour away).
func TestComputeFollowsClusterScale(t *testing.T) {
	t.Parallel()
	c, count := attachedOnOwnServer(t, "fs")
	ctx := context.Background()
	if n := count(); n != 1 {
		t.Fatalf("agentCount after attach: %d, want 1", n)
	}
	_, sp, err := c.BeginScaleAgentPool(ctx, "fs", "fsc", "nodepool1", 2)
	finish(ctx, t, "scale", sp, err)
	if n := count(); n != 2 {
		t.Fatalf("agentCount once the scale to 2 ended: %d", n)
	}
}

// TestComputeFollowsAutoscaler: once the cluster autoscaler has grown an attached cluster,
// the compute shows the new node count without waiting for its next health pass (an hour
// away here), as after az aks scale (F-AS2).
func TestComputeFollowsAutoscaler(t *testing.T) {
	t.Parallel()
	c, count := attachedOnOwnServer(t, "fas")
	ctx := context.Background()
	on, lo, hi := true, 1, 2
	in := &mlfleet.ClusterInput{}
	in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: "nodepool1", EnableAutoScaling: &on, MinCount: &lo, MaxCount: &hi}}
	in.Properties.AutoScalerProfile = mlfleet.AutoScalerProfile{"scan-interval": "1s", "scale-down-delay-after-add": "10m"}
	_, up, err := c.BeginCreateOrUpdateManagedCluster(ctx, "fas", "fasc", in, nil)
	finish(ctx, t, "enable the autoscaler", up, err)
	kc, err := c.ClusterCredentials(ctx, "fas", "fasc", true)
	if err != nil {
		t.Fatal(err)
	}
	// Four pods of one cpu do not fit on one Standard_D3_v2 (4 cores, some reserved).
	if _, err := kubeClient(t, kc).AppsV1().Deployments("default").Create(ctx, burstDeployment(4), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 90*time.Second, "the autoscaler growing the pool to 2", func() error {
		mc, err := c.GetManagedCluster(ctx, "fas", "fasc")
		if err != nil {
			return err
		}
		if n := mc.Properties.AgentPoolProfiles[0].Count; n != 2 {
			return fmt.Errorf("count %d", n)
		}
		return nil
	})
	testutil.Eventually(t, 30*time.Second, "the compute showing the 2 nodes the autoscaler made", func() error {
		if n := count(); n != 2 {
			return fmt.Errorf("agentCount %d", n)
		}
		return nil
	})
}
