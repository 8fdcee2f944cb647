package endpoints

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/containerservice"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/mlassets"
	"github.com/mlfleet/mlfleet/internal/servicetest"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// workspaceStack is the services' stack of subscription sub over a real SQLite store, with
// group rg and its workspace ws.
func workspaceStack(t *testing.T, sub, rg, ws string) (*servicetest.Stack, *armapi.Workspace) {
	t.Helper()
	stack := servicetest.New(t, sub, nil)
	stack.Group(t, rg)
	return stack, stack.Workspace(t, rg, ws)
}

// wire makes the compute, endpoint and asset services over stack as the server wires them,
// computes asking the endpoints what runs on them. The engine is never started: operations
// stay as submitted.
func wire(t *testing.T, stack *servicetest.Stack) (*compute.Service, *Service, *mlassets.Service) {
	var eps *Service
	computes := compute.New(compute.Config{Store: stack.Store, Engine: stack.Engine, Resources: stack.Resources, Workspaces: stack.Workspaces,
		Clusters: stack.Clusters, Secrets: stack.Secrets,
		InUse: func(ctx context.Context, st store.Store, id string) ([]string, error) {
			return eps.ComputeUsers(ctx, st, id)
		},
		DeploymentsFit: func(ctx context.Context, id string, next *armapi.ManagedCluster) error {
			return eps.ComputeFits(ctx, id, next)
		}})
	assets := mlassets.New(mlassets.Config{Store: stack.Store, Resources: stack.Resources, Workspaces: stack.Workspaces})
	eps = New(Config{Store: stack.Store, Engine: stack.Engine, Resources: stack.Resources, Workspaces: stack.Workspaces, Computes: computes,
		Clusters: stack.Clusters, Assets: assets, Secrets: stack.Secrets, Home: t.TempDir()})
	return computes, eps, assets
}

// TestComputeInUseRefusesDetach: detaching or deleting a compute that online deployments
// run on is a 409 naming them, and the compute stays as it was; once they are gone, or for
// a compute nothing runs on, the detach starts. The services are wired as the server wires
// them, over a real SQLite store; the compute, endpoint and deployment are stored as their
// operations leave them (the engine never starts).
func TestComputeInUseRefusesDetach(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub, rg, ws = "00000000-0000-0000-0000-0000000000bb", "rg", "wsqa"
	stack, w := workspaceStack(t, sub, rg, ws)
	st := stack.Store
	computes, _, _ := wire(t, stack)

	row := func(id, parent, typ, name string, body []byte) {
		t.Helper()
		if err := st.CreateResource(ctx, &store.Resource{ID: id, ParentID: parent, Type: typ, Name: name, SubscriptionID: sub, ResourceGroup: rg,
			Location: "westus", Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	addCompute := func(name string) string {
		id := compute.ID(sub, rg, ws, name)
		c := armapi.Compute{ID: id, Name: name, Type: compute.TypeCompute, Location: "westus", Properties: armapi.ComputeProperties{
			ComputeType: "AKS", ComputeLocation: "westus", ProvisioningState: armapi.StateSucceeded,
			Mlfleet: &armapi.ComputeMlfleet{Conditions: []armapi.Condition{}, Attached: true, CreatedCluster: true}}}
		body, _ := json.Marshal(c)
		row(id, w.ID, compute.TypeCompute, name, body)
		return id
	}
	infq := addCompute("infq")
	addCompute("other")
	epID := EndpointID(sub, rg, ws, "ep-qa")
	row(epID, w.ID, TypeEndpoint, "ep-qa", encode(&armapi.OnlineEndpoint{ID: epID, Name: "ep-qa", Type: TypeEndpoint, Location: "westus",
		Properties: armapi.OnlineEndpointProperties{Compute: infq, ProvisioningState: armapi.StateSucceeded}}))
	for _, name := range []string{"blue", "green"} {
		id := DeploymentID(sub, rg, ws, "ep-qa", name)
		row(id, epID, TypeDeployment, name, encode(&armapi.OnlineDeployment{ID: id, Name: name, Type: TypeDeployment, Location: "westus",
			Properties: armapi.OnlineDeploymentProperties{Compute: infq, ProvisioningState: armapi.StateSucceeded}}))
	}

	// refused checks that neither detaching nor deleting infq (what, in failures) starts an
	// operation: each answers 409 with a message holding every one of want.
	refused := func(what string, want ...string) {
		t.Helper()
		for _, action := range []string{"Detach", "Delete"} {
			op, err := computes.Delete(ctx, sub, rg, ws, "infq", action, arm.Preconditions{})
			var ae *arm.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusConflict {
				t.Fatalf("%s of %s started an operation (%v) or answered %v; want 409", action, what, op != nil, err)
			}
			for _, w := range want {
				if !strings.Contains(ae.Message, w) {
					t.Fatalf("%s of %s answered %q; want it to hold %q", action, what, ae.Message, w)
				}
			}
		}
	}
	refused("a compute in use",
		"deployment 'blue' of endpoint 'ep-qa', deployment 'green' of endpoint 'ep-qa'", "Delete them, or move them to another compute")
	if c, err := computes.Get(ctx, sub, rg, ws, "infq"); err != nil || c.Properties.ProvisioningState != armapi.StateSucceeded {
		t.Fatalf("compute after the refused detach: %+v, %v; want it Succeeded", c, err)
	}
	if op, err := computes.Delete(ctx, sub, rg, ws, "other", "Detach", arm.Preconditions{}); err != nil || op == nil {
		t.Fatalf("detach of a compute nothing runs on = %v, %v; want an operation", op, err)
	}
	for _, name := range []string{"blue", "green"} {
		if err := st.DeleteResource(ctx, DeploymentID(sub, rg, ws, "ep-qa", name), 0); err != nil {
			t.Fatal(err)
		}
	}
	// The endpoint, with no deployment left, still has the compute as its own: its scoring
	// URI is served there, and its next deployment goes there.
	refused("the compute of an endpoint with no deployments",
		"Compute 'infq' is used by online endpoint 'ep-qa'.", "'mlfleet ml online-endpoint update -f'")
	if err := st.DeleteResource(ctx, epID, 0); err != nil {
		t.Fatal(err)
	}
	if op, err := computes.Delete(ctx, sub, rg, ws, "infq", "Detach", arm.Preconditions{}); err != nil || op == nil {
		t.Fatalf("detach once its deployments and endpoint are gone = %v, %v; want an operation", op, err)
	}
}

// TestDeploymentAssetsOfItsWorkspace: a deployment refers to the environment (model, code)
// of its own workspace; one of another workspace, which the caller's rights on this one do
// not cover, is a 400 naming the field, while the same asset registered here passes that
// check.
func TestDeploymentAssetsOfItsWorkspace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub, rg = "00000000-0000-0000-0000-0000000000cc", "rg"
	stack := servicetest.New(t, sub, nil)
	stack.Group(t, rg)
	stack.Workspace(t, rg, "wsa")
	stack.Workspace(t, rg, "wsb")
	_, eps, assets := wire(t, stack)
	env := armapi.AssetVersion{Properties: armapi.AssetVersionProperties{Image: "python:3.12"}}
	for _, ws := range []string{"wsa", "wsb"} {
		if _, _, err := assets.Put(ctx, mlassets.Environments, sub, rg, ws, "env", "1", env, mlassets.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := eps.PutEndpoint(ctx, sub, rg, "wsb", "ep-b", armapi.OnlineEndpoint{Location: "westus"}, Options{}); err != nil {
		t.Fatal(err)
	}
	problem := func(envWorkspace string) *arm.Error {
		t.Helper()
		in := armapi.OnlineDeployment{Location: "westus", Properties: armapi.OnlineDeploymentProperties{
			EnvironmentID: mlassets.VersionID(sub, rg, envWorkspace, mlassets.Environments, "env", "1")}}
		_, err := eps.PutDeployment(ctx, sub, rg, "wsb", "ep-b", "blue", in, Options{})
		var ae *arm.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
			t.Fatalf("deployment with the environment of %s: %v, want a 400 (it has no compute either)", envWorkspace, err)
		}
		for _, d := range ae.Details {
			if d.Target == "properties.environmentId" {
				return d
			}
		}
		return nil
	}
	if d := problem("wsa"); d == nil || !strings.Contains(d.Message, "another workspace") {
		t.Errorf("environment of another workspace: %v, want a problem on properties.environmentId saying so", d)
	}
	if d := problem("wsb"); d != nil {
		t.Errorf("environment of its own workspace: %v, want no problem on it", d)
	}
}

// TestComputeUsersCountsFormerComputes: a deployment moved off a compute still uses it
// until its update removed the old instances there (formerComputes), so that a detach
// does not cut the way to them; the compute it runs on is used too, and one it never ran
// on is not.
func TestComputeUsersCountsFormerComputes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const sub, rg, ws = "00000000-0000-0000-0000-0000000000dd", "rg", "wsmove"
	stack, w := workspaceStack(t, sub, rg, ws)
	_, eps, _ := wire(t, stack)
	fp1, cff, idle := compute.ID(sub, rg, ws, "fp1"), compute.ID(sub, rg, ws, "cff"), compute.ID(sub, rg, ws, "idle")
	epID := EndpointID(sub, rg, ws, "epm")
	id := DeploymentID(sub, rg, ws, "epm", "blue")
	for _, r := range []*store.Resource{
		{ID: epID, ParentID: w.ID, Type: TypeEndpoint, Name: "epm", Body: encode(&armapi.OnlineEndpoint{ID: epID, Name: "epm", Type: TypeEndpoint})},
		{ID: id, ParentID: epID, Type: TypeDeployment, Name: "blue", Body: encode(&armapi.OnlineDeployment{ID: id, Name: "blue", Type: TypeDeployment,
			Properties: armapi.OnlineDeploymentProperties{Compute: cff, ProvisioningState: armapi.StateUpdating,
				Mlfleet: &armapi.OnlineDeploymentMlfleet{FormerComputes: []string{strings.ToUpper(fp1)}}}})},
	} {
		r.SubscriptionID, r.ResourceGroup, r.Location = sub, rg, "westus"
		if err := stack.Store.CreateResource(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		compute string
		want    string
	}{
		{fp1, "deployment 'blue' of endpoint 'epm'"},
		{cff, "deployment 'blue' of endpoint 'epm'"},
		{idle, ""},
	} {
		users, err := eps.ComputeUsers(ctx, stack.Store, tc.compute)
		if err != nil || strings.Join(users, ", ") != tc.want {
			t.Errorf("ComputeUsers(%s) = %q, %v; want %q", tc.compute, users, err, tc.want)
		}
	}
}

// TestDeleteRacesDeploymentCreate: a delete that refuses while a deployment or an
// endpoint uses what it deletes (a compute's detach, its cluster's delete, an environment
// version's delete) and a create of a deployment or of an endpoint on the compute are one
// after the other, however they interleave: exactly one of them wins, and nothing is
// stored on a compute or cluster being deleted or with a version that is gone. Failpoint hooks make each
// interleaving a sequence of steps:
//
//   - checked: the create is held after its checks, before its transaction; the delete
//     runs whole in that window, then the create goes on and must find the delete;
//   - committing: the create is held in its transaction, before its commit; the delete
//     starts, and once it waits for the create's lock (or has answered) the create
//     commits, and the delete must find the deployment. PostgreSQL only: on SQLite a
//     process runs one transaction at a time, so the delete cannot read anything until the
//     create has committed, and there is no window to test.
//
// On each store dialect; the services are wired as the server wires them, the compute's
// cluster is a fake clientset for the capacity check, and the engine never starts.
//
// Not parallel: hooks are process-wide.
func TestDeleteRacesDeploymentCreate(t *testing.T) {
	const sub, rg, ws = "00000000-0000-0000-0000-0000000000ee", "rg", "wsrace"
	computeID := compute.ID(sub, rg, ws, "infr")
	clusterID := containerservice.ID(sub, rg, "aksr")
	envID := mlassets.VersionID(sub, rg, ws, mlassets.Environments, "env", "1")
	type services struct {
		computes *compute.Service
		eps      *Service
		assets   *mlassets.Service
		clusters *containerservice.Service
		st       store.Store
	}
	deletes := []struct {
		name string
		// del deletes, and reports whether it started or did the delete.
		del func(ctx context.Context, s services) (bool, error)
		// lostStatus and lost are what the create answers when the delete went first.
		lostStatus int
		lost       string
		// deploymentOnly: only a deployment uses it (an environment version).
		deploymentOnly bool
	}{
		{name: "compute detach", lostStatus: http.StatusConflict, lost: "Compute 'infr' is being detached or deleted",
			del: func(ctx context.Context, s services) (bool, error) {
				op, err := s.computes.Delete(ctx, sub, rg, ws, "infr", "Detach", arm.Preconditions{})
				return op != nil, err
			}},
		{name: "cluster delete", lostStatus: http.StatusConflict, lost: "Cluster 'aksr' of compute 'infr' is being deleted",
			del: func(ctx context.Context, s services) (bool, error) {
				op, err := s.clusters.Delete(ctx, sub, rg, "aksr", arm.Preconditions{})
				return op != nil, err
			}},
		{name: "environment delete", lostStatus: http.StatusBadRequest, lost: "properties.environmentId", deploymentOnly: true,
			del: func(ctx context.Context, s services) (bool, error) {
				return s.assets.Delete(ctx, mlassets.Environments, sub, rg, ws, "env", "1", arm.Preconditions{})
			}},
	}
	creates := []struct {
		name string
		// checked is the failpoint after the create's checks; rowType the type of the row
		// it stores; id the row's id when named name; user how a delete names it.
		checked, rowType string
		id, user         func(name string) string
		put              func(ctx context.Context, s services, name string) error
	}{
		{name: "deployment", checked: "endpoints/put deployment/checked", rowType: TypeDeployment,
			id:   func(name string) string { return DeploymentID(sub, rg, ws, "epr", name) },
			user: func(name string) string { return "deployment '" + name + "' of endpoint 'epr'" },
			put: func(ctx context.Context, s services, name string) error {
				in := armapi.OnlineDeployment{Location: "westus", Properties: armapi.OnlineDeploymentProperties{Compute: "azureml:infr", EnvironmentID: envID}}
				_, err := s.eps.PutDeployment(ctx, sub, rg, ws, "epr", name, in, Options{})
				return err
			}},
		{name: "endpoint", checked: "endpoints/put endpoint/checked", rowType: TypeEndpoint,
			id:   func(name string) string { return EndpointID(sub, rg, ws, name) },
			user: func(name string) string { return "online endpoint '" + name + "'" },
			put: func(ctx context.Context, s services, name string) error {
				in := armapi.OnlineEndpoint{Location: "westus", Properties: armapi.OnlineEndpointProperties{AuthMode: AuthKey, Compute: "azureml:infr"}}
				_, err := s.eps.PutEndpoint(ctx, sub, rg, ws, name, in, Options{})
				return err
			}},
	}
	const (
		checked    = "checked"
		committing = "committing"
	)
	for dialect, newDB := range storetest.Dialects(t) {
		for _, order := range []string{checked, committing} {
			for _, cr := range creates {
				for _, tc := range deletes {
					if tc.deploymentOnly && cr.rowType != TypeDeployment {
						continue
					}
					t.Run(dialect+"/"+order+"/"+cr.name+"/"+tc.name, func(t *testing.T) {
						if order == committing && dialect == "sqlite" {
							t.Skip("SQLite runs one transaction at a time: the delete reads nothing until the create has committed")
						}
						ctx := context.Background()
						var s services
						stack := servicetest.NewIn(t, newDB(t)(), sub, func(cfg *containerservice.Config) {
							cfg.DeleteGuard = func(ctx context.Context, tx store.Store, mc *armapi.ManagedCluster) error {
								return s.computes.ClusterDeleteAllowed(ctx, tx, mc)
							}
						})
						stack.Group(t, rg)
						w := stack.Workspace(t, rg, ws)
						s.computes, s.eps, s.assets = wire(t, stack)
						s.clusters, s.st = stack.Clusters, stack.Store
						raceRows(t, s.st, sub, rg, w.ID, computeID, clusterID)
						if _, _, err := s.assets.Put(ctx, mlassets.Environments, sub, rg, ws, "env", "1",
							armapi.AssetVersion{Properties: armapi.AssetVersionProperties{Image: "python:3.12"}}, mlassets.Options{}); err != nil {
							t.Fatal(err)
						}
						node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}, Status: corev1.NodeStatus{
							Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi")},
							Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
						s.eps.connect = func(context.Context, string) (*kube.Cluster, error) {
							return &kube.Cluster{Client: fake.NewClientset(node)}, nil
						}

						point := cr.checked
						if order == committing {
							point = "store/commit/CreateResource/" + cr.rowType + "/before"
						}
						held, release := make(chan struct{}), make(chan struct{})
						var holdOnce sync.Once
						defer failpoint.Hook(point, func(string) {
							holdOnce.Do(func() {
								close(held)
								<-release
							})
						})()
						created := make(chan error, 1)
						go func() { created <- cr.put(ctx, s, "blue") }()
						select {
						case <-held:
						case err := <-created:
							t.Fatalf("the create returned before it was held at %s: %v", point, err)
						}

						type outcome struct {
							done bool
							err  error
						}
						deleted := make(chan outcome, 1)
						waiting := make(chan struct{})
						var waitOnce sync.Once
						// Only the delete takes a lock now: the create holds its own already.
						defer failpoint.Hook("store/Lock/*/before", func(string) { waitOnce.Do(func() { close(waiting) }) })()
						go func() {
							done, err := tc.del(ctx, s)
							deleted <- outcome{done, err}
						}()
						var del outcome
						answered := false
						if order == checked {
							del, answered = await(t, deleted, "the delete"), true
						} else {
							select {
							case <-waiting:
							case del = <-deleted:
								answered = true
							}
						}
						close(release)
						createErr := await(t, created, "the create")
						if !answered {
							del = await(t, deleted, "the delete")
						}

						deployed, deleteWon := createErr == nil, del.done && del.err == nil
						if deployed == deleteWon {
							t.Fatalf("the create answered %v and the delete %v (done: %v); want exactly one of them to win", createErr, del.err, del.done)
						}
						if wantDeployed := order == committing; deployed != wantDeployed {
							t.Errorf("deployed = %v, want %v: the one that went first wins", deployed, wantDeployed)
						}
						var ae *arm.Error
						if !deployed && (!errors.As(createErr, &ae) || ae.Status != tc.lostStatus || !strings.Contains(ae.Error(), tc.lost)) {
							t.Errorf("the create after the delete answered %v; want %d saying %q", createErr, tc.lostStatus, tc.lost)
						}
						if deployed && (!errors.As(del.err, &ae) || ae.Status != http.StatusConflict || !strings.Contains(ae.Message, cr.user("blue"))) {
							t.Errorf("the delete after the create answered %v; want 409 naming %s", del.err, cr.user("blue"))
						}
						if !deployed {
							// A create that comes after the delete, with no race, is refused the same
							// way by its checks before the transaction.
							err := cr.put(ctx, s, "green")
							if !errors.As(err, &ae) || ae.Status != tc.lostStatus || !strings.Contains(ae.Error(), tc.lost) {
								t.Errorf("a create after the delete answered %v; want %d saying %q", err, tc.lostStatus, tc.lost)
							}
						}
						assertNoneOnLeaving(t, s.st, cr.id("blue"), computeID, clusterID, envID)
					})
				}
			}
		}
	}
}

// await returns what ch delivers; t fails when nothing comes within a minute (a request
// left waiting for a lock that is never released).
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("%s did not answer", what)
		panic("unreachable")
	}
}

// raceRows stores, in workspace wsID, what TestDeleteRacesDeploymentCreate deploys on, as
// the operations that made them leave them: cluster aksr of the external provider,
// compute infr attached to it (with the claim an attach makes), endpoint epr on no
// compute.
func raceRows(t *testing.T, st store.Store, sub, rg, wsID, computeID, clusterID string) {
	t.Helper()
	ctx := context.Background()
	mc := &armapi.ManagedCluster{ID: clusterID, Name: "aksr", Type: containerservice.TypeManagedCluster, Location: "westus"}
	mc.Properties.ProvisioningState, mc.Properties.KubernetesVersion = armapi.StateSucceeded, "1.36.3"
	mc.Properties.AgentPoolProfiles = []armapi.AgentPoolProfile{{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{Count: 1,
		VMSize: "Standard_D3_v2", Mode: "System", OSType: "Linux", OrchestratorVersion: "1.36.3", ProvisioningState: armapi.StateSucceeded}}}
	mc.Properties.Mlfleet.Provider = "external"
	clusterBody, _ := json.Marshal(mc)
	c := armapi.Compute{ID: computeID, Name: "infr", Type: compute.TypeCompute, Location: "westus", Properties: armapi.ComputeProperties{
		ComputeType: "AKS", ComputeLocation: "westus", ProvisioningState: armapi.StateSucceeded, ResourceID: &clusterID, IsAttachedCompute: true,
		Mlfleet: &armapi.ComputeMlfleet{Conditions: []armapi.Condition{}, Attached: true}}}
	computeBody, _ := json.Marshal(c)
	epID := EndpointID(sub, rg, lastSegment(wsID), "epr")
	for _, r := range []*store.Resource{
		{ID: clusterID, ParentID: arm.ResourceGroupPath(sub, rg), Type: containerservice.TypeManagedCluster, Name: "aksr", Body: clusterBody},
		// The attachment claim as compute's claimCluster writes it, which is how a cluster
		// delete finds the compute attached to it.
		{ID: clusterID + "/mlfleetAttachments/current", ParentID: clusterID, Type: containerservice.TypeManagedCluster + "/mlfleetAttachments",
			Name: "current", Body: []byte(`{"computeId":"` + computeID + `"}`), OwnerID: computeID},
		{ID: computeID, ParentID: wsID, Type: compute.TypeCompute, Name: "infr", Body: computeBody},
		{ID: epID, ParentID: wsID, Type: TypeEndpoint, Name: "epr", Body: encode(&armapi.OnlineEndpoint{ID: epID, Name: "epr", Type: TypeEndpoint,
			Location: "westus", Properties: armapi.OnlineEndpointProperties{AuthMode: "Key", ProvisioningState: armapi.StateSucceeded}})},
	} {
		r.SubscriptionID, r.ResourceGroup, r.Location = sub, rg, "westus"
		if err := st.CreateResource(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
}

// assertNoneOnLeaving fails t when the deployment or endpoint rowID is stored while its
// compute or cluster is being deleted or the environment version is gone.
func assertNoneOnLeaving(t *testing.T, st store.Store, rowID, computeID, clusterID, envID string) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.GetResource(ctx, rowID); errors.Is(err, store.ErrNotFound) {
		return
	} else if err != nil {
		t.Fatal(err)
	}
	state := func(id string) string {
		r, err := st.GetResource(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return "gone"
		}
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Properties struct{ ProvisioningState string } `json:"properties"`
		}
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatal(err)
		}
		return v.Properties.ProvisioningState
	}
	for what, id := range map[string]string{"compute": computeID, "cluster": clusterID, "environment version": envID} {
		if s := state(id); s == "gone" || s == armapi.StateDeleting {
			t.Errorf("%s is stored while its %s is %s", lastSegment(rowID), what, s)
		}
	}
}
