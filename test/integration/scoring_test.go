package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/test/testserver"
)

// sklearnScore loads the pickled model from AZUREML_MODEL_DIR and predicts a batch.
const sklearnScore = `import json, os, pickle

def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)

def run(raw_data):
    return model.predict(json.loads(raw_data)["data"]).tolist()
`

// trainIris trains a scikit-learn classifier on the iris data with python and returns the
// pickled model, a request for a batch of inputs and the model's own predictions of it.
func trainIris(t *testing.T, python string) (model []byte, request string, want []int) {
	t.Helper()
	dir := t.TempDir()
	script := `import json, pickle, sys
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True)
m = LogisticRegression(max_iter=1000).fit(X, y)
pickle.dump(m, open(sys.argv[1] + "/model.pkl", "wb"))
batch = X[::7].tolist()
json.dump({"request": {"data": batch}, "want": m.predict(batch).tolist()}, open(sys.argv[1] + "/out.json", "w"))
`
	if out, err := exec.Command(python, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("train the model: %v\n%s", err, out)
	}
	model, err := os.ReadFile(filepath.Join(dir, "model.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Request json.RawMessage `json:"request"`
		Want    []int           `json:"want"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		t.Fatal(err)
	}
	return model, string(out.Request), out.Want
}

// TestScoringRealModel is the scoring test on an embedded compute: a scikit-learn
// model trained here, registered and deployed twice (blue and green) with a score.py,
// predicts what it predicts in Python, through the router at the scoringUri; 90/10 traffic
// splits 1,000 requests within 3 points and the header pins a deployment; a wrong key is
// refused and a regenerated key replaces the old one; blue scales 1 → 3 → 1 instances; the
// endpoint's delete leaves no inference process behind.
func TestScoringRealModel(t *testing.T) {
	t.Parallel()
	python := testserver.SklearnPython()
	if python == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no Python with scikit-learn (.ci/run installs python3-sklearn)")
		}
		t.Skip("no Python with scikit-learn: install python3-sklearn")
	}
	ctx := context.Background()
	model, request, want := trainIris(t, python)

	rg, ws := "score-rg", "score-ws"
	newWorkspace(t, rg, ws)
	a := putCompute(t, rg, ws, "scoreaks", `{"location":"westus","properties":{"computeType":"AKS","properties":{"clusterPurpose":"DevTest","agentCount":2}}}`, "")
	must(t, a, http.StatusCreated)
	if op, _ := waitPut(t, a, rg, ws, "scoreaks"); op["status"] != "Succeeded" {
		t.Fatalf("compute create: %v", op["error"])
	}
	base := wsPath(rg, ws)
	up := do(t, call{method: "PUT", path: base + "/blobs" + mlAPI, body: string(model)})
	must(t, up, http.StatusCreated)
	must(t, do(t, call{method: "PUT", path: base + "/models/iris/versions/1" + mlAPI,
		body: `{"properties":{"modelUri":"` + up.body["uri"].(string) + `/model.pkl"}}`}), http.StatusCreated)
	codeID := registerCode(t, rg, ws, "iris-score", map[string]string{"score.py": sklearnScore})

	epPath := base + "/onlineEndpoints/iris"
	e := do(t, call{method: "PUT", path: epPath + mlAPI, body: `{"location":"westus","properties":{"authMode":"Key","compute":"` + computePath(rg, ws, "scoreaks") + `"}}`})
	must(t, e, http.StatusCreated)
	if op := waitOperation(t, e.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("endpoint create: %v", op["error"])
	}
	deploy := func(name string, count int) {
		t.Helper()
		d := do(t, call{method: "PUT", path: epPath + "/deployments/" + name + mlAPI, body: fmt.Sprintf(`{"location":"westus","sku":{"capacity":%d},`+
			`"properties":{"endpointComputeType":"Kubernetes","model":%q,"codeConfiguration":{"codeId":%q,"scoringScript":"score.py"},"instanceType":"smallinstancetype"}}`,
			count, base+"/models/iris/versions/1", codeID)})
		if d.status != http.StatusCreated && d.status != http.StatusOK {
			t.Fatalf("deploy %s: %d %s", name, d.status, d.raw)
		}
		if op := waitOperation(t, d.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
			t.Fatalf("deploy %s x%d: %v", name, count, op["error"])
		}
	}
	deploy("blue", 1)
	deploy("green", 1)
	p := do(t, call{method: "PATCH", path: epPath + mlAPI, body: `{"properties":{"traffic":{"blue":90,"green":10}}}`})
	if p.status != http.StatusAccepted && p.status != http.StatusOK {
		t.Fatalf("traffic: %d %s", p.status, p.raw)
	}
	if loc := p.header.Get("Azure-AsyncOperation"); loc != "" {
		if op := waitOperation(t, loc); op["status"] != "Succeeded" {
			t.Fatalf("traffic: %v", op["error"])
		}
	}
	ep := do(t, call{method: "GET", path: epPath + mlAPI})
	uri := ep.body["properties"].(map[string]any)["scoringUri"].(string)
	keys := do(t, call{method: "POST", path: epPath + "/listKeys" + mlAPI})
	must(t, keys, http.StatusOK)
	key := keys.body["primaryKey"].(string)
	c := sdk(t)

	// The predictions are the model's own.
	res, err := c.InvokeOnlineEndpoint(ctx, uri, key, "", []byte(request))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("invoke: %v %+v", err, res)
	}
	var got []int
	if err := json.Unmarshal(res.Body, &got); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("predictions %s (%v), want the model's own %v", res.Body, err, want)
	}

	// 90/10 over 1,000 requests, and the header pins green.
	counts := map[string]int{}
	for range 1000 {
		res, err := c.InvokeOnlineEndpoint(ctx, uri, key, "", []byte(request))
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("invoke: %v %+v", err, res)
		}
		counts[res.Deployment]++
	}
	if share := float64(counts["blue"]) / 1000; math.Abs(share-0.9) > 0.03 || counts["blue"]+counts["green"] != 1000 {
		t.Errorf("1,000 requests at 90/10 went %v", counts)
	}
	for range 20 {
		if res, err := c.InvokeOnlineEndpoint(ctx, uri, key, "green", []byte(request)); err != nil || res.Deployment != "green" {
			t.Fatalf("pinned to green, answered by %q (%v)", res.Deployment, err)
		}
	}

	// Keys: a wrong one is refused; after regenerating the primary, the old one is too.
	if res, _ := c.InvokeOnlineEndpoint(ctx, uri, "not-the-key", "", []byte(request)); res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong key: %+v, want 401", res)
	}
	rk := do(t, call{method: "POST", path: epPath + "/regenerateKeys" + mlAPI, body: `{"keyType":"Primary"}`})
	must(t, rk, http.StatusAccepted)
	if op := waitOperation(t, rk.header.Get("Azure-AsyncOperation")); op["status"] != "Succeeded" {
		t.Fatalf("regenerate keys: %v", op["error"])
	}
	fresh := do(t, call{method: "POST", path: epPath + "/listKeys" + mlAPI}).body["primaryKey"].(string)
	testutil.Eventually(t, 30*time.Second, "the old key refused, the new one accepted", func() error {
		old, _ := c.InvokeOnlineEndpoint(ctx, uri, key, "", []byte(request))
		cur, _ := c.InvokeOnlineEndpoint(ctx, uri, fresh, "", []byte(request))
		if old == nil || cur == nil || old.StatusCode != http.StatusUnauthorized || cur.StatusCode != http.StatusOK {
			return fmt.Errorf("old key %+v, new key %+v", old, cur)
		}
		return nil
	})

	// Scale blue 1 → 3 → 1: as many inference processes as instances.
	k := clusterAdmin(t, rg, "scoreaks")
	compute := do(t, call{method: "GET", path: computePath(rg, ws, "scoreaks") + mlAPI})
	mc := do(t, call{method: "GET", path: compute.body["properties"].(map[string]any)["resourceId"].(string) + csAPI})
	clusterID, _ := testutil.Field(mc.body, "properties.mlfleet.clusterId").(string)
	if clusterID == "" {
		t.Fatalf("no provider id in %s", mc.raw)
	}
	ready := func(n int) func() error {
		return func() error {
			pods, err := k.CoreV1().Pods("azureml").List(ctx, metav1.ListOptions{LabelSelector: "ml.mlfleet.io/endpoint=iris,ml.mlfleet.io/deployment=blue"})
			if err != nil {
				return err
			}
			if len(pods.Items) != n {
				return fmt.Errorf("%d blue pods, want %d", len(pods.Items), n)
			}
			if procs := inferenceProcesses(t, clusterID); procs != n+1 { // blue's and green's one
				return fmt.Errorf("%d inference processes, want %d", procs, n+1)
			}
			return nil
		}
	}
	deploy("blue", 3)
	testutil.Eventually(t, 30*time.Second, "3 blue instances", ready(3))
	deploy("blue", 1)
	testutil.Eventually(t, 30*time.Second, "1 blue instance", ready(1))

	// Deleting the endpoint leaves no process.
	del := do(t, call{method: "DELETE", path: epPath + mlAPI})
	if del.status != http.StatusAccepted && del.status != http.StatusOK {
		t.Fatalf("delete endpoint: %d %s", del.status, del.raw)
	}
	if loc := del.header.Get("Azure-AsyncOperation"); loc != "" {
		if op := waitOperation(t, loc); op["status"] != "Succeeded" {
			t.Fatalf("delete endpoint: %v", op["error"])
		}
	}
	testutil.Eventually(t, 30*time.Second, "no inference process left", func() error {
		if n := inferenceProcesses(t, clusterID); n != 0 {
			return fmt.Errorf("%d inference processes left", n)
		}
		return nil
	})
}

// inferenceProcesses counts the running inference servers of one embedded cluster (its
// provider id), from /proc: their command lines name the cluster's directory.
func inferenceProcesses(t *testing.T, clusterID string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(shared.home, "clusters", clusterID) + "/"
	n := 0
	for _, e := range entries {
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmd), dir) || !strings.Contains(string(cmd), "inference_server") {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(st), ") Z ") {
			continue // a zombie: gone but for its exit status
		}
		n++
	}
	return n
}
