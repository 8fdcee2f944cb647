package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// tarOf packs files (name → content) as a tar archive.
func tarOf(t testing.TB, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(content))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// registerCode uploads files as a tar and registers them as code version name:1 of a
// workspace, returning its id.
func registerCode(t *testing.T, rg, ws, name string, files map[string]string) string {
	t.Helper()
	base := wsPath(rg, ws)
	up := do(t, call{method: "PUT", path: base + "/blobs" + mlAPI, body: tarOf(t, files)})
	must(t, up, http.StatusCreated)
	must(t, do(t, call{method: "PUT", path: base + "/codes/" + name + "/versions/1" + mlAPI, body: `{"properties":{"codeUri":"` + up.body["uri"].(string) + `"}}`}), http.StatusCreated)
	return base + "/codes/" + name + "/versions/1"
}

// registerEcho uploads a model file and echoScore through c and registers them as model
// and code name:version of workspace ws; it returns their ids.
func registerEcho(t testing.TB, c *mlfleet.Client, rg, ws, name, version string) (modelID, codeID string) {
	t.Helper()
	ctx := context.Background()
	model, err := c.UploadBlob(ctx, rg, ws, strings.NewReader("model "+version))
	if err != nil {
		t.Fatal(err)
	}
	mv := &mlfleet.AssetVersion{Properties: mlfleet.AssetVersionProperties{ModelURI: model.URI + "/model.pkl"}}
	if _, err := c.CreateOrUpdateAssetVersion(ctx, rg, ws, mlfleet.AssetModels, name, version, mv, true); err != nil {
		t.Fatal(err)
	}
	code, err := c.UploadBlob(ctx, rg, ws, strings.NewReader(tarOf(t, map[string]string{"score.py": echoScore})))
	if err != nil {
		t.Fatal(err)
	}
	cv := &mlfleet.AssetVersion{Properties: mlfleet.AssetVersionProperties{CodeURI: code.URI}}
	if _, err := c.CreateOrUpdateAssetVersion(ctx, rg, ws, mlfleet.AssetCodes, name, version, cv, true); err != nil {
		t.Fatal(err)
	}
	return c.AssetVersionID(rg, ws, mlfleet.AssetModels, name, version), c.AssetVersionID(rg, ws, mlfleet.AssetCodes, name, version)
}

const echoScore = "def init():\n    pass\n\ndef run(raw):\n    return raw\n"

// endpointSecret reads endpoint.json of an endpoint's Secret.
func endpointSecret(t *testing.T, k kubernetes.Interface, ep string) (map[string]string, map[string]any) {
	t.Helper()
	s, err := k.CoreV1().Secrets("azureml").Get(context.Background(), "azureml-endpoint-"+ep, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("endpoint secret: %v", err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(s.Data["endpoint.json"], &cfg); err != nil {
		t.Fatalf("endpoint.json: %v", err)
	}
	return s.Labels, cfg
}

// newWorkspaceWithCompute creates the workspace ws in rg and in it the one-node DevTest AKS
// compute name, on the embedded provider, and waits until the compute has succeeded.
func newWorkspaceWithCompute(t *testing.T, rg, ws, name string) {
	t.Helper()
	newWorkspace(t, rg, ws)
	a := putCompute(t, rg, ws, name, `{"location":"westus","properties":{"computeType":"AKS","properties":{"clusterPurpose":"DevTest","agentCount":1}}}`, "")
	must(t, a, http.StatusCreated)
	if op, _ := waitPut(t, a, rg, ws, name); op["status"] != "Succeeded" {
		t.Fatalf("compute create: %v", op["error"])
	}
}

// TestOnlineEndpointDeploy registers a model and code, creates an endpoint and a
// deployment on an embedded compute, and checks what lands in the cluster (the contract
// with the runtime) and what the API reports, then traffic, keys and deletes.
func TestOnlineEndpointDeploy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rg, ws := "ep-rg", "ep-ws"
	newWorkspaceWithCompute(t, rg, ws, "epaks")
	computeID := computePath(rg, ws, "epaks")
	base := wsPath(rg, ws)

	up := do(t, call{method: "PUT", path: base + "/blobs" + mlAPI, body: "pickled model"})
	must(t, up, http.StatusCreated)
	modelURI := up.body["uri"].(string) + "/model.pkl"
	upc := do(t, call{method: "PUT", path: base + "/blobs" + mlAPI, body: tarOf(t, map[string]string{"score.py": echoScore})})
	must(t, upc, http.StatusCreated)
	must(t, do(t, call{method: "PUT", path: base + "/models/m/versions/1" + mlAPI, body: `{"properties":{"modelUri":"` + modelURI + `"}}`}), http.StatusCreated)
	must(t, do(t, call{method: "PUT", path: base + "/codes/c/versions/1" + mlAPI, body: `{"properties":{"codeUri":"` + upc.body["uri"].(string) + `"}}`}), http.StatusCreated)
	modelID, codeID := base+"/models/m/versions/1", base+"/codes/c/versions/1"

	epPath := base + "/onlineEndpoints/ep1"
	e := do(t, call{method: "PUT", path: epPath + mlAPI, body: `{"location":"westus","properties":{"authMode":"Key","compute":"` + computeID + `"}}`,
		headers: map[string]string{"If-None-Match": "*"}})
	must(t, e, http.StatusCreated)
	if e.header.Get("Azure-AsyncOperation") == "" || e.body["properties"].(map[string]any)["provisioningState"] != "Creating" {
		t.Fatalf("endpoint create answer: %v %s", e.header, e.raw)
	}
	if op := waitOperation(t, e.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("endpoint create: %v", op["error"])
	}
	must(t, do(t, call{method: "PUT", path: epPath + mlAPI, body: `{"location":"westus","properties":{"authMode":"Key"}}`, headers: map[string]string{"If-None-Match": "*"}}), http.StatusConflict)
	keys := do(t, call{method: "POST", path: epPath + "/listKeys" + mlAPI})
	must(t, keys, http.StatusOK)
	primary := keys.body["primaryKey"].(string)

	k := clusterAdmin(t, rg, "epaks")
	labels, cfg := endpointSecret(t, k, "ep1")
	if labels["ml.mlfleet.io/endpoint"] != "ep1" || labels["ml.mlfleet.io/endpoint-config"] != "true" || labels["app.kubernetes.io/managed-by"] != "mlfleet" {
		t.Fatalf("secret labels %v", labels)
	}
	if cfg["authMode"] != "Key" || !strings.Contains(fmt.Sprint(cfg["keys"]), primary) {
		t.Fatalf("endpoint.json %v lacks the primary key", cfg)
	}

	// Refused deployments: too many instances, a missing model, every problem together.
	depPath := epPath + "/deployments/blue"
	body := func(count int, itype, model string) string {
		return fmt.Sprintf(`{"location":"westus","sku":{"capacity":%d},"properties":{"endpointComputeType":"Kubernetes","model":%q,`+
			`"codeConfiguration":{"codeId":%q,"scoringScript":"score.py"},"instanceType":%q,"environmentVariables":{"GREETING":"hi"}}}`, count, model, codeID, itype)
	}
	big := do(t, call{method: "PUT", path: depPath + mlAPI, body: body(40, "largeinstancetype", modelID)})
	must(t, big, http.StatusBadRequest)
	if !strings.Contains(big.errorMessage(), "short by") {
		t.Errorf("capacity refusal does not name the shortfall: %s", big.errorMessage())
	}
	missing := do(t, call{method: "PUT", path: depPath + mlAPI, body: body(0, "tiny", base+"/models/m/versions/9")})
	must(t, missing, http.StatusBadRequest)
	for _, want := range []string{"properties.model", "properties.instanceType", "sku.capacity"} {
		if !strings.Contains(missing.raw, `"target":"`+want+`"`) {
			t.Errorf("refusal lacks %s: %s", want, missing.raw)
		}
	}

	d := do(t, call{method: "PUT", path: depPath + mlAPI, body: body(2, "smallinstancetype", modelID)})
	must(t, d, http.StatusCreated)
	var dep *appsv1.Deployment
	testutil.Eventually(t, 30*time.Second, "Deployment ep1-blue in the cluster", func() error {
		var err error
		dep, err = k.AppsV1().Deployments("azureml").Get(ctx, "ep1-blue", metav1.GetOptions{})
		return err
	})
	pt := dep.Spec.Template
	if *dep.Spec.Replicas != 2 || pt.Labels["ml.mlfleet.io/endpoint"] != "ep1" || pt.Labels["ml.mlfleet.io/deployment"] != "blue" ||
		dep.Spec.Selector.MatchLabels["ml.mlfleet.io/deployment"] != "blue" || dep.Labels["app.kubernetes.io/managed-by"] != "mlfleet" {
		t.Fatalf("deployment %+v", dep.ObjectMeta)
	}
	// The pods name no directory of the host (whoever holds the kubeconfig writes pods):
	// the runtime asks mlfleet for their files.
	if ann := pt.Annotations; len(ann) != 2 || ann["ml.mlfleet.io/runtime"] != "python-inference" || ann["ml.mlfleet.io/files"] == "" {
		t.Fatalf("pod annotations %v", ann)
	}
	ct := pt.Spec.Containers[0]
	if ct.Name != "inference-server" || ct.Ports[0].ContainerPort != 5001 || ct.ReadinessProbe.HTTPGet.Path != "/ready" || ct.LivenessProbe.HTTPGet.Path != "/" ||
		ct.Resources.Requests.Cpu().MilliValue() != 250 || !ct.Resources.Limits.Memory().Equal(*ct.Resources.Requests.Memory()) || ct.Env[0].Name != "GREETING" {
		t.Fatalf("container %+v", ct)
	}
	if op := waitOperation(t, d.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("deployment: %v", op["error"])
	}
	got := do(t, call{method: "GET", path: depPath + mlAPI})
	must(t, got, http.StatusOK)
	props := got.body["properties"].(map[string]any)
	if props["provisioningState"] != "Succeeded" || props["mlfleet"].(map[string]any)["readyInstances"] != 2.0 || props["compute"] != computeID {
		t.Fatalf("deployment %v", props)
	}
	// Named in the inference directory, with no path of the server's on the wire.
	modelDir, _ := props["mlfleet"].(map[string]any)["modelDir"].(string)
	if b, err := os.ReadFile(filepath.Join(shared.home, "inference", modelDir, "model.pkl")); err != nil || string(b) != "pickled model" || filepath.IsAbs(modelDir) {
		t.Errorf("model dir %s: %q %v", modelDir, b, err)
	}
	codeDir, _ := props["mlfleet"].(map[string]any)["codeDir"].(string)
	if _, err := os.Stat(filepath.Join(shared.home, "inference", codeDir, "score.py")); err != nil || filepath.IsAbs(codeDir) {
		t.Errorf("code dir %s: %v", codeDir, err)
	}
	must(t, do(t, call{method: "DELETE", path: base + "/models/m/versions/1" + mlAPI}), http.StatusConflict)
	must(t, do(t, call{method: "POST", path: depPath + "/getLogs" + mlAPI, body: `{"tail":-1}`}), http.StatusBadRequest)
	// The log comes from the provider when it can read it (the runtime's pods), else through
	// the API server; either way an answer, or a clear 409, never a 500.
	if logs := do(t, call{method: "POST", path: depPath + "/getLogs" + mlAPI, body: `{"containerType":"InferenceServer","tail":10}`}); logs.status != http.StatusOK && logs.status != http.StatusConflict {
		t.Errorf("getLogs: %d %s", logs.status, logs.raw)
	}
	// Names in another case reach the same instances (A1): the objects carry the stored
	// names, not this request's (QA9 #1: "has no instances yet" while 2 were ready).
	if logs := do(t, call{method: "POST", path: base + "/onlineEndpoints/EP1/deployments/BLUE/getLogs" + mlAPI, body: `{"tail":10}`}); logs.status != http.StatusOK &&
		(logs.status != http.StatusConflict || strings.Contains(logs.raw, "no instances yet")) {
		t.Errorf("getLogs through EP1/BLUE: %d %s", logs.status, logs.raw)
	}

	// ARM's read-modify-write (az resource update --set sku.capacity=1): the GET carries
	// the count in sku.capacity only, as Azure's DefaultScaleSettings has only scaleType,
	// so the body sent back changes the count (QA9 #4: 400 "disagree").
	var rmw map[string]any
	if err := json.Unmarshal([]byte(got.raw), &rmw); err != nil {
		t.Fatal(err)
	}
	if ss := props["scaleSettings"].(map[string]any); ss["instanceCount"] != nil || ss["scaleType"] != "Default" {
		t.Errorf("scaleSettings %v, want scaleType alone", ss)
	}
	rmw["sku"].(map[string]any)["capacity"] = 1
	rmwBody, _ := json.Marshal(rmw)
	scaled := do(t, call{method: "PUT", path: depPath + mlAPI, body: string(rmwBody)})
	must(t, scaled, http.StatusOK)
	if op := waitOperation(t, scaled.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("GET, sku.capacity=1, PUT: %v", op["error"])
	}
	if after := do(t, call{method: "GET", path: depPath + mlAPI}); after.body["sku"].(map[string]any)["capacity"] != 1.0 {
		t.Errorf("after GET, sku.capacity=1, PUT: %s", after.raw)
	}

	// Traffic goes into the Secret; a deployment with traffic cannot be deleted.
	p := do(t, call{method: "PATCH", path: epPath + mlAPI, body: `{"properties":{"traffic":{"blue":100}}}`})
	must(t, p, http.StatusAccepted)
	waitOperation(t, p.header.Get("Azure-AsyncOperation"))
	_, cfg = endpointSecret(t, k, "ep1")
	if blue := cfg["deployments"].(map[string]any)["blue"].(map[string]any); fmt.Sprint(cfg["traffic"]) != "map[blue:100]" ||
		blue["requestTimeoutMs"] != 5000.0 || blue["maxQueueWaitMs"] != 500.0 {
		t.Fatalf("endpoint.json after traffic: %v", cfg)
	}
	must(t, do(t, call{method: "DELETE", path: depPath + mlAPI}), http.StatusConflict)
	// A forced attach of the cluster to another compute would detach epaks from under the
	// deployment, which a detach refuses; so does the force.
	cluster := do(t, call{method: "GET", path: computeID + mlAPI})
	must(t, cluster, http.StatusOK)
	clusterID := cluster.body["properties"].(map[string]any)["resourceId"].(string)
	forced := putCompute(t, rg, ws, "epaks-forced", `{"location":"westus","properties":{"computeType":"AKS","resourceId":"`+clusterID+`","properties":{"clusterPurpose":"DevTest"}}}`, "&force=true")
	must(t, forced, http.StatusConflict)
	if !strings.Contains(forced.errorMessage(), "deployment 'blue' of endpoint 'ep1'") {
		t.Fatalf("forced attach of a cluster in use: %s", forced.raw)
	}
	// So does a delete of the cluster itself (az aks delete).
	if del := do(t, call{method: "DELETE", path: clusterID + csAPI}); del.status != http.StatusConflict || !strings.Contains(del.errorMessage(), "deployment 'blue' of endpoint 'ep1'") {
		t.Fatalf("delete of a cluster in use: %d %s", del.status, del.raw)
	}
	ep := do(t, call{method: "GET", path: epPath + mlAPI})
	// The embedded cluster's router serves the scoring URI: the key is checked, the request
	// reaches the deployment's score.py.
	uri, _ := ep.body["properties"].(map[string]any)["scoringUri"].(string)
	if !strings.HasSuffix(uri, "/api/v1/endpoint/ep1/score") {
		t.Fatalf("scoringUri %q, mlfleet %v", uri, ep.body["properties"].(map[string]any)["mlfleet"])
	}
	res, err := sdk(t).InvokeOnlineEndpoint(ctx, uri, primary, "", []byte(`{"data":[[1,2]]}`))
	if err != nil || res.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), "data") {
		t.Fatalf("invoke: %v %+v", err, res)
	}
	if res, err := sdk(t).InvokeOnlineEndpoint(ctx, uri, "wrong-key-wrong-key", "", []byte(`{}`)); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("invoke with a wrong key: %v %+v", err, res)
	}

	// A regenerated key replaces the old one in the cluster.
	rk := do(t, call{method: "POST", path: epPath + "/regenerateKeys" + mlAPI, body: `{"keyType":"Primary"}`})
	must(t, rk, http.StatusAccepted)
	waitOperation(t, rk.header.Get("Azure-AsyncOperation"))
	keys = do(t, call{method: "POST", path: epPath + "/listKeys" + mlAPI})
	if keys.body["primaryKey"] == primary {
		t.Fatal("primary key not regenerated")
	}
	if _, cfg = endpointSecret(t, k, "ep1"); strings.Contains(fmt.Sprint(cfg["keys"]), primary) {
		t.Fatal("the old key is still in the secret")
	}
	testutil.Eventually(t, 20*time.Second, "the router refuses the old key and takes the new one", func() error {
		old, err := sdk(t).InvokeOnlineEndpoint(ctx, uri, primary, "", []byte(`{}`))
		if err != nil || old.StatusCode != http.StatusUnauthorized {
			return fmt.Errorf("old key: %v %+v", err, old)
		}
		fresh, err := sdk(t).InvokeOnlineEndpoint(ctx, uri, keys.body["primaryKey"].(string), "", []byte(`{"data":1}`))
		if err != nil || fresh.StatusCode != http.StatusOK {
			return fmt.Errorf("new key: %v %+v", err, fresh)
		}
		return nil
	})

	// TLS turned on for the compute, then off: the scoring URI follows the router each
	// time, and the certificate mlfleet issues verifies at that URI (the SDK trusts
	// mlfleet's CA, as az does with REQUESTS_CA_BUNDLE).
	primary = keys.body["primaryKey"].(string)
	for _, tc := range []struct {
		ssl    map[string]any
		scheme string
	}{
		{map[string]any{"status": "Auto", "leafDomainLabel": "epscore"}, "https://"},
		{map[string]any{"status": "Disabled"}, "http://"},
	} {
		if op, _ := update(t, rg, ws, "epaks", map[string]any{"sslConfiguration": tc.ssl}); op["status"] != "Succeeded" {
			t.Fatalf("compute TLS %v: %v", tc.ssl["status"], op["error"])
		}
		ep = do(t, call{method: "GET", path: epPath + mlAPI})
		uri, _ = ep.body["properties"].(map[string]any)["scoringUri"].(string)
		if !strings.HasPrefix(uri, tc.scheme) {
			t.Fatalf("scoringUri after TLS %v: %q, want %s…", tc.ssl["status"], uri, tc.scheme)
		}
		if res, err := sdk(t).InvokeOnlineEndpoint(ctx, uri, primary, "", []byte(`{"data":2}`)); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("invoke %s after TLS %v: %v %+v", uri, tc.ssl["status"], err, res)
		}
	}

	// After its operation the deployment still follows its cluster (the deployment monitor,
	// every health interval): its Kubernetes Deployment deleted with kubectl shows 0 ready
	// instances and a message saying how to create it again; provisioningState stays the
	// last PUT's. An update creates it again, and the message goes.
	if err := k.AppsV1().Deployments("azureml").Delete(ctx, "ep1-blue", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 30*time.Second, "readyInstances 0 and a message once the Kubernetes Deployment is deleted", func() error {
		props := do(t, call{method: "GET", path: depPath + mlAPI}).body["properties"].(map[string]any)
		m, _ := props["mlfleet"].(map[string]any)
		if props["provisioningState"] != "Succeeded" || m["readyInstances"] != 0.0 || !strings.Contains(fmt.Sprint(m["message"]), "Kubernetes Deployment azureml/ep1-blue is missing") {
			return fmt.Errorf("provisioningState %v, mlfleet %v", props["provisioningState"], m)
		}
		return nil
	})
	again := do(t, call{method: "PUT", path: depPath + mlAPI, body: body(2, "smallinstancetype", modelID)})
	must(t, again, http.StatusOK)
	if op := waitOperation(t, again.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("deployment update after its Deployment's delete: %v", op["error"])
	}
	props = do(t, call{method: "GET", path: depPath + mlAPI}).body["properties"].(map[string]any)
	if m := props["mlfleet"].(map[string]any); m["readyInstances"] != 2.0 || m["message"] != nil {
		t.Fatalf("deployment once updated again: %v", m)
	}
	if _, err := k.AppsV1().Deployments("azureml").Get(ctx, "ep1-blue", metav1.GetOptions{}); err != nil {
		t.Fatalf("the update did not create the Deployment again: %v", err)
	}

	// Deleting the endpoint removes its deployments and objects.
	del := do(t, call{method: "DELETE", path: epPath + mlAPI})
	must(t, del, http.StatusAccepted)
	if op := waitOperation(t, del.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("endpoint delete: %v", op["error"])
	}
	must(t, do(t, call{method: "GET", path: epPath + mlAPI}), http.StatusNotFound)
	if _, err := k.AppsV1().Deployments("azureml").Get(ctx, "ep1-blue", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("deployment left in the cluster: %v", err)
	}
	if _, err := k.CoreV1().Secrets("azureml").Get(ctx, "azureml-endpoint-ep1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("secret left in the cluster: %v", err)
	}
}

// TestDeploymentCrashLoop: a deployment whose scoring script's init() raises keeps
// crashing; it ends Failed with the traceback from the container's last output, and its
// objects stay for getLogs. Deleting the workspace then takes everything along.
func TestDeploymentCrashLoop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rg, ws := "crash-rg", "crash-ws"
	newWorkspaceWithCompute(t, rg, ws, "crashaks")
	base := wsPath(rg, ws)
	codeID := registerCode(t, rg, ws, "bad", map[string]string{"score.py": "def init():\n    raise ValueError('model file missing')\n\ndef run(raw):\n    return raw\n"})
	epPath := base + "/onlineEndpoints/crashep"
	e := do(t, call{method: "PUT", path: epPath + mlAPI, body: `{"location":"westus","properties":{"authMode":"Key","compute":"` + computePath(rg, ws, "crashaks") + `"}}`})
	must(t, e, http.StatusCreated)
	waitOperation(t, e.header.Get("Azure-AsyncOperation"))

	d := do(t, call{method: "PUT", path: epPath + "/deployments/red" + mlAPI,
		body: `{"location":"westus","properties":{"endpointComputeType":"Kubernetes","codeConfiguration":{"codeId":"` + codeID + `","scoringScript":"score.py"}}}`})
	must(t, d, http.StatusCreated)
	op := waitOperation(t, d.header.Get("Azure-AsyncOperation"))
	if op["status"] != "Failed" || !strings.Contains(fmt.Sprint(op["error"]), "model file missing") {
		t.Fatalf("operation %v: %v", op["status"], op["error"])
	}
	got := do(t, call{method: "GET", path: epPath + "/deployments/red" + mlAPI})
	props := got.body["properties"].(map[string]any)
	// Restarted as a kubelet would: at once, then after a back-off, whose end it names.
	if msg := fmt.Sprint(props["mlfleet"]); props["provisioningState"] != "Failed" || !strings.Contains(msg, "keeps failing (restarted once; back-off 10s restarting failed container=inference-server; next attempt at ") {
		t.Fatalf("deployment after the crash loop: %v", props)
	}
	logs := do(t, call{method: "POST", path: epPath + "/deployments/red/getLogs" + mlAPI, body: `{"tail":50}`})
	must(t, logs, http.StatusOK)
	if !strings.Contains(fmt.Sprint(logs.body["content"]), "ValueError") {
		t.Errorf("getLogs lacks the traceback: %v", logs.body["content"])
	}
	k := clusterAdmin(t, rg, "crashaks")
	if _, err := k.AppsV1().Deployments("azureml").Get(ctx, "crashep-red", metav1.GetOptions{}); err != nil {
		t.Fatalf("the failed deployment's objects stay for its logs: %v", err)
	}

	// The same deployment with a script that works succeeds: the old instance, which
	// keeps crashing until the new one is Ready, is not the update's to judge.
	goodID := registerCode(t, rg, ws, "good", map[string]string{"score.py": echoScore})
	fixed := do(t, call{method: "PUT", path: epPath + "/deployments/red" + mlAPI,
		body: `{"location":"westus","properties":{"endpointComputeType":"Kubernetes","codeConfiguration":{"codeId":"` + goodID + `","scoringScript":"score.py"}}}`})
	must(t, fixed, http.StatusOK)
	if op := waitOperation(t, fixed.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("update of the failed deployment with a working script: %v %v", op["status"], op["error"])
	}

	// Deleting the workspace takes the endpoint, its deployment and their objects along,
	// the endpoint's Secret (its keys) too, from the cluster that outlives the compute.
	p, err := sdk(t).BeginDeleteWorkspace(ctx, rg, ws)
	finish(ctx, t, "workspace delete with an endpoint", p, err)
	must(t, do(t, call{method: "GET", path: epPath + mlAPI}), http.StatusNotFound)
	if _, err := k.AppsV1().Deployments("azureml").Get(ctx, "crashep-red", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("deployment left in the cluster after the workspace's delete: %v", err)
	}
	if _, err := k.CoreV1().Secrets("azureml").Get(ctx, "azureml-endpoint-crashep", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("endpoint secret left in the cluster after the workspace's delete: %v", err)
	}
	// Nothing of the workspace is left behind in the store (the endpoint's and deployment's
	// rows once were), as the group's resource list shows.
	left := do(t, call{method: "GET", path: rgPath(rg) + "/resources" + rgAPI})
	must(t, left, http.StatusOK)
	if strings.Contains(strings.ToLower(left.raw), "/workspaces/"+ws+"/") {
		t.Errorf("rows left under the deleted workspace: %s", left.raw)
	}
}

// TestDeploymentWaitsForAutoscaler: instances that fit only once the compute's autoscaled
// pool has grown are accepted; they stay pending until the autoscaler adds nodes, and the
// deployment ends Succeeded with all of them Ready. Beyond the pool's maximum, the PUT is
// refused naming the autoscaler's maximum.
func TestDeploymentWaitsForAutoscaler(t *testing.T) {
	t.Parallel()
	const rg, ws, cluster = "epas-rg", "epas-ws", "epasaks"
	newWorkspace(t, rg, ws)
	mustCLI(t, "aks", "create", "-n", cluster, "-g", rg, "--node-count", "1", "--node-vm-size", "Standard_D3_v2")
	mustCLI(t, "aks", "update", "-n", cluster, "-g", rg, "--enable-cluster-autoscaler", "--min-count", "1", "--max-count", "3",
		"--cluster-autoscaler-profile", "scan-interval=1s")
	mc, err := sdk(t).GetManagedCluster(context.Background(), rg, cluster)
	if err != nil {
		t.Fatal(err)
	}
	a := putCompute(t, rg, ws, "epasc", `{"location":"westus","properties":{"computeType":"AKS","resourceId":"`+mc.ID+`","properties":{"clusterPurpose":"DevTest"}}}`, "")
	must(t, a, http.StatusCreated)
	if op, _ := waitPut(t, a, rg, ws, "epasc"); op["status"] != "Succeeded" {
		t.Fatalf("attach: %v", op["error"])
	}
	base := wsPath(rg, ws)
	codeID := registerCode(t, rg, ws, "echo", map[string]string{"score.py": echoScore})
	epPath := base + "/onlineEndpoints/asep"
	e := do(t, call{method: "PUT", path: epPath + mlAPI, body: `{"location":"westus","properties":{"authMode":"Key","compute":"` + computePath(rg, ws, "epasc") + `"}}`})
	must(t, e, http.StatusCreated)
	waitOperation(t, e.header.Get("Azure-AsyncOperation"))
	body := func(n int) string {
		return fmt.Sprintf(`{"location":"westus","sku":{"capacity":%d},"properties":{"endpointComputeType":"Kubernetes","instanceType":"largeinstancetype","codeConfiguration":{"codeId":%q,"scoringScript":"score.py"}}}`, n, codeID)
	}
	tooMany := do(t, call{method: "PUT", path: epPath + "/deployments/big" + mlAPI, body: body(12)})
	must(t, tooMany, http.StatusBadRequest)
	if !strings.Contains(tooMany.errorMessage(), "autoscaler's maximum") {
		t.Errorf("refusal beyond the maximum: %s", tooMany.errorMessage())
	}
	d := do(t, call{method: "PUT", path: epPath + "/deployments/big" + mlAPI, body: body(3)})
	must(t, d, http.StatusCreated)
	if op := waitOperation(t, d.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("deployment: %v", op["error"])
	}
	k := clusterAdmin(t, rg, cluster)
	nodes, err := readyNodes(context.Background(), k)
	if err != nil || len(nodes) < 2 {
		t.Fatalf("the pool did not grow for the pending instances: %d nodes (%v)", len(nodes), err)
	}
}

// TestDeploymentMovesCompute: a deployment updated onto another compute runs there, and
// its instances and the endpoint's Secret leave the compute it moved off once it does;
// deleting the endpoint then cleans the new compute.
func TestDeploymentMovesCompute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const rg, ws = "move-rg", "move-ws"
	newWorkspaceWithCompute(t, rg, ws, "movefp1")
	a := putCompute(t, rg, ws, "movecff", `{"location":"westus","properties":{"computeType":"AKS","properties":{"clusterPurpose":"DevTest","agentCount":1}}}`, "")
	must(t, a, http.StatusCreated)
	if op, _ := waitPut(t, a, rg, ws, "movecff"); op["status"] != "Succeeded" {
		t.Fatalf("compute create: %v", op["error"])
	}
	codeID := registerCode(t, rg, ws, "echo", map[string]string{"score.py": echoScore})
	epPath := wsPath(rg, ws) + "/onlineEndpoints/epm"
	e := do(t, call{method: "PUT", path: epPath + mlAPI, body: `{"location":"westus","properties":{"authMode":"Key"}}`})
	must(t, e, http.StatusCreated)
	waitOperation(t, e.header.Get("Azure-AsyncOperation"))
	put := func(name, compute string) answer {
		t.Helper()
		return do(t, call{method: "PUT", path: epPath + "/deployments/" + name + mlAPI, body: `{"location":"westus","properties":{"endpointComputeType":"Kubernetes",` +
			`"compute":"` + computePath(rg, ws, compute) + `","codeConfiguration":{"codeId":"` + codeID + `","scoringScript":"score.py"}}}`})
	}
	deployNamed := func(name, compute string, status int) {
		t.Helper()
		d := put(name, compute)
		must(t, d, status)
		if op := waitOperation(t, d.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
			t.Fatalf("deployment %s on %s: %v", name, compute, op["error"])
		}
	}
	deploy := func(compute string, status int) { t.Helper(); deployNamed("blue", compute, status) }
	// traffic PATCHes the endpoint's traffic and mirror traffic, and waits for a change
	// that is accepted.
	traffic := func(body string, status int) answer {
		t.Helper()
		p := do(t, call{method: "PATCH", path: epPath + mlAPI, body: `{"properties":` + body + `}`})
		must(t, p, status)
		if status == http.StatusAccepted {
			if op := waitOperation(t, p.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
				t.Fatalf("traffic %s: %v", body, op["error"])
			}
		}
		return p
	}
	// present fails the test unless the cluster of compute holds blue's Deployment and
	// the endpoint's Secret (or, with want false, neither of them).
	present := func(compute string, want bool) {
		t.Helper()
		k := clusterAdmin(t, rg, compute)
		_, derr := k.AppsV1().Deployments("azureml").Get(ctx, "epm-blue", metav1.GetOptions{})
		_, serr := k.CoreV1().Secrets("azureml").Get(ctx, "azureml-endpoint-epm", metav1.GetOptions{})
		for what, err := range map[string]error{"deployment epm-blue": derr, "secret azureml-endpoint-epm": serr} {
			if want && err != nil {
				t.Errorf("%s missing from %s: %v", what, compute, err)
			}
			if !want && !apierrors.IsNotFound(err) {
				t.Errorf("%s left on %s: %v", what, compute, err)
			}
		}
		pods, err := k.CoreV1().Pods("azureml").List(ctx, metav1.ListOptions{LabelSelector: "ml.mlfleet.io/deployment=blue"})
		if err != nil || !want && len(pods.Items) > 0 {
			t.Errorf("pods of blue on %s: %d (%v)", compute, len(pods.Items), err)
		}
	}
	deploy("movefp1", http.StatusCreated)
	present("movefp1", true)

	// A router reaches only its own cluster's instances (QA9 #3): traffic split across
	// two computes, or mirrored to a deployment on another compute than the one serving,
	// is refused naming the computes; all traffic to deployments on the other compute is
	// how the endpoint moves there.
	deployNamed("green", "movecff", http.StatusCreated)
	traffic(`{"traffic":{"blue":100}}`, http.StatusAccepted)
	split := traffic(`{"traffic":{"blue":50,"green":50}}`, http.StatusBadRequest)
	for _, want := range []string{"split across computes 'movefp1' (blue) and 'movecff' (green)", "send all of it at once"} {
		if !strings.Contains(split.errorMessage(), want) {
			t.Errorf("split refusal lacks %q: %s", want, split.raw)
		}
	}
	if mirror := traffic(`{"traffic":{"blue":100},"mirrorTraffic":{"green":10}}`, http.StatusBadRequest); !strings.Contains(mirror.raw, "served from compute 'movefp1'") {
		t.Errorf("mirror refusal: %s", mirror.raw)
	}
	traffic(`{"traffic":{"green":100}}`, http.StatusAccepted)

	deploy("movecff", http.StatusOK)
	present("movecff", true)
	present("movefp1", false)
	got := do(t, call{method: "GET", path: epPath + "/deployments/blue" + mlAPI})
	must(t, got, http.StatusOK)
	if props := got.body["properties"].(map[string]any); props["compute"] != computePath(rg, ws, "movecff") || strings.Contains(got.raw, "formerComputes") {
		t.Fatalf("deployment after the move: %v", props)
	}
	// Moving a deployment that gets traffic off the compute the rest of it goes to splits
	// it too.
	traffic(`{"traffic":{"blue":50,"green":50}}`, http.StatusAccepted)
	if back := put("blue", "movefp1"); back.status != http.StatusBadRequest || !strings.Contains(back.raw, "split across computes") {
		t.Errorf("moving blue back while green gets traffic on movecff: %d %s", back.status, back.raw)
	}

	del := do(t, call{method: "DELETE", path: epPath + mlAPI})
	must(t, del, http.StatusAccepted)
	if op := waitOperation(t, del.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("endpoint delete: %v", op["error"])
	}
	present("movecff", false)
	present("movefp1", false)
}
