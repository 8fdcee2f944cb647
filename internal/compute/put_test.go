package compute

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/auth"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/workspaces"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

const testSub = "00000000-0000-0000-0000-0000000000aa"

// putHarness is a compute service over a real SQLite store, with resource group rg and
// workspaces ws1 and ws2 in westus. Its clusters are of the external provider, which
// reaches nothing, and its operation engine never starts, so what a PUT submits stays
// InProgress: enough for everything a PUT decides on its request path.
type putHarness struct {
	stack *servicetest.Stack
	st    store.Store
	s     *Service
}

func newPutHarness(t *testing.T) *putHarness {
	t.Helper()
	st := servicetest.New(t, testSub, nil)
	st.Group(t, "rg")
	st.Workspace(t, "rg", "ws1")
	st.Workspace(t, "rg", "ws2")
	s := New(Config{Store: st.Store, Engine: st.Engine, Resources: st.Resources, Workspaces: st.Workspaces, Clusters: st.Clusters, Secrets: st.Secrets})
	return &putHarness{stack: st, st: st.Store, s: s}
}

// cluster stores a managed cluster of the external provider as a finished create leaves it.
func (h *putHarness) cluster(t *testing.T, name string) string {
	t.Helper()
	id := containerservice.ID(testSub, "rg", name)
	mc := &armapi.ManagedCluster{ID: id, Name: name, Type: containerservice.TypeManagedCluster, Location: "westus", Tags: map[string]string{}}
	p := &mc.Properties
	p.ProvisioningState, p.KubernetesVersion, p.CurrentKubernetesVersion = armapi.StateSucceeded, "1.36.3", "1.36.3"
	p.AgentPoolProfiles = []armapi.AgentPoolProfile{{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{Count: 1, VMSize: "Standard_D3_v2",
		Mode: "System", OSType: "Linux", OrchestratorVersion: "1.36.3", ProvisioningState: armapi.StateSucceeded}}}
	p.Mlfleet.Provider = "external"
	body, _ := json.Marshal(mc)
	if err := h.st.CreateResource(context.Background(), &store.Resource{ID: id, ParentID: "/subscriptions/" + testSub + "/resourceGroups/rg",
		Type: containerservice.TypeManagedCluster, Name: name, SubscriptionID: testSub, ResourceGroup: "rg", Location: "westus", Body: body}); err != nil {
		t.Fatal(err)
	}
	return id
}

// put PUTs the compute body (JSON) as name in workspace ws.
func (h *putHarness) put(t *testing.T, ws, name, body string, opts Options) (*Result, error) {
	t.Helper()
	var in armapi.Compute
	if err := json.Unmarshal([]byte(body), &in); err != nil {
		t.Fatal(err)
	}
	return h.s.Put(context.Background(), testSub, "rg", ws, name, in, opts)
}

func armError(t *testing.T, err error) *arm.Error {
	t.Helper()
	var ae *arm.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an ARM error", err, err)
	}
	return ae
}

// TestAttachDryRunChecksRegionName: an attach dry run refuses a compute name used in the
// cluster's region by another workspace, as the real attach does (S4, B1), and a name
// free there passes that check.
func TestAttachDryRunChecksRegionName(t *testing.T) {
	t.Parallel()
	h := newPutHarness(t)
	ctx := context.Background()
	// Compute infq of ws1 holds its name in westus, as insert leaves it (a create would need
	// the embedded provider, which this package's tests do not link).
	body, _ := json.Marshal(claim{ComputeID: ID(testSub, "rg", "ws1", "infq")})
	if err := h.st.CreateResource(ctx, &store.Resource{ID: nameClaimID("westus", "infq"), Type: typeNameClaim, Name: "infq", Location: "westus",
		Body: body, OwnerID: ID(testSub, "rg", "ws1", "infq")}); err != nil {
		t.Fatal(err)
	}
	id := h.cluster(t, "free1")
	attach := `{"properties":{"computeType":"AKS","resourceId":"` + id + `","properties":{"clusterPurpose":"DevTest"}}}`
	for _, opts := range []Options{{ValidateOnly: true}, {ValidateOnly: true, Force: true}, {}} {
		_, err := h.put(t, "ws2", "INFQ", attach, opts)
		ae := armError(t, err)
		// The cluster is unreachable too, so both are reported, in one 400 (B1).
		if ae.Status != http.StatusBadRequest || !strings.Contains(ae.Error(), "Compute name 'INFQ' is already used in region westus by workspace 'ws1'") {
			t.Errorf("attach INFQ %+v = %d %v, want 400 naming the name used in westus", opts, ae.Status, ae)
		}
	}
	// A free name: only the unreachable cluster is reported.
	_, err := h.put(t, "ws2", "other", attach, Options{ValidateOnly: true})
	if ae := armError(t, err); strings.Contains(ae.Error(), "already used") || !strings.Contains(ae.Error(), "cannot be reached") {
		t.Errorf("attach of a free name = %v, want only the unreachable cluster", ae)
	}
	if _, err := h.st.GetResource(ctx, ID(testSub, "rg", "ws2", "INFQ")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused attach stored a compute: %v", err)
	}
	// The compute that holds the claim passes (its install step checks again, and a failed
	// compute is replaced under its own claim).
	l := &checkList{}
	if err := h.s.checkNameFree(ctx, "westus", ID(testSub, "rg", "ws1", "InfQ"), l); err != nil || len(l.errs) != 0 {
		t.Errorf("name check of the claim's own compute = %v %v, want it passed", err, l.errs)
	}
}

// TestPutEmptyResourceID: a resourceId that is empty (a script's unset variable) is a 400
// naming the field, for a PUT and its dry run alike, and nothing is created; without
// resourceId the PUT stays a create.
func TestPutEmptyResourceID(t *testing.T) {
	t.Parallel()
	h := newPutHarness(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		body string
		opts Options
	}{
		{"empty", `{"properties":{"computeType":"AKS","resourceId":""}}`, Options{}},
		{"blank", `{"properties":{"computeType":"AKS","resourceId":"  "}}`, Options{}},
		{"empty dry run", `{"properties":{"computeType":"AKS","resourceId":""}}`, Options{ValidateOnly: true}},
		{"empty with settings", `{"properties":{"computeType":"AKS","resourceId":"","properties":{"clusterPurpose":"DevTest","agentCount":1}}}`, Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := h.put(t, "ws1", "atx1", tc.body, tc.opts)
			if err == nil {
				t.Fatalf("PUT = %+v, want 400 on properties.resourceId", res)
			}
			ae := armError(t, err)
			if ae.Status != http.StatusBadRequest || ae.Code != arm.CodeUserError || ae.Target != "properties.resourceId" ||
				!strings.Contains(ae.Message, "leave resourceId out to create") {
				t.Errorf("PUT = %d %s target %q: %s; want 400 UserError on properties.resourceId", ae.Status, ae.Code, ae.Target, ae.Message)
			}
		})
	}
	if _, err := h.st.GetResource(ctx, ID(testSub, "rg", "ws1", "atx1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused PUT stored a compute: %v", err)
	}
	if _, err := h.st.GetResource(ctx, containerservice.ID(testSub, "rg", "atx1")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused PUT reserved a cluster: %v", err)
	}
}

// TestAttachNeedsAccessToTheCluster: an attach hands the compute's users the cluster's
// admin kubeconfig, so the caller must be allowed to read the cluster and list its admin
// credentials; a Contributor of the workspace alone is refused with a 403, for an existing
// cluster and a missing one alike (a 404 would tell it which clusters exist), for the dry run
// too, and nothing is stored. A caller with rights on the cluster's group gets past it.
func TestAttachNeedsAccessToTheCluster(t *testing.T) {
	t.Parallel()
	h := newPutHarness(t)
	ctx := context.Background()
	workspaceOnly := h.stack.Caller(t, auth.RoleContributor, workspaces.ID(testSub, "rg", "ws1"))
	groupContributor := h.stack.Caller(t, auth.RoleContributor, "/subscriptions/"+testSub+"/resourceGroups/rg")
	existing := h.cluster(t, "guarded")
	missing := containerservice.ID(testSub, "rg", "nosuch")
	attach := func(ctx context.Context, clusterID string, opts Options) error {
		var in armapi.Compute
		_ = json.Unmarshal([]byte(`{"properties":{"computeType":"AKS","resourceId":"`+clusterID+`","properties":{"clusterPurpose":"DevTest"}}}`), &in)
		_, err := h.s.Put(ctx, testSub, "rg", "ws1", "taken", in, opts)
		return err
	}
	for _, id := range []string{existing, missing} {
		for _, opts := range []Options{{}, {ValidateOnly: true}, {Force: true}} {
			ae := armError(t, attach(workspaceOnly, id, opts))
			if ae.Status != http.StatusForbidden || ae.Code != arm.CodeAuthorizationFailed || !strings.Contains(ae.Message, "managedClusters/read") {
				t.Errorf("attach of %s %+v by a Contributor of the workspace = %v, want 403 on managedClusters/read", id, opts, ae)
			}
		}
	}
	if _, err := h.st.GetResource(ctx, ID(testSub, "rg", "ws1", "taken")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused attach stored a compute: %v", err)
	}
	// The group's Contributor passes the access check; the unreachable cluster of this
	// harness is what stops it then.
	if ae := armError(t, attach(groupContributor, existing, Options{ValidateOnly: true})); ae.Status == http.StatusForbidden {
		t.Errorf("attach by a Contributor of the cluster's group = %v, want past the access check", ae)
	}
	// A forced attach detaches the compute holding the cluster: a caller allowed the cluster
	// but not that compute is refused.
	holder := ID(testSub, "rg", "ws2", "holder")
	body, _ := json.Marshal(claim{ComputeID: holder})
	if err := h.st.CreateResource(ctx, &store.Resource{ID: attachmentClaimID(existing), ParentID: existing, Type: typeAttachment, Name: "current",
		SubscriptionID: testSub, ResourceGroup: "rg", Body: body, OwnerID: holder}); err != nil {
		t.Fatal(err)
	}
	clusterAndWorkspace := h.stack.Caller(t, auth.RoleContributor, workspaces.ID(testSub, "rg", "ws1"), existing)
	if ae := armError(t, attach(clusterAndWorkspace, existing, Options{Force: true})); ae.Status != http.StatusForbidden || !strings.Contains(ae.Message, "computes/delete") {
		t.Errorf("forced attach by a caller that may not detach the holder = %v, want 403 on computes/delete", ae)
	}
}

// TestAttachMalformedSubscription: a resourceId whose subscription is not a GUID
// ("/subscriptions/x/…", a pasted placeholder) is a 400 InvalidSubscriptionId on
// properties.resourceId saying the id is malformed, as ARM says of such a path, for a PUT and
// its dry run alike, and for a caller with no rights on any cluster too (there is no such
// cluster to keep secret); a well-formed id of another subscription is still
// ClusterInAnotherSubscription.
func TestAttachMalformedSubscription(t *testing.T) {
	t.Parallel()
	h := newPutHarness(t)
	workspaceOnly := h.stack.Caller(t, auth.RoleContributor, workspaces.ID(testSub, "rg", "ws1"))
	attach := func(ctx context.Context, clusterID string, opts Options) *arm.Error {
		t.Helper()
		var in armapi.Compute
		_ = json.Unmarshal([]byte(`{"properties":{"computeType":"AKS","resourceId":"`+clusterID+`","properties":{"clusterPurpose":"DevTest"}}}`), &in)
		res, err := h.s.Put(ctx, testSub, "rg", "ws1", "comp2", in, opts)
		if err == nil {
			t.Fatalf("attach of %s = %+v, want a 400", clusterID, res)
		}
		return armError(t, err)
	}
	malformed := containerservice.ID("x", "rg", "nope")
	for _, tc := range []struct {
		name string
		ctx  context.Context
		opts Options
	}{
		{"put", context.Background(), Options{}},
		{"dry run", context.Background(), Options{ValidateOnly: true}},
		{"workspace contributor", workspaceOnly, Options{ValidateOnly: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ae := attach(tc.ctx, malformed, tc.opts)
			msg, codes := ae.Error(), ""
			for _, d := range ae.Details {
				codes += d.Code + " "
			}
			if ae.Status != http.StatusBadRequest || codes != arm.CodeInvalidSubscriptionID+" " || ae.Details[0].Target != "properties.resourceId" ||
				!strings.Contains(msg, "The provided subscription identifier 'x' is malformed or invalid: a subscription id is a GUID") ||
				!strings.Contains(msg, "mlfleet account show --query id -o tsv") || strings.Contains(msg, "ClusterInAnotherSubscription") {
				t.Errorf("attach of %s = %d %v (details %s); want 400 InvalidSubscriptionId saying 'x' is not a GUID", malformed, ae.Status, ae, codes)
			}
		})
	}
	other := containerservice.ID("00000000-0000-0000-0000-0000000000bb", "rg", "nope")
	if ae := attach(context.Background(), other, Options{ValidateOnly: true}); len(ae.Details) != 1 || ae.Details[0].Code != "ClusterInAnotherSubscription" {
		t.Errorf("attach of %s = %v; want ClusterInAnotherSubscription", other, ae)
	}
}

// TestTrailingDashName: a compute name ending in '-' is refused by the name check, a dry
// run and a create, each naming the compute name the user typed (az ml's rule: a letter
// or digit last), not the cluster name derived from it (F-NAME1).
func TestTrailingDashName(t *testing.T) {
	t.Parallel()
	h := newPutHarness(t)
	const want = "Compute name 'trail-' is invalid: use 3 to 24 letters, digits or '-', starting with a letter and ending with a letter or digit."
	got, err := h.s.CheckName(context.Background(), testSub, "rg", "ws1", "trail-", "")
	if err != nil || got.NameAvailable || got.Reason != "Invalid" || got.Message != want {
		t.Errorf("check name trail- = %+v %v, want Invalid: %q", got, err, want)
	}
	create := `{"properties":{"computeType":"AKS","properties":{"clusterPurpose":"DevTest","agentCount":1}}}`
	attach := `{"properties":{"computeType":"AKS","resourceId":"` + h.cluster(t, "trailc") + `","properties":{"clusterPurpose":"DevTest"}}}`
	for _, body := range []string{create, attach} {
		for _, opts := range []Options{{ValidateOnly: true}, {}} {
			_, err := h.put(t, "ws1", "trail-", body, opts)
			if ae := armError(t, err); ae.Status != http.StatusBadRequest || ae.Code != arm.CodeInvalidResourceName || ae.Message != want || len(ae.Details) != 0 {
				t.Errorf("PUT trail- %+v = %d %s %q (%d details), want 400 %s %q", opts, ae.Status, ae.Code, ae.Message, len(ae.Details), arm.CodeInvalidResourceName, want)
			}
		}
	}
}
