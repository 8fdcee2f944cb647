package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
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
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"

	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestKubeComponents checks what an attachment does inside a real embedded cluster,
// through package kube: the components Apply installs (S6, S13, S14, SPEC §3), the
// attachment marker (S11), what Remove deletes and keeps (S3, S12), and the permission
// check (B1).
func TestKubeComponents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := sdk(t)
	const rg, name = "kube-components-rg", "kubecomp"
	createGroup(t, c, rg, "westus")
	createCluster(t, c, rg, name, 3, "Standard_D3_v2", nil)
	t.Cleanup(func() {
		if p, err := c.BeginDeleteManagedCluster(ctx, rg, name); err == nil && p != nil {
			_, _ = p.Wait(ctx, nil)
		}
	})
	adminConfig, kc := connect(t, c, rg, name, true)
	k := kubeClient(t, adminConfig)
	testutil.Eventually(t, 30*time.Second, "3 ready nodes", nodeCount(ctx, k, 3))

	// The compute is another control plane's (a subscription this server does not have):
	// this test works on the cluster directly, and the server's marker sweep removes an
	// attachment whose compute is in one of its own subscriptions but does not exist.
	foreignWorkspace := "/subscriptions/0f0e1900-0000-4000-8000-000000000001/resourceGroups/" + rg +
		"/providers/Microsoft.MachineLearningServices/workspaces/ws"
	computeID := foreignWorkspace + "/computes/" + name
	prod := kube.Components{AttachmentID: "kubecomp-1", ComputeID: computeID, Replicas: 3, LoadBalancer: kube.LoadBalancerPublic}
	publicLB := netip.MustParsePrefix("198.18.0.0/15")
	internalLB := netip.MustParsePrefix("10.240.0.0/16")

	t.Run("NodesHaveAddresses", func(t *testing.T) {
		nodes, err := kc.Nodes(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			if ip, err := netip.ParseAddr(n.InternalIP); err != nil || !netip.MustParsePrefix("10.224.0.0/16").Contains(ip) {
				t.Errorf("node %s: InternalIP %q, want one in 10.224.0.0/16", n.Name, n.InternalIP)
			}
		}
	})

	t.Run("ApplyInstalls", func(t *testing.T) {
		start := time.Now()
		if err := kc.Apply(ctx, prod); err != nil {
			t.Fatal(err)
		}
		t.Logf("apply took %v", time.Since(start).Round(time.Millisecond))
		fe := waitFrontEnd(t, kc, 3, publicLB)
		t.Logf("3 replicas ready and a load balancer address %s after %v", fe.Address, time.Since(start).Round(time.Millisecond))
		if fe.Version != kube.ComponentsVersion || fe.ServiceType != "LoadBalancer" || fe.Internal {
			t.Errorf("front end: %+v", fe)
		}

		for what, m := range ownedObjects(ctx, t, k) {
			if m.Labels[kube.LabelManagedBy] != "mlfleet" || m.Labels[kube.LabelAttachment] != prod.AttachmentID ||
				m.Labels["app.kubernetes.io/part-of"] != "azureml" || m.Annotations[kube.AnnotationComputeID] != computeID {
				t.Errorf("%s: labels %v annotations %v", what, m.Labels, m.Annotations)
			}
		}
		if _, err := k.CoreV1().Secrets(kube.Namespace).Get(ctx, kube.TLSSecretName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("TLS secret without TLS: %v", err)
		}

		dep, err := k.AppsV1().Deployments(kube.Namespace).Get(ctx, kube.FrontEndName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pod := dep.Spec.Template.Spec
		if pod.Affinity == nil || pod.Affinity.PodAntiAffinity == nil || len(pod.TopologySpreadConstraints) != 1 ||
			pod.TopologySpreadConstraints[0].MaxSkew != 1 || pod.Containers[0].Image != kube.FrontEndImage {
			t.Errorf("pod spec: affinity %+v spread %+v image %s", pod.Affinity, pod.TopologySpreadConstraints, pod.Containers[0].Image)
		}
		pods := frontEndPods(ctx, t, k)
		nodes := map[string]bool{}
		for _, p := range pods {
			if p.Labels[kube.LabelAttachment] != prod.AttachmentID {
				t.Errorf("pod %s labels %v", p.Name, p.Labels)
			}
			nodes[p.Spec.NodeName] = true
		}
		if len(pods) != 3 || len(nodes) != 3 {
			t.Errorf("%d pods on %d nodes, want 3 on 3: %v", len(pods), len(nodes), nodes)
		}
	})

	t.Run("ApplyTwiceChangesNothing", func(t *testing.T) {
		var before map[string]string
		testutil.Eventually(t, 20*time.Second, "objects settled", func() error {
			a := resourceVersions(ctx, t, k)
			time.Sleep(500 * time.Millisecond)
			b := resourceVersions(ctx, t, k)
			before = b
			if fmt.Sprint(a) != fmt.Sprint(b) {
				return fmt.Errorf("still changing: %v → %v", a, b)
			}
			return nil
		})
		start := time.Now()
		if err := kc.Apply(ctx, prod); err != nil {
			t.Fatal(err)
		}
		t.Logf("second apply took %v", time.Since(start).Round(time.Millisecond))
		if after := resourceVersions(ctx, t, k); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("resource versions changed:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("RouterImage", func(t *testing.T) {
		image := func() string {
			dep, err := k.AppsV1().Deployments(kube.Namespace).Get(ctx, kube.FrontEndName, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return dep.Spec.Template.Spec.Containers[0].Image
		}
		withRouter := prod
		withRouter.Image = "registry.example.com/mlfleet/router:1"
		if err := kc.Apply(ctx, withRouter); err != nil {
			t.Fatal(err)
		}
		if got := image(); got != withRouter.Image {
			t.Errorf("azureml-fe image with a router image = %s, want %s", got, withRouter.Image)
		}
		if err := kc.Apply(ctx, prod); err != nil {
			t.Fatal(err)
		}
		if got := image(); got != kube.FrontEndImage {
			t.Errorf("azureml-fe image without a router image = %s, want the placeholder %s", got, kube.FrontEndImage)
		}
	})

	t.Run("InternalLoadBalancer", func(t *testing.T) {
		internal := prod
		internal.LoadBalancer, internal.Subnet = kube.LoadBalancerInternal, "aks-subnet"
		if err := kc.Apply(ctx, internal); err != nil {
			t.Fatal(err)
		}
		svc, err := k.CoreV1().Services(kube.Namespace).Get(ctx, kube.FrontEndName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if svc.Annotations[kube.AnnotationLoadBalancerInternal] != "true" || svc.Annotations[kube.AnnotationLoadBalancerInternalSubnet] != "aks-subnet" {
			t.Errorf("internal service annotations: %v", svc.Annotations)
		}
		if fe := waitFrontEnd(t, kc, 3, internalLB); !fe.Internal {
			t.Errorf("front end: %+v", fe)
		}

		if err := kc.Apply(ctx, prod); err != nil {
			t.Fatal(err)
		}
		svc, err = k.CoreV1().Services(kube.Namespace).Get(ctx, kube.FrontEndName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{kube.AnnotationLoadBalancerInternal, kube.AnnotationLoadBalancerInternalSubnet} {
			if _, ok := svc.Annotations[a]; ok {
				t.Errorf("back to PublicIp, the service still has %s: %v", a, svc.Annotations)
			}
		}
		if fe := waitFrontEnd(t, kc, 3, publicLB); fe.Internal {
			t.Errorf("front end: %+v", fe)
		}
	})

	t.Run("TLS", func(t *testing.T) {
		cert, key := selfSigned(t, "fe.example.com")
		withTLS := prod
		withTLS.TLS = &kube.TLS{Cert: cert, Key: key, CName: "fe.example.com"}
		if err := kc.Apply(ctx, withTLS); err != nil {
			t.Fatal(err)
		}
		secret, err := k.CoreV1().Secrets(kube.Namespace).Get(ctx, kube.TLSSecretName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if secret.Type != corev1.SecretTypeTLS || string(secret.Data["tls.crt"]) != string(cert) || string(secret.Data["tls.key"]) != string(key) ||
			secret.Annotations[kube.AnnotationCName] != "fe.example.com" || secret.Labels[kube.LabelAttachment] != prod.AttachmentID {
			t.Errorf("TLS secret: type %s annotations %v labels %v", secret.Type, secret.Annotations, secret.Labels)
		}
		if ports := servicePorts(ctx, t, k); !slices.Equal(ports, []string{"80->8001", "443->8443"}) {
			t.Errorf("service ports with TLS: %v", ports)
		}
		waitFrontEnd(t, kc, 3, publicLB)

		if err := kc.Apply(ctx, prod); err != nil {
			t.Fatal(err)
		}
		if _, err := k.CoreV1().Secrets(kube.Namespace).Get(ctx, kube.TLSSecretName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("TLS secret after TLS off: %v", err)
		}
		if ports := servicePorts(ctx, t, k); !slices.Equal(ports, []string{"80->8001"}) {
			t.Errorf("service ports without TLS: %v", ports)
		}
		dep, err := k.AppsV1().Deployments(kube.Namespace).Get(ctx, kube.FrontEndName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if v := dep.Spec.Template.Spec.Volumes; len(v) != 0 {
			t.Errorf("volumes after TLS off: %+v", v)
		}
		waitFrontEnd(t, kc, 3, publicLB)
	})

	t.Run("ClaimMarker", func(t *testing.T) {
		// Two attachments race for the cluster: exactly one wins.
		var wg sync.WaitGroup
		ids := []string{"race-a", "race-b"}
		markers := make([]*kube.Marker, 2)
		errs := make([]error, 2)
		for i, id := range ids {
			wg.Go(func() {
				markers[i], errs[i] = kc.ClaimMarker(ctx, kube.Marker{AttachmentID: id, ComputeName: id, ComputeID: computeID})
			})
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("two claims: %v and %v, want exactly one to win", errs[0], errs[1])
		}
		winner, loser := 0, 1
		if errs[0] != nil {
			winner, loser = 1, 0
		}
		var attached *kube.AttachedError
		if !errors.Is(errs[loser], kube.ErrAttached) || !errors.As(errs[loser], &attached) || attached.Marker.AttachmentID != ids[winner] ||
			!strings.Contains(errs[loser].Error(), ids[winner]) {
			t.Errorf("losing claim: %v, want ErrAttached naming %s", errs[loser], ids[winner])
		}
		if markers[loser] == nil || markers[loser].AttachmentID != ids[winner] {
			t.Errorf("losing claim returned %+v, want the winner's marker", markers[loser])
		}
		uid, err := kc.UID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m := markers[winner]; m.ClusterUID != uid || m.AttachedAt.IsZero() {
			t.Errorf("winning marker %+v, cluster uid %s", m, uid)
		}

		// Removing the winner takes its marker and nothing of the other attachment.
		if err := kc.Remove(ctx, ids[winner]); err != nil {
			t.Fatal(err)
		}
		if m, err := kc.Marker(ctx); err != nil || m != nil {
			t.Fatalf("marker after removing %s: %+v, %v", ids[winner], m, err)
		}
		if fe, err := kc.FrontEnd(ctx); err != nil || fe == nil {
			t.Fatalf("front end of %s after removing %s: %+v, %v", prod.AttachmentID, ids[winner], fe, err)
		}

		// The real attachment claims; claiming again is idempotent; another is refused.
		first, err := kc.ClaimMarker(ctx, kube.Marker{AttachmentID: prod.AttachmentID, ComputeID: computeID, ComputeName: name, WorkspaceID: foreignWorkspace})
		if err != nil {
			t.Fatal(err)
		}
		again, err := kc.ClaimMarker(ctx, kube.Marker{AttachmentID: prod.AttachmentID, ComputeID: computeID, ComputeName: name})
		if err != nil || *again != *first {
			t.Errorf("claim again: %+v, %v; first %+v", again, err, first)
		}
		if _, err := kc.ClaimMarker(ctx, kube.Marker{AttachmentID: "other"}); !errors.Is(err, kube.ErrAttached) || !strings.Contains(err.Error(), name) {
			t.Errorf("claim of another attachment: %v", err)
		}
		if m, err := kc.Marker(ctx); err != nil || m == nil || *m != *first {
			t.Errorf("marker: %+v, %v; want %+v", m, err, first)
		}
	})

	t.Run("Remove", func(t *testing.T) {
		foreign := foreignDeployment(ctx, t, k, "default")
		start := time.Now()
		if err := kc.Remove(ctx, prod.AttachmentID); err != nil {
			t.Fatal(err)
		}
		t.Logf("remove took %v", time.Since(start).Round(time.Millisecond))
		if ns, err := k.CoreV1().Namespaces().Get(ctx, kube.Namespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) && (err != nil || ns.DeletionTimestamp == nil) {
			t.Errorf("namespace after remove: %v (want it gone or being deleted)", err)
		}
		if left := labelled(ctx, t, kc, prod.AttachmentID); len(left) > 0 {
			t.Errorf("left after remove: %v", left)
		}
		if m, err := kc.Marker(ctx); err != nil || m != nil {
			t.Errorf("marker after remove: %+v, %v", m, err)
		}
		if fe, err := kc.FrontEnd(ctx); err != nil || fe != nil {
			t.Errorf("front end after remove: %+v, %v", fe, err)
		}
		got, err := k.AppsV1().Deployments("default").Get(ctx, foreign.Name, metav1.GetOptions{})
		if err != nil || got.UID != foreign.UID {
			t.Errorf("foreign deployment after remove: %v", err)
		}
		if err := kc.Remove(ctx, prod.AttachmentID); err != nil {
			t.Errorf("remove again: %v", err)
		}

		// A new attachment can follow at once.
		start = time.Now()
		next := prod
		next.AttachmentID = "kubecomp-2"
		if err := kc.Apply(ctx, next); err != nil {
			t.Fatal(err)
		}
		if _, err := kc.ClaimMarker(ctx, kube.Marker{AttachmentID: next.AttachmentID, ComputeID: computeID}); err != nil {
			t.Fatal(err)
		}
		t.Logf("apply and claim after remove took %v", time.Since(start).Round(time.Millisecond))
		waitFrontEnd(t, kc, 3, publicLB)
	})

	t.Run("ForeignObjectKeepsNamespace", func(t *testing.T) {
		const id = "kubecomp-2" // from Remove; installed again if that failed
		if m, _ := kc.Marker(ctx); m == nil || m.AttachmentID != id {
			next := prod
			next.AttachmentID = id
			if err := kc.Apply(ctx, next); err != nil {
				t.Fatal(err)
			}
		}
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "someone-elses"}, Data: map[string]string{"k": "v"}}
		if _, err := k.CoreV1().ConfigMaps(kube.Namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := kc.Remove(ctx, id); err != nil {
			t.Fatal(err)
		}
		t.Logf("remove keeping the namespace took %v", time.Since(start).Round(time.Millisecond))
		ns, err := k.CoreV1().Namespaces().Get(ctx, kube.Namespace, metav1.GetOptions{})
		if err != nil || ns.DeletionTimestamp != nil {
			t.Fatalf("namespace with a foreign configmap: %+v, %v", ns, err)
		}
		if _, ok := ns.Labels[kube.LabelAttachment]; ok || ns.Labels[kube.LabelManagedBy] != "" || ns.Annotations[kube.AnnotationComputeID] != "" {
			t.Errorf("kept namespace still carries mlfleet's labels: %v %v", ns.Labels, ns.Annotations)
		}
		if _, err := k.CoreV1().ConfigMaps(kube.Namespace).Get(ctx, cm.Name, metav1.GetOptions{}); err != nil {
			t.Errorf("foreign configmap: %v", err)
		}
		if left := labelled(ctx, t, kc, id); len(left) > 0 {
			t.Errorf("left after remove: %v", left)
		}
		if m, err := kc.Marker(ctx); err != nil || m != nil {
			t.Errorf("marker after remove: %+v, %v", m, err)
		}
	})

	t.Run("MissingPermissions", func(t *testing.T) {
		missing, err := kc.MissingPermissions(ctx)
		if err != nil || len(missing) != 0 {
			t.Errorf("admin: missing %v, %v", missing, err)
		}
		_, user := connect(t, c, rg, name, false)
		missing, err = user.MissingPermissions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("the cluster user may not: %s", strings.Join(missing, "; "))
		if sorted := slices.Compact(slices.Sorted(slices.Values(missing))); len(sorted) != len(missing) {
			t.Errorf("user: missing permissions repeat: %q", missing)
		}
		for _, want := range []string{
			"create namespaces (cluster-wide)",
			"create clusterrolebindings.rbac.authorization.k8s.io (cluster-wide)",
			"create clusterroles.rbac.authorization.k8s.io (cluster-wide)",
			"patch deployments.apps in namespace azureml",
			"create configmaps in namespace kube-system",
		} {
			if !slices.Contains(missing, want) {
				t.Errorf("user: missing %q not reported in %q", want, missing)
			}
		}
		// What the user may not do is refused with ErrForbidden, saying what.
		err = user.Apply(ctx, prod)
		if !errors.Is(err, kube.ErrForbidden) || !strings.Contains(err.Error(), "namespace") {
			t.Errorf("apply as user: %v, want ErrForbidden", err)
		}
		t.Logf("apply as the cluster user: %v", err)
	})
}

// connect returns the admin (or user) credentials of cluster name and package kube's
// connection with them.
func connect(t *testing.T, c *mlfleet.Client, rg, name string, admin bool) ([]byte, *kube.Cluster) {
	t.Helper()
	kubeconfig, err := c.ClusterCredentials(context.Background(), rg, name, admin)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := kube.Connect(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	return kubeconfig, kc
}

// waitFrontEnd waits until azureml-fe has replicas ready replicas and an address in lb.
func waitFrontEnd(t *testing.T, kc *kube.Cluster, replicas int32, lb netip.Prefix) *kube.FrontEnd {
	t.Helper()
	var fe *kube.FrontEnd
	testutil.Eventually(t, 60*time.Second, "front end ready", func() error {
		var err error
		if fe, err = kc.FrontEnd(context.Background()); err != nil {
			return err
		}
		if fe == nil {
			return errors.New("not installed")
		}
		ip, err := netip.ParseAddr(fe.Address)
		if fe.Replicas != replicas || fe.ReadyReplicas != replicas || err != nil || !lb.Contains(ip) {
			return fmt.Errorf("%+v, want %d ready replicas and an address in %s", fe, replicas, lb)
		}
		return nil
	})
	return fe
}

// ownedObjects returns the metadata of what Apply always installs, by kind/name.
func ownedObjects(ctx context.Context, t *testing.T, k kubernetes.Interface) map[string]metav1.ObjectMeta {
	t.Helper()
	out := map[string]metav1.ObjectMeta{}
	get := func(what string, obj metav1.Object, err error) {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		out[what] = metav1.ObjectMeta{Labels: obj.GetLabels(), Annotations: obj.GetAnnotations(), ResourceVersion: obj.GetResourceVersion()}
	}
	o := metav1.GetOptions{}
	ns, err := k.CoreV1().Namespaces().Get(ctx, kube.Namespace, o)
	get("namespace", ns, err)
	sa, err := k.CoreV1().ServiceAccounts(kube.Namespace).Get(ctx, kube.FrontEndName, o)
	get("serviceaccount", sa, err)
	cr, err := k.RbacV1().ClusterRoles().Get(ctx, kube.FrontEndName, o)
	get("clusterrole", cr, err)
	crb, err := k.RbacV1().ClusterRoleBindings().Get(ctx, kube.FrontEndName, o)
	get("clusterrolebinding", crb, err)
	dep, err := k.AppsV1().Deployments(kube.Namespace).Get(ctx, kube.FrontEndName, o)
	get("deployment", dep, err)
	svc, err := k.CoreV1().Services(kube.Namespace).Get(ctx, kube.FrontEndName, o)
	get("service", svc, err)
	return out
}

func resourceVersions(ctx context.Context, t *testing.T, k kubernetes.Interface) map[string]string {
	out := map[string]string{}
	for what, m := range ownedObjects(ctx, t, k) {
		out[what] = m.ResourceVersion
	}
	return out
}

func frontEndPods(ctx context.Context, t *testing.T, k kubernetes.Interface) []corev1.Pod {
	t.Helper()
	list, err := k.CoreV1().Pods(kube.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app=" + kube.FrontEndName})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			out = append(out, p)
		}
	}
	return out
}

func servicePorts(ctx context.Context, t *testing.T, k kubernetes.Interface) []string {
	t.Helper()
	svc, err := k.CoreV1().Services(kube.Namespace).Get(ctx, kube.FrontEndName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range svc.Spec.Ports {
		out = append(out, fmt.Sprintf("%d->%s", p.Port, p.TargetPort.String()))
	}
	return out
}

// labelled lists what still carries the attachment's label, wherever Apply and
// ClaimMarker put things.
func labelled(ctx context.Context, t *testing.T, kc *kube.Cluster, id string) []string {
	t.Helper()
	md, err := metadata.NewForConfig(kc.Config)
	if err != nil {
		t.Fatal(err)
	}
	o := metav1.ListOptions{LabelSelector: kube.LabelAttachment + "=" + id}
	var out []string
	list := func(r metadata.ResourceInterface, gvr schema.GroupVersionResource) {
		l, err := r.List(ctx, o)
		if err != nil {
			t.Fatalf("list %s: %v", gvr.Resource, err)
		}
		for _, i := range l.Items {
			if i.DeletionTimestamp != nil {
				continue // being deleted: the namespace controller finishes it
			}
			out = append(out, gvr.Resource+"/"+i.Namespace+"/"+i.Name)
		}
	}
	for _, r := range []string{"namespaces", "clusterroles", "clusterrolebindings"} {
		gvr := schema.GroupVersionResource{Version: "v1", Resource: r}
		if r != "namespaces" {
			gvr.Group = "rbac.authorization.k8s.io"
		}
		list(md.Resource(gvr), gvr)
	}
	for _, gvr := range []string{"v1/serviceaccounts", "v1/configmaps", "v1/secrets", "v1/services", "v1/pods", "apps/v1/deployments", "apps/v1/replicasets"} {
		parts := strings.Split(gvr, "/")
		g := schema.GroupVersionResource{Version: parts[len(parts)-2], Resource: parts[len(parts)-1]}
		if len(parts) == 3 {
			g.Group = parts[0]
		}
		for _, ns := range []string{kube.Namespace, "kube-system"} {
			list(md.Resource(g).Namespace(ns), g)
		}
	}
	return out
}

// foreignDeployment creates a Deployment mlfleet has nothing to do with.
func foreignDeployment(ctx context.Context, t *testing.T, k kubernetes.Interface, ns string) *appsv1.Deployment {
	t.Helper()
	one := int32(1)
	labels := map[string]string{"app": "not-mlfleet"}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "not-mlfleet"}, Spec: appsv1.DeploymentSpec{
		Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}}}}
	created, err := k.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// selfSigned returns a PEM certificate and key for cname.
func selfSigned(t *testing.T, cname string) (cert, key []byte) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cname}, DNSNames: []string{cname},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
