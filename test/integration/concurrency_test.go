package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// settleWithin bounds every wait of TestConcurrency: operations ending, resources leaving
// Creating/Updating/Deleting, nodes becoming ready.
const settleWithin = 90 * time.Second

// TestConcurrency sends conflicting requests at the same time, each client in its own
// goroutine, and checks that exactly the allowed ones win, the others get a 409 that says
// why, nothing answers 5xx, every operation ends and nothing is left half made (N5, N7,
// S4, S11, issue #10).
func TestConcurrency(t *testing.T) {
	t.Parallel()
	// Whatever raced, nothing is left without its owner: every claim, secret and cluster
	// row written for a loser went with it.
	t.Cleanup(func() {
		db := filepath.Join(shared.home, "mlfleet.db")
		if _, err := os.Stat(db); err != nil {
			t.Fatalf("the shared server's database: %v", err)
		}
		st, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		orphans, err := st.ListOrphans(context.Background(), 0)
		if err != nil || len(orphans) > 0 {
			t.Errorf("after the races, %d orphaned rows (%v)", len(orphans), err)
			for _, o := range orphans {
				t.Errorf("orphan %s (owner %s)", o.ID, o.OwnerID)
			}
		}
	})

	// S11: 50 attaches of one cluster under 50 names of one workspace.
	t.Run("attach one cluster under 50 names", func(t *testing.T) {
		t.Parallel()
		rg, ws := "conc-at-rg", "conc-at-ws"
		newWorkspace(t, rg, ws)
		mc := createCluster(t, sdk(t), rg, "concatcluster", 1, "Standard_D3_v2", nil)
		body := fmt.Sprintf(`{"location":"westus","properties":{"computeType":"AKS","resourceId":%q,"properties":{"clusterPurpose":"DevTest"}}}`, mc.ID)
		names := make([]string, 50)
		calls := make([]call, len(names))
		for i := range names {
			names[i] = fmt.Sprintf("concat%02d", i)
			calls[i] = call{method: "PUT", path: computePath(rg, ws, names[i]) + mlAPI, body: body}
		}
		answers := race(t, calls)
		won := onlyWinner(t, answers, http.StatusCreated)
		winner := names[won]
		for i, a := range answers {
			if i != won && !strings.Contains(a.errorMessage(), "'"+winner+"'") {
				t.Errorf("409 for %s does not name the winner %s: %s", names[i], winner, a.raw)
			}
		}
		if op := followOperation(t, answers[won]); op["status"] != "Succeeded" {
			t.Fatalf("attach as %s ended %v: %v", winner, op["status"], op["error"])
		}
		computes := settled(t, wsPath(rg, ws)+"/computes"+mlAPI)
		if len(computes) != 1 || computes[0]["name"] != winner {
			t.Fatalf("workspace lists %d computes %v, want only %s", len(computes), itemNames(computes), winner)
		}
		deps, err := clusterAdmin(t, rg, "concatcluster").AppsV1().Deployments("azureml").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fe := 0
		for _, d := range deps.Items {
			if d.Name == "azureml-fe" {
				fe++
			}
		}
		if fe != 1 || len(deps.Items) != 1 {
			t.Fatalf("namespace azureml has %d deployments (%d azureml-fe), want one azureml-fe", len(deps.Items), fe)
		}
	})

	// S4: one compute name created at once from 5 workspaces of westus, each in its own group.
	t.Run("create one name from 5 workspaces of a region", func(t *testing.T) {
		t.Parallel()
		const name = "concsame"
		groups := make([]string, 5)
		calls := make([]call, len(groups))
		body := `{"location":"westus","properties":{"computeType":"AKS","properties":{"clusterPurpose":"DevTest","agentCount":1}}}`
		for i := range groups {
			groups[i] = fmt.Sprintf("conc-cn-rg%d", i)
			newWorkspace(t, groups[i], "conc-cn-ws")
			calls[i] = call{method: "PUT", path: computePath(groups[i], "conc-cn-ws", name) + mlAPI, body: body}
		}
		answers := race(t, calls)
		won := onlyWinner(t, answers, http.StatusCreated)
		for i, a := range answers {
			if i != won && !strings.Contains(a.errorMessage(), "unique per region") {
				t.Errorf("409 in %s does not say names are unique per region: %s", groups[i], a.raw)
			}
		}
		if op := followOperation(t, answers[won]); op["status"] != "Succeeded" {
			t.Fatalf("create in %s ended %v: %v", groups[won], op["status"], op["error"])
		}
		for i, rg := range groups {
			clusters := settled(t, rgPath(rg)+"/providers/Microsoft.ContainerService/managedClusters"+csAPI)
			computes := settled(t, wsPath(rg, "conc-cn-ws")+"/computes"+mlAPI)
			want := 0
			if i == won {
				want = 1
			}
			if len(clusters) != want || len(computes) != want {
				t.Errorf("%s has clusters %v and computes %v; want %d of each", rg, itemNames(clusters), itemNames(computes), want)
			}
			if i == won && (clusters[0]["name"] != name || computes[0]["name"] != name) {
				t.Errorf("winner %s has clusters %v and computes %v, want %s", rg, itemNames(clusters), itemNames(computes), name)
			}
		}
	})

	// N7: 50 creates (If-None-Match: *) of one managed cluster.
	t.Run("create one cluster 50 times with If-None-Match", func(t *testing.T) {
		t.Parallel()
		rg, name := "conc-inm-rg", "concinm"
		must(t, do(t, call{method: "PUT", path: rgPath(rg) + rgAPI, body: `{"location":"westus"}`}), http.StatusCreated)
		body := `{"location":"westus","properties":{"agentPoolProfiles":[{"name":"nodepool1","count":1,"vmSize":"Standard_D2_v2"}]}}`
		calls := make([]call, 50)
		for i := range calls {
			calls[i] = call{method: "PUT", path: clusterPath(rg, name) + csAPI, body: body, headers: map[string]string{"If-None-Match": "*"}}
		}
		answers := race(t, calls)
		won := onlyWinner(t, answers, http.StatusCreated)
		for _, a := range answers {
			if a.status == http.StatusConflict && a.errorCode() != "Conflict" {
				t.Errorf("409 with code %s, want Conflict: %s", a.errorCode(), a.raw)
			}
		}
		if op := followOperation(t, answers[won]); op["status"] != "Succeeded" {
			t.Fatalf("create ended %v: %v", op["status"], op["error"])
		}
		clusters := settled(t, rgPath(rg)+"/providers/Microsoft.ContainerService/managedClusters"+csAPI)
		if len(clusters) != 1 || clusters[0]["name"] != name {
			t.Fatalf("group lists clusters %v, want only %s", itemNames(clusters), name)
		}
	})

	// S20: 20 scales of one pool at once, to 20 different counts.
	t.Run("20 scales of one pool", func(t *testing.T) {
		t.Parallel()
		rg, name := "conc-sc-rg", "concscale"
		must(t, do(t, call{method: "PUT", path: rgPath(rg) + rgAPI, body: `{"location":"westus"}`}), http.StatusCreated)
		createCluster(t, sdk(t), rg, name, 1, "Standard_D2_v2", nil)
		calls := make([]call, 20)
		for i := range calls {
			calls[i] = call{method: "PUT", path: clusterPath(rg, name) + "/agentPools/nodepool1" + csAPI, body: fmt.Sprintf(`{"properties":{"count":%d}}`, i+1)}
		}
		answers := race(t, calls)
		noServerErrors(t, answers)
		var accepted []int
		for i, a := range answers {
			switch {
			case a.status == http.StatusOK || a.status == http.StatusCreated:
				accepted = append(accepted, i+1)
				if a.header.Get("Azure-AsyncOperation") != "" {
					if op := followOperation(t, a); op["status"] != "Succeeded" {
						t.Errorf("scale to %d ended %v: %v", i+1, op["status"], op["error"])
					}
				}
			case a.status == http.StatusConflict && a.errorCode() == "AnotherOperationInProgress":
			default:
				t.Errorf("scale to %d: %d %s", i+1, a.status, a.raw)
			}
		}
		if len(accepted) == 0 {
			t.Fatal("no scale was accepted")
		}
		clusters := settled(t, rgPath(rg)+"/providers/Microsoft.ContainerService/managedClusters"+csAPI)
		if len(clusters) != 1 {
			t.Fatalf("group lists clusters %v, want only %s", itemNames(clusters), name)
		}
		pool := do(t, call{method: "GET", path: clusterPath(rg, name) + "/agentPools/nodepool1" + csAPI})
		must(t, pool, http.StatusOK)
		n, _ := props(pool.body)["count"].(float64)
		if !slices.Contains(accepted, int(n)) {
			t.Fatalf("pool count %v is none of the accepted counts %v", n, accepted)
		}
		t.Logf("accepted counts %v, pool count %d", accepted, int(n))
		ctx := context.Background()
		testutil.Eventually(t, settleWithin, fmt.Sprintf("%d ready nodes", int(n)), nodeCount(ctx, clusterAdmin(t, rg, name), int(n)))
	})
}

// race sends the calls at the same moment, each from its own goroutine, through the shared
// server's client (an http.Client is safe for concurrent use; do is not: it calls t.Fatal)
// and returns the answers in the order of the calls.
func race(t *testing.T, calls []call) []answer {
	t.Helper()
	tok := adminToken(t, shared.cfg)
	answers := make([]answer, len(calls))
	errs := make([]error, len(calls))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			<-start
			answers[i], errs[i] = send(tok, c)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s %s (client %d): %v", calls[i].method, calls[i].path, i, err)
		}
	}
	return answers
}

// send is do for any goroutine: it returns its error instead of failing the test.
func send(tok string, c call) (answer, error) {
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, shared.cfg.Server+c.path, body)
	if err != nil {
		return answer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := shared.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		_ = json.Unmarshal(raw, &a.body)
	}
	return a, nil
}

// noServerErrors fails the test for every answer with a 5xx status.
func noServerErrors(t *testing.T, answers []answer) {
	t.Helper()
	for i, a := range answers {
		if a.status >= 500 {
			t.Errorf("client %d: %d %s", i, a.status, a.raw)
		}
	}
}

// onlyWinner checks that exactly one answer has status win, carrying an operation, and
// that all others are 409s; it returns the winner's index.
func onlyWinner(t *testing.T, answers []answer, win int) int {
	t.Helper()
	noServerErrors(t, answers)
	counts := map[int]int{}
	won := -1
	for i, a := range answers {
		counts[a.status]++
		if a.status == win {
			won = i
		}
	}
	if counts[win] != 1 || counts[http.StatusConflict] != len(answers)-1 {
		for i, a := range answers {
			if a.status != http.StatusConflict {
				t.Logf("client %d: %d %.300s", i, a.status, a.raw)
			}
		}
		t.Fatalf("statuses %v; want one %d and %d × 409", counts, win, len(answers)-1)
	}
	if answers[won].header.Get("Azure-AsyncOperation") == "" {
		t.Fatalf("the winner answered %d without Azure-AsyncOperation", win)
	}
	return won
}

// followOperation polls the operation of an accepted request until it ends and returns its
// status body.
func followOperation(t *testing.T, a answer) map[string]any {
	t.Helper()
	u := a.header.Get("Azure-AsyncOperation")
	if u == "" {
		t.Fatalf("no Azure-AsyncOperation in a %d answer", a.status)
	}
	path := requestURI(t, u)
	var body map[string]any
	testutil.WaitFor(t, settleWithin, "operation "+path+" ends", func() (bool, string) {
		op := do(t, call{method: "GET", path: path})
		must(t, op, http.StatusOK)
		body = op.body
		switch op.body["status"] {
		case "Succeeded", "Failed", "Canceled":
			return true, ""
		case "InProgress":
			return false, "InProgress"
		default:
			t.Fatalf("operation %s has status %v, not an ARM one", path, op.body["status"])
			return false, ""
		}
	})
	return body
}

// settled lists every page of a collection until no item is Creating, Updating or
// Deleting, and returns the items.
func settled(t *testing.T, path string) []map[string]any {
	t.Helper()
	var items []map[string]any
	testutil.WaitFor(t, settleWithin, path+" settled", func() (bool, string) {
		items = listAll(t, path)
		var busy []string
		for _, it := range items {
			switch st := props(it)["provisioningState"]; st {
			case "Creating", "Updating", "Deleting":
				busy = append(busy, fmt.Sprintf("%v %v", it["name"], st))
			}
		}
		return len(busy) == 0, fmt.Sprintf("still %v", busy)
	})
	return items
}

// listAll follows nextLink to the last page.
func listAll(t *testing.T, path string) []map[string]any {
	t.Helper()
	var items []map[string]any
	for path != "" {
		a := do(t, call{method: "GET", path: path})
		must(t, a, http.StatusOK)
		for _, v := range a.body["value"].([]any) {
			items = append(items, v.(map[string]any))
		}
		path = ""
		if next, ok := a.body["nextLink"].(string); ok {
			path = requestURI(t, next)
		}
	}
	return items
}

// requestURI turns an absolute URL the server returned into a path for do.
func requestURI(t *testing.T, s string) string {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("server returned URL %q: %v", s, err)
	}
	return u.RequestURI()
}

func itemNames(items []map[string]any) []any {
	names := make([]any, 0, len(items))
	for _, it := range items {
		names = append(names, it["name"])
	}
	return names
}
