package compat

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// fast makes pollers poll every second when the server sends no Retry-After.
var fast = &runtime.PollUntilDoneOptions{Frequency: time.Second}

// pollDone waits, polling fast, for the operation a Begin call started (its poller and
// error) and returns its result; t fails, naming the operation what, when the call or the
// operation does.
func pollDone[T any](ctx context.Context, t *testing.T, what string, poller *runtime.Poller[T], err error) T {
	t.Helper()
	if err != nil {
		t.Fatalf("begin %s: %v", what, err)
	}
	res, err := poller.PollUntilDone(ctx, fast)
	if err != nil {
		t.Fatalf("%s PollUntilDone: %v", what, err)
	}
	return res
}

func clientFactory(t *testing.T) *armcontainerservice.ClientFactory {
	t.Helper()
	f, err := armcontainerservice.NewClientFactory(server.Config.Subscription, credential(), armOptions())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func newCluster(dnsPrefix string, version *string) armcontainerservice.ManagedCluster {
	return armcontainerservice.ManagedCluster{
		Location: to.Ptr("westus"),
		Properties: &armcontainerservice.ManagedClusterProperties{
			DNSPrefix:         to.Ptr(dnsPrefix),
			KubernetesVersion: version,
			AgentPoolProfiles: []*armcontainerservice.ManagedClusterAgentPoolProfile{{
				Name:   to.Ptr("nodepool1"),
				Count:  to.Ptr[int32](1),
				VMSize: to.Ptr("Standard_D2_v2"),
				Mode:   to.Ptr(armcontainerservice.AgentPoolModeSystem),
			}},
		},
	}
}

// responseError checks that err is an ARM error with the given status and code.
func responseError(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%s: got %T %v, want *azcore.ResponseError %d %s", what, err, err, status, code)
	}
	if re.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("%s: got %d %q, want %d %q\n%v", what, re.StatusCode, re.ErrorCode, status, code, err)
	}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// TestManagedClusterLifecycle drives one cluster through the official Go client
// armcontainerservice/v6: create (LRO), get, both list pagers, Kubernetes versions, user
// credentials that reach the cluster, scaling through the agent pools client (LRO), delete
// (LRO) and the 404 afterwards.
func TestManagedClusterLifecycle(t *testing.T) {
	ctx := context.Background()
	const rg, name = "compat-rg", "compat-aks"
	if _, err := server.Client(t).CreateResourceGroup(ctx, rg, "westus", nil); err != nil {
		t.Fatal(err)
	}
	f := clientFactory(t)
	mcs := f.NewManagedClustersClient()
	pools := f.NewAgentPoolsClient()

	// Create.
	start := time.Now()
	poller, err := mcs.BeginCreateOrUpdate(ctx, rg, name, newCluster("compataks", nil), nil)
	created := pollDone(ctx, t, "create", poller, err)
	t.Logf("create: %v", time.Since(start).Round(time.Millisecond))
	if created.Properties == nil {
		t.Fatalf("create result has no properties: %+v", created.ManagedCluster)
	}
	p := created.Properties
	if p.ProvisioningState == nil || *p.ProvisioningState != "Succeeded" {
		t.Errorf("provisioningState after create = %s, want Succeeded", str(p.ProvisioningState))
	}
	if p.CurrentKubernetesVersion == nil || *p.CurrentKubernetesVersion == "" {
		t.Errorf("currentKubernetesVersion not set after create")
	}
	if str(created.Name) != name || !strings.EqualFold(str(created.Type), "Microsoft.ContainerService/managedClusters") {
		t.Errorf("create result name %s type %s", str(created.Name), str(created.Type))
	}
	t.Logf("cluster %s: id %s, version %s, fqdn %s", str(created.Name), str(created.ID), str(p.CurrentKubernetesVersion), str(p.Fqdn))

	// Get.
	got, err := mcs.Get(ctx, rg, name, nil)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Properties == nil || str(got.Properties.ProvisioningState) != "Succeeded" || str(got.Properties.DNSPrefix) != "compataks" {
		t.Errorf("Get: %+v", got.Properties)
	}
	if str(got.ID) != str(created.ID) {
		t.Errorf("Get id %s, create id %s", str(got.ID), str(created.ID))
	}
	if n := len(got.Properties.AgentPoolProfiles); n != 1 {
		t.Fatalf("Get: %d agent pools, want 1", n)
	}
	ap := got.Properties.AgentPoolProfiles[0]
	if str(ap.Name) != "nodepool1" || ap.Count == nil || *ap.Count != 1 || str(ap.VMSize) != "Standard_D2_v2" ||
		ap.Mode == nil || *ap.Mode != armcontainerservice.AgentPoolModeSystem {
		t.Errorf("Get: agent pool %s count %v vmSize %s mode %v", str(ap.Name), ap.Count, str(ap.VMSize), ap.Mode)
	}

	// List, subscription-wide and per resource group.
	find := func(what string, more func() bool, next func() ([]*armcontainerservice.ManagedCluster, error)) {
		t.Helper()
		found := false
		for more() {
			page, err := next()
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			for _, mc := range page {
				if mc != nil && str(mc.ID) == str(created.ID) {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s: %s not listed", what, str(created.ID))
		}
	}
	all := mcs.NewListPager(nil)
	find("NewListPager", all.More, func() ([]*armcontainerservice.ManagedCluster, error) {
		r, err := all.NextPage(ctx)
		return r.Value, err
	})
	byRG := mcs.NewListByResourceGroupPager(rg, nil)
	find("NewListByResourceGroupPager", byRG.More, func() ([]*armcontainerservice.ManagedCluster, error) {
		r, err := byRG.NextPage(ctx)
		return r.Value, err
	})

	// Kubernetes versions.
	versions, err := mcs.ListKubernetesVersions(ctx, "westus", nil)
	if err != nil {
		t.Fatalf("ListKubernetesVersions: %v", err)
	}
	defaults, patches := 0, 0
	for _, v := range versions.Values {
		if v == nil {
			continue
		}
		if v.IsDefault != nil && *v.IsDefault {
			defaults++
		}
		patches += len(v.PatchVersions)
	}
	if len(versions.Values) == 0 || defaults != 1 || patches == 0 {
		t.Errorf("ListKubernetesVersions: %d versions, %d default, %d patch versions", len(versions.Values), defaults, patches)
	}

	// User credentials reach the cluster.
	creds, err := mcs.ListClusterUserCredentials(ctx, rg, name, nil)
	if err != nil {
		t.Fatalf("ListClusterUserCredentials: %v", err)
	}
	if len(creds.Kubeconfigs) == 0 || creds.Kubeconfigs[0] == nil || len(creds.Kubeconfigs[0].Value) == 0 {
		t.Fatalf("ListClusterUserCredentials: no kubeconfig: %+v", creds.Kubeconfigs)
	}
	rc, err := clientcmd.RESTConfigFromKubeConfig(creds.Kubeconfigs[0].Value)
	if err != nil {
		t.Fatalf("user kubeconfig %q: %v", str(creds.Kubeconfigs[0].Name), err)
	}
	rc.Timeout = 10 * time.Second
	kc, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := kc.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("GET /version with the user kubeconfig: %v", err)
	}
	if sv.GitVersion != "v"+str(p.CurrentKubernetesVersion) {
		t.Errorf("GET /version says %s, the resource says %s", sv.GitVersion, str(p.CurrentKubernetesVersion))
	}

	// Scale the pool to 2 through the agent pools client, If-Match the pool's eTag as read
	// (properties.eTag in the model).
	before, err := pools.Get(ctx, rg, name, "nodepool1", nil)
	if err != nil || before.Properties == nil || before.Properties.ETag == nil || *before.Properties.ETag == "" {
		t.Fatalf("AgentPools.Get before scale: %v; want properties.eTag in the model", err)
	}
	scaleTo := func(n int32) armcontainerservice.AgentPool {
		return armcontainerservice.AgentPool{Properties: &armcontainerservice.ManagedClusterAgentPoolProfileProperties{
			Count: to.Ptr(n), VMSize: to.Ptr("Standard_D2_v2"), Mode: to.Ptr(armcontainerservice.AgentPoolModeSystem)}}
	}
	start = time.Now()
	scale, err := pools.BeginCreateOrUpdate(ctx, rg, name, "nodepool1", scaleTo(2),
		&armcontainerservice.AgentPoolsClientBeginCreateOrUpdateOptions{IfMatch: before.Properties.ETag})
	scaled := pollDone(ctx, t, "scale", scale, err)
	_, err = pools.BeginCreateOrUpdate(ctx, rg, name, "nodepool1", scaleTo(3),
		&armcontainerservice.AgentPoolsClientBeginCreateOrUpdateOptions{IfMatch: before.Properties.ETag})
	responseError(t, "scale with a stale IfMatch", err, http.StatusPreconditionFailed, "PreconditionFailed")
	t.Logf("scale to 2: %v", time.Since(start).Round(time.Millisecond))
	if scaled.Properties == nil || scaled.Properties.Count == nil || *scaled.Properties.Count != 2 {
		t.Errorf("scale result: %+v", scaled.Properties)
	}
	pool, err := pools.Get(ctx, rg, name, "nodepool1", nil)
	if err != nil {
		t.Fatalf("AgentPools.Get: %v", err)
	}
	if pool.Properties == nil || pool.Properties.Count == nil || *pool.Properties.Count != 2 {
		t.Errorf("AgentPools.Get after scale: %+v", pool.Properties)
	} else if str(pool.Properties.ProvisioningState) != "Succeeded" {
		t.Errorf("AgentPools.Get after scale: provisioningState %s", str(pool.Properties.ProvisioningState))
	}

	// Tags through BeginUpdateTags (PATCH, an LRO the server may end at once): the set sent
	// replaces the cluster's, and the pool keeps its count. The model's ETag (the body's
	// eTag) feeds IfMatch; once the update has changed the cluster it is stale.
	read, err := mcs.Get(ctx, rg, name, nil)
	if err != nil || read.ETag == nil || *read.ETag == "" {
		t.Fatalf("Get before BeginUpdateTags: ETag %v, %v; want the cluster's eTag in the model", read.ETag, err)
	}
	tagged, err := mcs.BeginUpdateTags(ctx, rg, name, armcontainerservice.TagsObject{Tags: map[string]*string{"team": to.Ptr("ml")}},
		&armcontainerservice.ManagedClustersClientBeginUpdateTagsOptions{IfMatch: read.ETag})
	updated := pollDone(ctx, t, "update tags", tagged, err)
	if updated.ETag == nil || *updated.ETag == *read.ETag {
		t.Errorf("BeginUpdateTags result ETag %v, want a new one after %s", updated.ETag, *read.ETag)
	}
	_, err = mcs.BeginUpdateTags(ctx, rg, name, armcontainerservice.TagsObject{Tags: map[string]*string{"team": to.Ptr("qa")}},
		&armcontainerservice.ManagedClustersClientBeginUpdateTagsOptions{IfMatch: read.ETag})
	responseError(t, "BeginUpdateTags with a stale IfMatch", err, http.StatusPreconditionFailed, "PreconditionFailed")
	if len(updated.Tags) != 1 || str(updated.Tags["team"]) != "ml" {
		t.Errorf("BeginUpdateTags result tags = %v, want team=ml", updated.Tags)
	}
	got, err = mcs.Get(ctx, rg, name, nil)
	if err != nil {
		t.Fatalf("Get after BeginUpdateTags: %v", err)
	}
	if str(got.Tags["team"]) != "ml" || got.Properties == nil || len(got.Properties.AgentPoolProfiles) != 1 ||
		got.Properties.AgentPoolProfiles[0].Count == nil || *got.Properties.AgentPoolProfiles[0].Count != 2 {
		t.Errorf("Get after BeginUpdateTags: tags %v, properties %+v", got.Tags, got.Properties)
	}

	// Delete.
	start = time.Now()
	del, err := mcs.BeginDelete(ctx, rg, name, nil)
	pollDone(ctx, t, "delete", del, err)
	t.Logf("delete: %v", time.Since(start).Round(time.Millisecond))
	_, err = mcs.Get(ctx, rg, name, nil)
	responseError(t, "Get after delete", err, http.StatusNotFound, "ResourceNotFound")
}

// TestUnsupportedKubernetesVersion: a create the server rejects up front is a plain
// *azcore.ResponseError from BeginCreateOrUpdate, and leaves no cluster behind.
func TestUnsupportedKubernetesVersion(t *testing.T) {
	ctx := context.Background()
	const rg, name = "compat-err-rg", "compat-old"
	if _, err := server.Client(t).CreateResourceGroup(ctx, rg, "westus", nil); err != nil {
		t.Fatal(err)
	}
	mcs := clientFactory(t).NewManagedClustersClient()
	poller, err := mcs.BeginCreateOrUpdate(ctx, rg, name, newCluster("compatold", to.Ptr("1.19.0")), nil)
	if err == nil {
		// Not expected; see what the poller ends with so the report is precise.
		_, perr := poller.PollUntilDone(ctx, fast)
		t.Fatalf("BeginCreateOrUpdate with kubernetesVersion 1.19.0 succeeded (poller ended with %v)", perr)
	}
	responseError(t, "create with kubernetesVersion 1.19.0", err, http.StatusBadRequest, "UnsupportedKubernetesVersion")
	_, err = mcs.Get(ctx, rg, name, nil)
	responseError(t, "Get after rejected create", err, http.StatusNotFound, "ResourceNotFound")
}
