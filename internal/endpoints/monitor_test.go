package endpoints

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/mlfleet/mlfleet/internal/compute"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// monitorFixture is the endpoint service over a real SQLite store with the rows of an
// endpoint's deployments, and fake clusters (client-go's fake clientset) in place of the
// computes' clusters. The monitor against a real cluster is in test/integration
// (TestOnlineEndpointDeploy); here the fakes give it what a real cluster makes slow or
// awkward to reach: a pod the scheduler cannot place, a cluster that stops answering, a
// request that writes the row while the monitor reads the cluster.
type monitorFixture struct {
	sub, rg, ws string
	st          store.Store
	eps         *Service
	// clusters are the fake clusters by compute name; a compute missing here has a
	// cluster that cannot be connected to.
	clusters map[string]*fake.Clientset
	logs     *testutil.Buffer
}

func newMonitorFixture(t *testing.T, sub string) *monitorFixture {
	t.Helper()
	f := &monitorFixture{sub: sub, rg: "rg", ws: "wsmon", clusters: map[string]*fake.Clientset{}, logs: &testutil.Buffer{}}
	stack, w := workspaceStack(t, sub, f.rg, f.ws)
	f.st = stack.Store
	_, f.eps, _ = wire(t, stack)
	f.eps.log = slog.New(slog.NewTextHandler(f.logs, nil))
	f.eps.connect = func(ctx context.Context, computeID string) (*kube.Cluster, error) {
		if c, ok := f.clusters[lastSegment(computeID)]; ok {
			return &kube.Cluster{Client: c}, nil
		}
		return nil, fmt.Errorf("connect to the cluster of %s: %w: dial tcp 10.0.0.1:443: connection refused", computeID, kube.ErrUnreachable)
	}
	epID := EndpointID(sub, f.rg, f.ws, "ep")
	f.create(t, &store.Resource{ID: epID, ParentID: w.ID, Type: TypeEndpoint, Name: "ep", Body: encode(&armapi.OnlineEndpoint{ID: epID, Name: "ep",
		Type: TypeEndpoint, Location: "westus", Properties: armapi.OnlineEndpointProperties{ProvisioningState: armapi.StateSucceeded}})})
	return f
}

func (f *monitorFixture) create(t *testing.T, r *store.Resource) {
	t.Helper()
	r.SubscriptionID, r.ResourceGroup, r.Location = f.sub, f.rg, "westus"
	if err := f.st.CreateResource(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

// deployment stores deployment name of endpoint ep as its operation leaves it: in state,
// with instances instances of which ready were Ready, on compute computeName.
func (f *monitorFixture) deployment(t *testing.T, name, computeName, state string, instances, ready int, msg string) string {
	t.Helper()
	id := DeploymentID(f.sub, f.rg, f.ws, "ep", name)
	f.create(t, &store.Resource{ID: id, ParentID: EndpointID(f.sub, f.rg, f.ws, "ep"), Type: TypeDeployment, Name: name, Body: encode(&armapi.OnlineDeployment{
		ID: id, Name: name, Type: TypeDeployment, Location: "westus", Properties: armapi.OnlineDeploymentProperties{
			Compute: compute.ID(f.sub, f.rg, f.ws, computeName), ProvisioningState: state,
			Mlfleet: &armapi.OnlineDeploymentMlfleet{InstanceCount: instances, ReadyInstances: ready, Message: msg}}})})
	return id
}

// get reads a stored deployment and its row version.
func (f *monitorFixture) get(t *testing.T, id string) (*armapi.OnlineDeployment, int64) {
	t.Helper()
	r, err := f.st.GetResource(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeRow[armapi.OnlineDeployment](r)
	if err != nil {
		t.Fatal(err)
	}
	return d, r.Version
}

// kubeDeployment is the Deployment of deployment name of endpoint ep with its pods: each
// pod is Ready or not scheduled for lack of CPU.
func kubeDeployment(name string, ready ...bool) []runtime.Object {
	labels := map[string]string{inference.LabelEndpoint: "ep", inference.LabelDeployment: name}
	replicas, readyCount := int32(len(ready)), int32(0)
	var objs []runtime.Object
	for i, ok := range ready {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ep-%s-%d", name, i), Namespace: kube.Namespace, Labels: labels,
			CreationTimestamp: metav1.NewTime(time.Unix(int64(1000+i), 0))}}
		if ok {
			readyCount++
			pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
		} else {
			pod.Status = corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
				{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/1 nodes are available: 1 Insufficient cpu."}}}
		}
		objs = append(objs, pod)
	}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: DeploymentName("ep", name), Namespace: kube.Namespace, Labels: labels},
		Spec:   appsv1.DeploymentSpec{Replicas: &replicas},
		Status: appsv1.DeploymentStatus{Replicas: replicas, ReadyReplicas: readyCount, UpdatedReplicas: replicas}}
	return append(objs, dep)
}

// TestDeploymentMonitor: after its operation, a deployment's readyInstances and message
// follow its cluster: an instance the scheduler cannot place, a Deployment deleted under
// it, all instances Ready again, a cluster that does not answer. provisioningState stays
// as the operation left it, a deployment whose operation runs is left to it, and a row
// that nothing changed is not written (its etag stays).
func TestDeploymentMonitor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newMonitorFixture(t, "00000000-0000-0000-0000-0000000000d1")
	objs := append(kubeDeployment("green", true, false), kubeDeployment("busy", false)...)
	objs = append(objs, kubeDeployment("healed", true)...)
	f.clusters["infa"] = fake.NewClientset(objs...)
	green := f.deployment(t, "green", "infa", armapi.StateSucceeded, 2, 2, "")
	blue := f.deployment(t, "blue", "infa", armapi.StateSucceeded, 1, 1, "")
	busy := f.deployment(t, "busy", "infa", armapi.StateUpdating, 1, 0, "")
	healed := f.deployment(t, "healed", "infa", armapi.StateSucceeded, 1, 0, "0 of 1 instances ready: pod ep-healed-0 is Pending")
	failed := f.deployment(t, "failed", "infa", armapi.StateFailed, 1, 1, "Deployment 'failed' has 0 of 1 instances Ready after 10m0s")
	far := f.deployment(t, "far", "gone", armapi.StateSucceeded, 1, 1, "")
	_, busyVersion := f.get(t, busy)

	if err := f.eps.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, id, state string
		ready           int
		message         []string // parts the message must hold; none means no message
	}{
		{"an instance the scheduler cannot place", green, armapi.StateSucceeded, 1,
			[]string{"1 of 2 instances ready: pod ep-green-1 is Pending: 0/1 nodes are available: 1 Insufficient cpu."}},
		{"its Kubernetes Deployment deleted", blue, armapi.StateSucceeded, 0,
			[]string{"Kubernetes Deployment azureml/ep-blue is missing", "compute 'infa'", "update the deployment"}},
		{"an operation running", busy, armapi.StateUpdating, 0, nil},
		{"every instance Ready again", healed, armapi.StateSucceeded, 1, nil},
		{"a failed operation's message stays", failed, armapi.StateFailed, 0, []string{"after 10m0s"}},
		{"a cluster that does not answer", far, armapi.StateSucceeded, 1,
			[]string{"cluster unreachable", "compute 'gone'", "connection refused", "count last seen"}},
	} {
		d, _ := f.get(t, tc.id)
		m := d.Properties.Mlfleet
		if d.Properties.ProvisioningState != tc.state || m.ReadyInstances != tc.ready {
			t.Errorf("%s: provisioningState %s, readyInstances %d; want %s, %d", tc.name, d.Properties.ProvisioningState, m.ReadyInstances, tc.state, tc.ready)
		}
		if len(tc.message) == 0 && m.Message != "" {
			t.Errorf("%s: message %q; want none", tc.name, m.Message)
		}
		for _, part := range tc.message {
			if !strings.Contains(m.Message, part) {
				t.Errorf("%s: message %q; want it to hold %q", tc.name, m.Message, part)
			}
		}
	}
	if _, v := f.get(t, busy); v != busyVersion {
		t.Errorf("the row of a deployment whose operation runs went from version %d to %d; want it left alone", busyVersion, v)
	}

	// Nothing changed in the clusters: no row is written again, and the unreachable
	// cluster is logged once, not on every tick.
	_, greenVersion := f.get(t, green)
	if err := f.eps.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, v := f.get(t, green); v != greenVersion {
		t.Errorf("an observation that found nothing new wrote the row (version %d to %d)", greenVersion, v)
	}
	if n := strings.Count(f.logs.String(), "msg=\"deployment monitor: cluster unreachable\""); n != 1 {
		t.Errorf("the unreachable cluster was logged %d times over two ticks; want once:\n%s", n, f.logs.String())
	}

	// The cluster answers again: the message goes.
	f.clusters["gone"] = fake.NewClientset(kubeDeployment("far", true)...)
	if err := f.eps.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.get(t, far); d.Properties.Mlfleet.Message != "" || d.Properties.Mlfleet.ReadyInstances != 1 {
		t.Errorf("once its cluster answers again: %+v; want 1 ready and no message", d.Properties.Mlfleet)
	}
}

// TestDeploymentMonitorYieldsToWrites: a request that writes a deployment while the
// monitor reads its cluster wins; the monitor records nothing on that row this tick and
// observes it afresh on the next.
func TestDeploymentMonitorYieldsToWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newMonitorFixture(t, "00000000-0000-0000-0000-0000000000d2")
	id := f.deployment(t, "green", "infa", armapi.StateSucceeded, 2, 2, "")
	c := fake.NewClientset(kubeDeployment("green", true, false)...)
	f.clusters["infa"] = c
	var once sync.Once
	c.PrependReactor("get", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		once.Do(func() {
			err := modify(ctx, f.st, id, func(d *armapi.OnlineDeployment) error {
				d.Properties.Mlfleet.Message = "written by a request"
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
		return false, nil, nil
	})
	if err := f.eps.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.get(t, id); d.Properties.Mlfleet.Message != "written by a request" || d.Properties.Mlfleet.ReadyInstances != 2 {
		t.Fatalf("after a write during the observation: %+v; want the write kept", d.Properties.Mlfleet)
	}
	if err := f.eps.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.get(t, id); d.Properties.Mlfleet.ReadyInstances != 1 || !strings.HasPrefix(d.Properties.Mlfleet.Message, "1 of 2 instances ready") {
		t.Fatalf("on the next tick: %+v; want 1 of 2 ready", d.Properties.Mlfleet)
	}
}

// TestDeploymentMonitorStartClose: the monitor started with the service observes on its
// own every interval, Refresh may run beside it (go test -race), and Close stops it.
func TestDeploymentMonitorStartClose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newMonitorFixture(t, "00000000-0000-0000-0000-0000000000d3")
	f.eps.cfg.MonitorInterval = 10 * time.Millisecond
	id := f.deployment(t, "green", "infa", armapi.StateSucceeded, 2, 2, "")
	f.deployment(t, "far", "gone", armapi.StateSucceeded, 1, 1, "")
	f.clusters["infa"] = fake.NewClientset(kubeDeployment("green", true, false)...)
	f.eps.Start(ctx)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := f.eps.Refresh(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	testutil.Eventually(t, 10*time.Second, "the monitor records 1 of 2 instances ready", func() error {
		if d, _ := f.get(t, id); d.Properties.Mlfleet.ReadyInstances != 1 {
			return errors.New("readyInstances is still 2")
		}
		return nil
	})
	if err := f.eps.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-f.eps.monitor.done:
	default:
		t.Fatal("the monitor still runs after Close")
	}
}

// TestDeploymentMonitorSharesComputes: the monitor observes only the deployments of the
// computes Config.Monitors gives this replica; another replica's are neither read from
// their cluster nor written.
func TestDeploymentMonitorSharesComputes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newMonitorFixture(t, "00000000-0000-0000-0000-0000000000d7")
	f.clusters["mine"] = fake.NewClientset(kubeDeployment("a", true, false)...)
	theirs := fake.NewClientset(kubeDeployment("b", true, false)...)
	f.clusters["theirs"] = theirs
	a := f.deployment(t, "a", "mine", armapi.StateSucceeded, 2, 2, "")
	b := f.deployment(t, "b", "theirs", armapi.StateSucceeded, 2, 2, "")
	f.eps.cfg.Monitors = func(computeID string) bool { return lastSegment(computeID) == "mine" }
	_, bVersion := f.get(t, b)
	if err := f.eps.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if d, _ := f.get(t, a); d.Properties.Mlfleet.ReadyInstances != 1 {
		t.Errorf("deployment on this replica's compute: readyInstances %d, want 1", d.Properties.Mlfleet.ReadyInstances)
	}
	if d, v := f.get(t, b); v != bVersion || d.Properties.Mlfleet.ReadyInstances != 2 {
		t.Errorf("deployment on another replica's compute was written: version %d→%d, readyInstances %d", bVersion, v, d.Properties.Mlfleet.ReadyInstances)
	}
	if n := len(theirs.Actions()); n != 0 {
		t.Errorf("another replica's cluster was read %d times", n)
	}
}

// TestWaitReadySaysWhy: while an instance runs but is not Ready (its init() still loads
// the model), the deployment being created says so, instead of no message at all until
// the ready timeout.
func TestWaitReadySaysWhy(t *testing.T) {
	t.Parallel()
	f := newMonitorFixture(t, "00000000-0000-0000-0000-0000000000d7")
	objs := kubeDeployment("slow", false)
	pod := objs[0].(*corev1.Pod)
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionFalse}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: inference.ContainerName, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}
	f.clusters["infa"] = fake.NewClientset(objs...)
	id := f.deployment(t, "slow", "infa", armapi.StateCreating, 1, 0, "")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.eps.waitReady(ctx, "ep", id) }()
	testutil.WaitFor(t, 10*time.Second, "the deployment says why it is not done", func() (bool, string) {
		d, _ := f.get(t, id)
		msg := d.Properties.Mlfleet.Message
		return msg == "pod ep-slow-0 is Running but not Ready (its readiness probe fails)", msg
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("waitReady after cancel = %v", err)
	}
}

// TestWaitReadyTimeoutSaysWhy: a deployment whose instance the scheduler cannot place
// fails at the ready timeout with the scheduler's reason, as one sentence.
func TestWaitReadyTimeoutSaysWhy(t *testing.T) {
	t.Parallel()
	f := newMonitorFixture(t, "00000000-0000-0000-0000-0000000000d8")
	f.clusters["infa"] = fake.NewClientset(kubeDeployment("big", false)...)
	id := f.deployment(t, "big", "infa", armapi.StateCreating, 1, 0, "")
	f.eps.cfg.ReadyTimeout = time.Nanosecond
	err := f.eps.waitReady(context.Background(), "ep", id)
	want := "Deployment 'big' has 0 of 1 instances Ready after 1ns: pod ep-big-0 is Pending: 0/1 nodes are available: 1 Insufficient cpu."
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("waitReady = %v; want it to end %q", err, want)
	}
}
