package inference

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// testPython resolves the interpreter the tests run the server with.
func testPython(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 on this machine")
	}
	p, err := ResolvePython(context.Background(), "python3")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeCode writes a scoring script into a new code directory and returns it.
func writeCode(t testing.TB, script string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "code")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "score.py"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func startTestProcess(t *testing.T, spec ProcessSpec) *Supervisor {
	t.Helper()
	if spec.Python == "" {
		spec.Python = testPython(t)
	}
	if spec.WorkDir == "" {
		spec.WorkDir = filepath.Join(t.TempDir(), "work")
	}
	if spec.ProbeInterval == 0 {
		spec.ProbeInterval = 50 * time.Millisecond
	}
	s, err := StartProcess(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

func waitState(t *testing.T, s *Supervisor, what string, cond func(ProcessState) bool) ProcessState {
	t.Helper()
	var st ProcessState
	if _, ok := testutil.Poll(t.Context(), 60*time.Second, func() (bool, string) {
		st = s.State()
		return cond(st), ""
	}); !ok {
		log, _ := TailLog(s.LogFile(), 30)
		t.Fatalf("%s: not within 60s; state %+v; log:\n%s", what, st, log)
	}
	return st
}

const echoScript = `
import json, os
model = None
def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "model.txt")) as f:
        model = f.read().strip()
def run(raw_data):
    if raw_data == "text":
        return '{"passed": "through"}'
    data = json.loads(raw_data)
    return {"model": model, "sum": sum(data["data"]), "env": os.environ.get("GREETING"), "home": os.environ["HOME"]}
`

func TestProcessScores(t *testing.T) {
	modelDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(modelDir, "model.txt"), []byte("m-42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(t.TempDir(), "work")
	s := startTestProcess(t, ProcessSpec{WorkDir: work, ModelDir: modelDir, CodeDir: writeCode(t, echoScript),
		Env: []string{"GREETING=hello", "HOME=/nowhere"}})
	waitState(t, s, "ready", func(st ProcessState) bool { return st.Ready })

	resp, err := http.Get("http://" + s.Addr() + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET / = %v, %v", resp, err)
	}
	resp.Body.Close()

	for _, tc := range []struct{ name, body, want string }{
		{"json", `{"data": [1, 2, 3.5]}`, fmt.Sprintf(`{"model": "m-42", "sum": 6.5, "env": "hello", "home": %q}`, work)},
		{"string passes through", "text", `{"passed": "through"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := scorePost(s.Addr(), strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(b) != tc.want {
				t.Fatalf("POST /score = %d %s, want 200 %s", resp.StatusCode, b, tc.want)
			}
		})
	}
	// Only a request with the instance's key is scored: any local process reaches it.
	for _, key := range []string{"", InstanceKey("127.0.0.1:1")} {
		req, _ := http.NewRequest(http.MethodPost, "http://"+s.Addr()+"/score", strings.NewReader(`{"data": [1]}`))
		if key != "" {
			req.Header.Set(InstanceKeyHeader, key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(b), "m-42") {
			t.Errorf("POST /score with key %q = %d %s, want 401", key, resp.StatusCode, b)
		}
	}
	// A failing run() is the caller's 500, the process lives on.
	resp, err = scorePost(s.Addr(), strings.NewReader("not json"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var e struct{ Message string }
	if resp.StatusCode != 500 || json.Unmarshal(b, &e) != nil || !strings.Contains(e.Message, "JSONDecodeError") {
		t.Fatalf("POST /score with a bad body = %d %s, want 500 naming JSONDecodeError", resp.StatusCode, b)
	}
	if st := s.State(); st.Restarts != 0 || !st.Running {
		t.Fatalf("state after a failing run() = %+v, want running without restarts", st)
	}
}

// TestProcessInitFailsRestartsWithBackoff: a process whose init() raises is restarted at
// once the first time and then after back-offs that double, as a kubelet does, each one
// with the restart count and when it is due in the state.
func TestProcessInitFailsRestartsWithBackoff(t *testing.T) {
	var sup atomic.Pointer[Supervisor]
	var mu sync.Mutex
	var waits []ProcessState // the states of each back-off
	onChange := func() {
		s := sup.Load()
		if s == nil {
			return
		}
		st := s.State()
		mu.Lock()
		defer mu.Unlock()
		if st.Waiting == WaitingBackOff && (len(waits) == 0 || waits[len(waits)-1].Restarts != st.Restarts) {
			waits = append(waits, st)
		}
	}
	s := startTestProcess(t, ProcessSpec{CodeDir: writeCode(t, "def init():\n    raise ValueError('broken model')\ndef run(d):\n    return d\n"),
		MinBackoff: 20 * time.Millisecond, MaxBackoff: time.Second, OnChange: onChange})
	sup.Store(s)
	st := waitState(t, s, "four restarts", func(st ProcessState) bool { return st.Restarts >= 4 && st.LastExit != nil })
	if st.Ready {
		t.Fatalf("a process whose init() raises is ready: %+v", st)
	}
	if st.LastExit.ExitCode != 1 || !strings.Contains(st.LastExit.Output, "ValueError: broken model") ||
		!strings.Contains(st.LastExit.Output, "Traceback") {
		t.Fatalf("last exit = %+v, want code 1 with the traceback", st.LastExit)
	}
	log, err := TailLog(s.LogFile(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(log, "ValueError: broken model"); n < 3 {
		t.Fatalf("log holds %d tracebacks, want one per run:\n%s", n, log)
	}
	waitState(t, s, "back-off", func(st ProcessState) bool { return st.Waiting == WaitingBackOff })
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, w := range waits {
		got = append(got, fmt.Sprintf("after %d restarts: %v", w.Restarts, w.Backoff))
		if w.NextStart.IsZero() {
			t.Errorf("a back-off without its next start: %+v", w)
		}
	}
	want := []string{"after 1 restarts: 20ms", "after 2 restarts: 40ms", "after 3 restarts: 80ms"}
	if len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("back-offs = %q, want %q first (the first death restarts at once)", got, want)
	}
}

func TestBackoffAfter(t *testing.T) {
	const minWait, maxWait = 10 * time.Second, 5 * time.Minute
	var waits []time.Duration
	next := time.Duration(0)
	for range 9 {
		var wait time.Duration
		wait, next = backoffAfter(next, time.Second, minWait, maxWait)
		waits = append(waits, wait)
	}
	want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	if !slices.Equal(waits, want) {
		t.Fatalf("a crash loop waits %v, want %v", waits, want)
	}
	if wait, after := backoffAfter(next, 10*time.Minute, minWait, maxWait); wait != 0 || after != minWait {
		t.Fatalf("after a run of 10m: wait %v then %v, want 0 then %v (a new loop)", wait, after, minWait)
	}
	if wait, _ := backoffAfter(next, 10*time.Minute-time.Second, minWait, maxWait); wait != maxWait {
		t.Fatalf("after a run of 9m59s: wait %v, want %v (the loop goes on)", wait, maxWait)
	}
}

func TestProcessMissingScript(t *testing.T) {
	s := startTestProcess(t, ProcessSpec{CodeDir: t.TempDir(), ScoringScript: "nope.py", MinBackoff: time.Hour, RestartsBefore: 4})
	// The first death restarts at once, the second waits.
	st := waitState(t, s, "back-off", func(st ProcessState) bool { return st.Waiting == WaitingBackOff })
	if !strings.Contains(st.LastExit.Output, "scoring script nope.py not found") || st.Restarts != 5 || st.Backoff != time.Hour || st.NextStart.IsZero() {
		t.Fatalf("state = %+v, want the missing script named, 5 restarts and a back-off of an hour", st)
	}
}

// TestProcessStopLeavesNothing starts a script that starts a child of its own and checks
// that Stop ends both.
func TestProcessStopLeavesNothing(t *testing.T) {
	script := `
import os, subprocess
child = None
def init():
    global child
    child = subprocess.Popen(["sleep", "600"])
    with open("pids", "w") as f:
        f.write("%d %d" % (os.getpid(), child.pid))
def run(d):
    return d
`
	work := filepath.Join(t.TempDir(), "work")
	s, err := StartProcess(ProcessSpec{Python: testPython(t), WorkDir: work, CodeDir: writeCode(t, script), ProbeInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, s, "ready", func(st ProcessState) bool { return st.Ready })
	b, err := os.ReadFile(filepath.Join(work, "pids"))
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		p, _ := strconv.Atoi(f)
		pids = append(pids, p)
	}
	for _, p := range pids {
		if !testutil.ProcessAlive(p) {
			t.Fatalf("process %d is not running before Stop", p)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range pids {
		if testutil.ProcessAlive(p) {
			t.Errorf("process %d still runs after Stop", p)
		}
	}
	if st := s.State(); st.Running || st.Ready || st.Waiting != "" {
		t.Fatalf("state after Stop = %+v", st)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestLogRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	l, err := openLog(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		fmt.Fprintf(l, "line %02d\n", i)
	}
	l.Close()
	for _, p := range []string{path, path + ".1"} {
		if st, err := os.Stat(p); err != nil || st.Size() > 100 {
			t.Fatalf("%s: %v, %v; want at most 100 bytes", p, st, err)
		}
	}
	tail, err := TailLog(path, 3)
	if err != nil || tail != "line 27\nline 28\nline 29\n" {
		t.Fatalf("tail = %q, %v", tail, err)
	}
	// More lines than the current file holds come from the rotated one too.
	tail, _ = TailLog(path, 15)
	if !strings.HasPrefix(tail, "line 15\n") || strings.Count(tail, "\n") != 15 {
		t.Fatalf("tail of 15 = %q", tail)
	}
}

func TestParseEndpointConfig(t *testing.T) {
	for _, tc := range []struct{ name, json, err string }{
		{"key", `{"name":"ep","authMode":"Key","keys":["a","b"],"traffic":{"blue":90,"green":10}}`, ""},
		{"no traffic", `{"name":"ep","authMode":"Key","keys":["a"],"traffic":{}}`, ""},
		{"bad sum", `{"name":"ep","authMode":"Key","keys":["a"],"traffic":{"blue":50}}`, "sums to 50"},
		{"token without key", `{"name":"ep","authMode":"AMLToken","traffic":{}}`, "without tokenKeyPem"},
		{"unknown mode", `{"name":"ep","authMode":"AAD","traffic":{}}`, `"AAD"`},
		{"not json", `{`, "invalid endpoint configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEndpointConfig([]byte(tc.json))
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestObjectName(t *testing.T) {
	long := strings.Repeat("e", 40)
	if got := DeploymentObjectName("ep", "blue"); got != "ep-blue" {
		t.Fatalf("short name = %q", got)
	}
	a, b := DeploymentObjectName(long, long+"1"), DeploymentObjectName(long, long+"2")
	if len(a) != 63 || a == b || a[:54] != b[:54] {
		t.Fatalf("long names %q and %q: want 63 characters, distinct", a, b)
	}
}

// scorePost posts body to the /score of the inference server at addr, with its instance
// key, as the router does.
func scorePost(addr string, body io.Reader) (*http.Response, error) {
	req, err := NewScoreRequest(context.Background(), addr, "", body)
	if err != nil {
		return nil, err
	}
	return http.DefaultClient.Do(req)
}
