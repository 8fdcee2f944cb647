package inference

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// sklearnPython returns an interpreter that imports scikit-learn (CI installs Debian's
// python3-sklearn); without one the test is skipped, except under CI.
func sklearnPython(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		p, err := ResolvePython(context.Background(), name)
		if err != nil {
			continue
		}
		if exec.Command(p, "-c", "import sklearn, numpy").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Python with scikit-learn (apt-get install python3-sklearn)")
	}
	t.Skip("no Python with scikit-learn")
	return ""
}

const sklearnScore = `
import json, os, pickle
import numpy as np
model = None
def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.pkl"), "rb") as f:
        model = pickle.load(f)
def run(raw_data):
    data = np.array(json.loads(raw_data)["data"])
    return {"predictions": model.predict(data), "probabilities": model.predict_proba(data)}
`

// TestScikitLearnPredictions trains a small model, serves it with a scoring script and
// checks that the server's predictions are the model's own.
func TestScikitLearnPredictions(t *testing.T) {
	python := sklearnPython(t)
	modelDir := t.TempDir()
	train := `
import json, pickle, sys
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=500).fit(X, y)
with open(sys.argv[1] + "/model.pkl", "wb") as f:
    pickle.dump(model, f)
batch = X[::15].tolist()
print(json.dumps({"data": batch, "predictions": model.predict(batch).tolist(), "probabilities": model.predict_proba(batch).tolist()}))
`
	out, err := exec.Command(python, "-c", train, modelDir).Output()
	if err != nil {
		t.Fatalf("train: %v", err)
	}
	var want struct {
		Data          [][]float64 `json:"data"`
		Predictions   []int       `json:"predictions"`
		Probabilities [][]float64 `json:"probabilities"`
	}
	if err := json.Unmarshal(out, &want); err != nil || len(want.Predictions) < 5 {
		t.Fatalf("training output %s: %v", out, err)
	}
	s := startTestProcess(t, ProcessSpec{Python: python, ModelDir: modelDir, CodeDir: writeCode(t, sklearnScore)})
	waitState(t, s, "ready", func(st ProcessState) bool { return st.Ready })

	body, _ := json.Marshal(map[string]any{"data": want.Data})
	resp, err := scorePost(s.Addr(), strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var got struct {
		Predictions   []int       `json:"predictions"`
		Probabilities [][]float64 `json:"probabilities"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &got) != nil {
		log, _ := TailLog(s.LogFile(), 30)
		t.Fatalf("score = %d %s\n%s", resp.StatusCode, b, log)
	}
	if len(got.Predictions) != len(want.Predictions) {
		t.Fatalf("predictions %v, want %v", got.Predictions, want.Predictions)
	}
	for i := range want.Predictions {
		if got.Predictions[i] != want.Predictions[i] {
			t.Fatalf("prediction %d = %d, want %d (all: %v vs %v)", i, got.Predictions[i], want.Predictions[i], got.Predictions, want.Predictions)
		}
		for j := range want.Probabilities[i] {
			if got.Probabilities[i][j] != want.Probabilities[i][j] {
				t.Fatalf("probability [%d][%d] = %v, want %v", i, j, got.Probabilities[i][j], want.Probabilities[i][j])
			}
		}
	}
}

func TestResolvePythonErrors(t *testing.T) {
	_, err := ResolvePython(context.Background(), "/nonexistent/python")
	if err == nil || !strings.Contains(err.Error(), "serve --python") {
		t.Fatalf("ResolvePython of a missing interpreter = %v, want an error naming serve --python", err)
	}
}
