package clusterruntime

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/mlfleet/mlfleet/internal/inference"
	"github.com/mlfleet/mlfleet/internal/inference/router"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/pki"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// pidScript is a scoring script that records its process id in its work directory and
// answers with it, so that tests can find and count the processes.
const pidScript = `
import json, os
def init():
    with open("pid", "w") as f:
        f.write(str(os.getpid()))
def run(raw):
    return {"pid": os.getpid(), "input": json.loads(raw), "model": sorted(os.listdir(os.environ["AZUREML_MODEL_DIR"])), "flavour": os.environ.get("FLAVOUR")}
`

// inferenceNamespace skips the test where no Python runs, and returns the shared cluster and
// the namespace name made in it for the test.
func inferenceNamespace(t *testing.T, name string) (*testCluster, string) {
	t.Helper()
	needPython(t)
	c := sharedCluster(t)
	return c, newNamespace(t, c.client, name)
}

// needPython skips the test where no Python runs.
func needPython(t *testing.T) {
	t.Helper()
	if testPython == "" {
		t.Skip("no python3")
	}
}

// testFiles are the files of the tests' inference pods by "namespace/deployment": the
// tests' FilesResolver (processOptions) finds them there.
var testFiles sync.Map

// resolveTestFiles is the tests' inference.FilesResolver.
func resolveTestFiles(_ context.Context, _, namespace string, labels map[string]string) (inference.PodFiles, error) {
	if f, ok := testFiles.Load(namespace + "/" + labels[inference.LabelDeployment]); ok {
		return f.(inference.PodFiles), nil
	}
	return inference.PodFiles{}, fmt.Errorf("no files for a pod of %s with labels %v", namespace, labels)
}

// inferenceDeployment is a Deployment in ns as the API side writes it, running script.
func inferenceDeployment(t *testing.T, ns, name string, replicas int32, script string) *appsv1.Deployment {
	t.Helper()
	code, model := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(code, "score.py"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(model, "model.pkl"), []byte("m"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := deploymentOf(name, replicas, v1.ResourceList{})
	tpl := &d.Spec.Template
	tpl.Labels[inference.LabelEndpoint] = "ep"
	tpl.Labels[inference.LabelDeployment] = name
	tpl.Annotations = map[string]string{inference.AnnotationRuntime: inference.RuntimePython}
	testFiles.Store(ns+"/"+name, inference.PodFiles{ModelDir: model, CodeDir: code, ScoringScript: "score.py"})
	tpl.Spec.Containers[0].Name = inference.ContainerName
	tpl.Spec.Containers[0].Image = inference.DefaultImage
	tpl.Spec.Containers[0].Env = []v1.EnvVar{{Name: "FLAVOUR", Value: "vanilla"}}
	return d
}

// score posts a request to the process at addr and returns the pid it answers with.
func score(addr string) (int, error) {
	req, err := inference.NewScoreRequest(context.Background(), addr, "", strings.NewReader(`{"x": [1, 2]}`))
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct {
		PID     int
		Input   map[string][]int
		Model   []string
		Flavour string
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || out.Flavour != "vanilla" ||
		len(out.Model) != 1 || out.Model[0] != "model.pkl" || len(out.Input["x"]) != 2 {
		return 0, fmt.Errorf("POST %s/score = %d %s", addr, resp.StatusCode, b)
	}
	return out.PID, nil
}

// processPods waits until ns has want Ready pods of app, each with a local address
// where its process answers, and returns the pids the processes answer with, by address.
func processPods(t *testing.T, client kubernetes.Interface, ns, app string, want int) map[string]int {
	t.Helper()
	var pids map[string]int
	testutil.WaitFor(t, 60*time.Second, fmt.Sprintf("%d pods of %s answering", want, app), func() (bool, string) {
		// Right after a restart the pods still show the status and address from before.
		pods := runningPods(t, client, ns, "app="+app, want)
		pids = map[string]int{}
		for _, p := range pods {
			addr := p.Annotations[inference.AnnotationLocalAddress]
			if addr == "" {
				return false, "ready pod " + p.Name + " has no local address"
			}
			pid, err := score(addr)
			if err != nil {
				return false, err.Error()
			}
			pids[addr] = pid
		}
		return len(pids) == want, fmt.Sprintf("%d pods on %d addresses", want, len(pids))
	})
	return pids
}

func waitGone(t *testing.T, pids map[string]int) {
	t.Helper()
	testutil.WaitFor(t, 30*time.Second, "processes gone", func() (bool, string) {
		var left []string
		for addr, pid := range pids {
			if testutil.ProcessAlive(pid) {
				left = append(left, addr+"="+strconv.Itoa(pid))
			}
		}
		return len(left) == 0, "still running: " + strings.Join(left, " ")
	})
}

func setReplicas(t *testing.T, client kubernetes.Interface, ns, name string, n int32) {
	t.Helper()
	// The deployment controller writes the Deployment too: retry on conflicts.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		scale, err := client.AppsV1().Deployments(ns).GetScale(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		scale.Spec.Replicas = n
		_, err = client.AppsV1().Deployments(ns).UpdateScale(t.Context(), name, scale, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestInferencePodsRunAsProcesses(t *testing.T) {
	c, ns := inferenceNamespace(t, "inference")
	ctx := t.Context()
	create(t, c.client.AppsV1().Deployments(ns).Create, inferenceDeployment(t, ns, "blue", 1, pidScript))
	one := processPods(t, c.client, ns, "blue", 1)

	setReplicas(t, c.client, ns, "blue", 3)
	three := processPods(t, c.client, ns, "blue", 3)
	for addr, pid := range one {
		if three[addr] != pid {
			t.Errorf("scale-out replaced the process at %s: %v, then %v", addr, one, three)
		}
	}

	setReplicas(t, c.client, ns, "blue", 1)
	left := processPods(t, c.client, ns, "blue", 1)
	gone := map[string]int{}
	for addr, pid := range three {
		if _, ok := left[addr]; !ok {
			gone[addr] = pid
		}
	}
	if len(gone) != 2 {
		t.Fatalf("after scale-in to 1: %v left of %v", left, three)
	}
	waitGone(t, gone)

	if err := c.client.AppsV1().Deployments(ns).Delete(ctx, "blue", metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationForeground)}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, left)
}

// TestInferencePodFilesNotFromThePod: a pod runs with the files the FilesResolver finds for
// it, whatever directories its annotations name (as mlfleet's pods once did), and a pod
// the resolver knows nothing of runs no process at all. Whoever holds a cluster's
// kubeconfig writes its pods: a directory taken from them would be mounted into the
// script's sandbox, mlfleet's home (its admin token) among them.
func TestInferencePodFilesNotFromThePod(t *testing.T) {
	c, ns := inferenceNamespace(t, "inference-files")
	ctx := t.Context()
	secret := t.TempDir()
	if err := os.WriteFile(filepath.Join(secret, "admin.token"), []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := inferenceDeployment(t, ns, "known", 1, pidScript)
	d.Spec.Template.Annotations["ml.mlfleet.io/model-dir"] = secret
	d.Spec.Template.Annotations["ml.mlfleet.io/code-dir"] = secret
	create(t, c.client.AppsV1().Deployments(ns).Create, d)
	processPods(t, c.client, ns, "known", 1) // score checks the model dir holds model.pkl alone

	stranger := inferenceDeployment(t, ns, "stranger", 1, pidScript)
	testFiles.Delete(ns + "/stranger")
	stranger.Spec.Template.Annotations["ml.mlfleet.io/model-dir"] = secret
	create(t, c.client.AppsV1().Deployments(ns).Create, stranger)
	testutil.WaitFor(t, 60*time.Second, "the stranger's pod waiting with the resolver's error", func() (bool, string) {
		list, err := c.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=stranger"})
		if err != nil || len(list.Items) != 1 || len(list.Items[0].Status.ContainerStatuses) != 1 {
			return false, fmt.Sprintf("%v %v", list, err)
		}
		pod := list.Items[0]
		w := pod.Status.ContainerStatuses[0].State.Waiting
		return w != nil && strings.Contains(w.Message, "no files for a pod of") && pod.Annotations[inference.AnnotationLocalAddress] == "",
			fmt.Sprintf("%+v %v", pod.Status.ContainerStatuses[0], pod.Annotations)
	})
}

func TestInferencePodInitFails(t *testing.T) {
	c, ns := inferenceNamespace(t, "inference-broken")
	ctx := t.Context()
	d := inferenceDeployment(t, ns, "broken", 1, "def init():\n    raise RuntimeError('cannot load the model')\ndef run(raw):\n    return raw\n")
	create(t, c.client.AppsV1().Deployments(ns).Create, d)
	var pod v1.Pod
	testutil.WaitFor(t, 60*time.Second, "crash loop reported", func() (bool, string) {
		list, err := c.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=broken"})
		if err != nil || len(list.Items) != 1 {
			return false, fmt.Sprintf("%v %v", list, err)
		}
		pod = list.Items[0]
		if len(pod.Status.ContainerStatuses) != 1 {
			return false, fmt.Sprintf("%+v", pod.Status)
		}
		cs := pod.Status.ContainerStatuses[0]
		last := cs.LastTerminationState.Terminated
		return cs.RestartCount >= 2 && last != nil && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff",
			fmt.Sprintf("%+v", cs)
	})
	cs := pod.Status.ContainerStatuses[0]
	last := cs.LastTerminationState.Terminated
	if cs.Ready || kube.PodReady(&pod) || last.ExitCode != 1 || last.Reason != "Error" || !strings.Contains(last.Message, "RuntimeError: cannot load the model") {
		t.Fatalf("status of a pod whose init() raises: %+v", pod.Status)
	}
	// As a kubelet says it, with when the next attempt is due.
	if w := cs.State.Waiting.Message; !strings.HasPrefix(w, "back-off ") || !strings.Contains(w, " restarting failed container=inference-server; next attempt at ") {
		t.Fatalf("waiting message = %q, want the back-off and the next attempt", w)
	}
	logs, err := c.runtime.PodLogs(ns, pod.Name, "", 50)
	if err != nil || !strings.Contains(logs, "Traceback (most recent call last)") || !strings.Contains(logs, "RuntimeError: cannot load the model") {
		t.Fatalf("PodLogs = %q, %v; want the traceback", logs, err)
	}
	if _, err := c.runtime.PodLogs(ns, "nope", "", 10); err == nil {
		t.Fatal("PodLogs of a missing pod succeeded")
	}
}

// TestInferencePodsComeBackAfterRestart stops the runtime (its processes end) and starts
// another one on the same cluster: the pods get their processes back.
func TestInferencePodsComeBackAfterRestart(t *testing.T) {
	needPython(t)
	c := newCluster(t, "inference-restart")
	ctx := t.Context()
	first, err := Start(ctx, c.config, processOptions("inference-restart"))
	if err != nil {
		t.Fatal(err)
	}
	if err := first.SetPool(ctx, poolD3); err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t, c.client, "keep")
	create(t, c.client.AppsV1().Deployments(ns).Create, inferenceDeployment(t, ns, "green", 2, pidScript))
	before := processPods(t, c.client, ns, "green", 2)
	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := first.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	waitGone(t, before)

	c.runtime, err = Start(ctx, c.config, processOptions("inference-restart"))
	if err != nil {
		t.Fatal(err)
	}
	after := processPods(t, c.client, ns, "green", 2)
	for addr, pid := range after {
		if before[addr] == pid {
			t.Errorf("process %d at %s survived the stop", pid, addr)
		}
	}
	stopCtx2, cancel2 := context.WithTimeout(ctx, time.Minute)
	defer cancel2()
	if err := c.runtime.Stop(stopCtx2); err != nil {
		t.Fatal(err)
	}
	waitGone(t, after)
}

// TestRouterScoresThroughProcesses runs the whole path on a real apiserver: an endpoint's
// Secret, a Deployment as the API side writes it and the azureml-fe Service; the router
// reports its address on the Service and forwards a scoring request to a Python process.
func TestRouterScoresThroughProcesses(t *testing.T) {
	c, ns := inferenceNamespace(t, inference.Namespace)
	ctx := t.Context()
	cfg, _ := json.Marshal(inference.EndpointConfig{Name: "ep", AuthMode: inference.AuthKey, Keys: []string{"k1", "k2"},
		Traffic: map[string]int{"blue": 100}, Deployments: map[string]inference.DeploymentRouting{"blue": {RequestTimeoutMS: 10_000}}})
	secret := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: inference.SecretObjectName("ep"),
		Labels: map[string]string{inference.LabelEndpointConfig: "true", inference.LabelEndpoint: "ep"}},
		Data: map[string][]byte{inference.SecretKeyConfig: cfg}}
	create(t, c.client.CoreV1().Secrets(ns).Create, secret)
	create(t, c.client.AppsV1().Deployments(ns).Create, inferenceDeployment(t, ns, "blue", 2, pidScript))
	svc := &v1.Service{ObjectMeta: metav1.ObjectMeta{Name: inference.FrontEndService},
		Spec: v1.ServiceSpec{Selector: map[string]string{"app": "azureml-fe"}, Ports: []v1.ServicePort{{Port: 80}}}}
	create(t, c.client.CoreV1().Services(ns).Create, svc)
	srv, err := router.StartServer(ctx, c.client, router.ServerOptions{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	pids := processPods(t, c.client, ns, "blue", 2)

	var addr string
	testutil.WaitFor(t, 30*time.Second, "router address on the service", func() (bool, string) {
		s, err := c.client.CoreV1().Services(ns).Get(ctx, inference.FrontEndService, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		addr = s.Annotations[inference.AnnotationLocalAddress]
		return addr != "" && s.Annotations[inference.AnnotationLocalScheme] == "http", fmt.Sprint(s.Annotations)
	})
	call := func(key string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/endpoint/ep/score", strings.NewReader(`{"x": [1, 2]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	answered := map[int]bool{}
	testutil.WaitFor(t, 30*time.Second, "both instances answer through the router", func() (bool, string) {
		code, body := call("k2")
		var out struct{ PID int }
		if code == 200 && json.Unmarshal([]byte(body), &out) == nil {
			answered[out.PID] = true
		}
		return len(answered) == 2, fmt.Sprintf("%d %s; answered %v of %v", code, body, answered, pids)
	})
	for _, pid := range pids {
		if !answered[pid] {
			t.Fatalf("instances answering %v, want the pods' processes %v", answered, pids)
		}
	}
	if code, body := call("wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong key = %d %s, want 401", code, body)
	}

	// With the front-end's TLS Secret the router serves HTTPS with its certificate.
	ca, err := pki.EnsureCA(t.TempDir(), "test CA")
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.Issue("azureml-fe", nil, []string{"127.0.0.1"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tlsSecret := &v1.Secret{ObjectMeta: metav1.ObjectMeta{Name: inference.FrontEndTLSSecret}, Type: v1.SecretTypeTLS,
		Data: map[string][]byte{v1.TLSCertKey: certPEM, v1.TLSPrivateKeyKey: keyPEM}}
	create(t, c.client.CoreV1().Secrets(ns).Create, tlsSecret)
	testutil.WaitFor(t, 30*time.Second, "router on https", func() (bool, string) {
		s, err := c.client.CoreV1().Services(ns).Get(ctx, inference.FrontEndService, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		addr = s.Annotations[inference.AnnotationLocalAddress]
		return s.Annotations[inference.AnnotationLocalScheme] == "https", fmt.Sprint(s.Annotations)
	})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.CertPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	req, _ := http.NewRequest(http.MethodPost, "https://"+addr+"/api/v1/endpoint/ep/score", strings.NewReader(`{"x": [1, 2]}`))
	req.Header.Set("Authorization", "Bearer k1")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("score over https: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("score over https = %d", resp.StatusCode)
	}

	// Without the Service the router stops listening.
	if err := c.client.CoreV1().Services(ns).Delete(ctx, inference.FrontEndService, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "router closed", func() (bool, string) {
		a, _ := srv.Addr()
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
		}
		return a == "" && err != nil, fmt.Sprintf("router at %q, dial %s: %v", a, addr, err)
	})
}
