package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/mlfleet/mlfleet/internal/catalog"
	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

const scoreScript = `
import json, os
def init():
    print("loading model from", os.environ["AZUREML_MODEL_DIR"])
def run(raw):
    return {"pid": os.getpid(), "doubled": [2 * x for x in json.loads(raw)["data"]],
            "providerDir": sorted(os.listdir(os.environ["PROVIDER_DIR"]))}
`

// TestInferenceOnEmbeddedCluster deploys a scoring script the way the API side does and
// scores it through the provider's in-process router; the provider is closed and started
// again on the same data (a restart of mlfleet) and serves again at the same address;
// deleting the cluster leaves no process. The script sees of the provider's directory only
// the way to its own work directory, not the etcd (its sandbox).
func TestInferenceOnEmbeddedCluster(t *testing.T) {
	if os.Getenv("TMP_KLOG") == "" {
		klog.SetLogger(logr.Discard())
	}
	python, err := inference.ResolvePython(t.Context(), "python3")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	code, model := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(code, "score.py"), []byte(scoreScript), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := provider.ClusterSpec{ID: "inf1", Name: "inf1", Location: "westeurope",
		Pools: []provider.NodePool{{Name: "nodepool1", Count: 1, VMSize: "Standard_D3_v2", Mode: "System"}}}
	start := func() (*Provider, kubernetes.Interface) {
		p, err := New(dir, catalog.DefaultVMSizes(), nil, WithPython(python))
		if err != nil {
			t.Fatal(err)
		}
		// As the endpoints service finds them: by the cluster and the pod's labels.
		p.SetFilesResolver(func(_ context.Context, clusterID, namespace string, labels map[string]string) (inference.PodFiles, error) {
			if clusterID != spec.ID || namespace != inference.Namespace || labels[inference.LabelDeployment] != "blue" {
				return inference.PodFiles{}, fmt.Errorf("no deployment for %s %s %v", clusterID, namespace, labels)
			}
			return inference.PodFiles{ModelDir: model, CodeDir: code, ScoringScript: "score.py"}, nil
		})
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		return p, ensureCluster(t, ctx, p, spec)
	}
	p, client := start()
	if !p.Info().ServesEndpoints {
		t.Fatal("the embedded provider does not say it serves endpoints")
	}
	ctx := t.Context()
	ns := inference.Namespace
	mustCreate := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = client.CoreV1().Namespaces().Create(ctx, &v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	mustCreate(err)
	cfg, _ := json.Marshal(inference.EndpointConfig{Name: "ep", AuthMode: inference.AuthKey, Keys: []string{"key1"},
		Traffic: map[string]int{"blue": 100}})
	_, err = client.CoreV1().Secrets(ns).Create(ctx, &v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: inference.SecretObjectName("ep"),
		Labels: map[string]string{inference.LabelEndpointConfig: "true", inference.LabelEndpoint: "ep"}},
		Data: map[string][]byte{inference.SecretKeyConfig: cfg}}, metav1.CreateOptions{})
	mustCreate(err)
	labels := map[string]string{inference.LabelEndpoint: "ep", inference.LabelDeployment: "blue"}
	_, err = client.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: inference.DeploymentObjectName("ep", "blue")},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: v1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{
					inference.AnnotationRuntime: inference.RuntimePython}},
				Spec: v1.PodSpec{Containers: []v1.Container{{Name: inference.ContainerName, Image: inference.DefaultImage,
					Env: []v1.EnvVar{{Name: "PROVIDER_DIR", Value: dir}}}}},
			}},
	}, metav1.CreateOptions{})
	mustCreate(err)
	_, err = client.CoreV1().Services(ns).Create(ctx, &v1.Service{ObjectMeta: metav1.ObjectMeta{Name: inference.FrontEndService},
		Spec: v1.ServiceSpec{Type: v1.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "azureml-fe"}, Ports: []v1.ServicePort{{Port: 80}}}},
		metav1.CreateOptions{})
	mustCreate(err)

	// score waits until the endpoint answers through the router at the Service's address
	// and returns that address and the pid of the process that answered.
	score := func(client kubernetes.Interface) (string, int) {
		t.Helper()
		var addr string
		var pid int
		testutil.WaitFor(t, 60*time.Second, "the endpoint scores", func() (bool, string) {
			svc, err := client.CoreV1().Services(ns).Get(ctx, inference.FrontEndService, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			addr = svc.Annotations[inference.AnnotationLocalAddress]
			if addr == "" {
				return false, "no address on the service"
			}
			req, _ := http.NewRequest(http.MethodPost, svc.Annotations[inference.AnnotationLocalScheme]+"://"+addr+"/api/v1/endpoint/ep/score",
				strings.NewReader(`{"data": [1, 2.5]}`))
			req.Header.Set("Authorization", "Bearer key1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false, err.Error()
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out struct {
				PID         int
				Doubled     []float64
				ProviderDir []string
			}
			if resp.StatusCode == 200 && json.Unmarshal(b, &out) == nil && fmt.Sprint(out.Doubled) == "[2 5]" {
				pid = out.PID
				if fmt.Sprint(out.ProviderDir) != "["+spec.ID+"]" {
					t.Errorf("the scoring script sees %v in the provider's directory, want only [%s] (the way to its work directory)", out.ProviderDir, spec.ID)
				}
				return true, ""
			}
			return false, fmt.Sprintf("%d %s", resp.StatusCode, b)
		})
		return addr, pid
	}
	addr, pid := score(client)

	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: inference.LabelDeployment + "=blue"})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods: %v %v", pods, err)
	}
	logs, err := p.PodLogs(ctx, spec.ID, ns, pods.Items[0].Name, inference.ContainerName, 20)
	if err != nil || !strings.Contains(logs, "loading model from "+model) {
		t.Fatalf("PodLogs = %q, %v", logs, err)
	}
	if _, err := p.PodLogs(ctx, spec.ID, ns, "missing", "", 20); !errors.Is(err, provider.ErrNoLogs) {
		t.Fatalf("PodLogs of a missing pod = %v, want ErrNoLogs", err)
	}

	// A restart of mlfleet: the processes end with it and come back, at the same address.
	closeCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	if testutil.ProcessAlive(pid) {
		t.Fatalf("process %d outlives the provider", pid)
	}
	p, client = start()
	addr2, pid2 := score(client)
	if addr2 != addr || pid2 == pid {
		t.Fatalf("after a restart: %s (pid %d), before %s (pid %d); want the same address, a new process", addr2, pid2, addr, pid)
	}
	if err := p.Delete(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	if testutil.ProcessAlive(pid2) {
		t.Fatalf("process %d outlives the cluster", pid2)
	}
	if err := p.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
}
