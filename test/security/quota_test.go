package security

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/test/testserver"
)

// quotaClient calls one server over HTTPS with its admin token.
type quotaClient struct {
	t     *testing.T
	srv   *testserver.Server
	token string
}

// do sends a request and returns the status and the decoded JSON body (nil when empty).
func (c *quotaClient) do(method, path, body string, header map[string]string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.srv.Config.Server+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.srv.HTTP.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			c.t.Fatalf("%s %s: %d, body is not JSON: %q", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

func errorOf(body map[string]any) (code, message string) {
	e, _ := body["error"].(map[string]any)
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

// TestQuotaConcurrentCreates (N8, #11 item 5): a server whose quota file allows 2 managed
// clusters per region gets 20 cluster creates at once over HTTPS. At most 2 are accepted,
// every other one is a 400 QuotaExceeded naming the quota, the usages never show more than
// the limit, and a workspace's compute create past the quota is refused up front too. With
// SQLite, and with PostgreSQL when MLFLEET_TEST_POSTGRES holds a DSN.
func TestQuotaConcurrentCreates(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { quotaConcurrentCreates(t) })
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("MLFLEET_TEST_POSTGRES")
		if dsn == "" {
			t.Skip("MLFLEET_TEST_POSTGRES is not set; export MLFLEET_TEST_POSTGRES=$(hack/postgres.sh) to run")
		}
		quotaConcurrentCreates(t, "--store", storetest.Schema(t, dsn))
	})
}

func quotaConcurrentCreates(t *testing.T, flags ...string) {
	const limit = 2
	quotaFile := filepath.Join(t.TempDir(), "quotas.json")
	if err := os.WriteFile(quotaFile, fmt.Appendf(nil, `{"default": {"managedClusters": %d, "cores": 100}}`, limit), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := testserver.StartTest(t, append([]string{"--quota-file", quotaFile}, flags...)...)
	token, err := srv.Config.ReadToken()
	if err != nil {
		t.Fatal(err)
	}
	c := &quotaClient{t: t, srv: srv, token: token}
	sub := "/subscriptions/" + srv.Config.Subscription
	rg := sub + "/resourceGroups/quota-rg"
	cluster := func(name string) string {
		return rg + "/providers/Microsoft.ContainerService/managedClusters/" + name + "?api-version=2025-02-01"
	}
	usages := sub + "/providers/Microsoft.Compute/locations/westus/usages?api-version=2024-07-01"
	if status, body := c.do(http.MethodPut, rg+"?api-version=2022-09-01", `{"location":"westus"}`, nil); status != http.StatusCreated {
		t.Fatalf("create resource group: %d %v", status, body)
	}

	const clients = 20
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		accepted []string
		refused  int
	)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("q%02d", i)
			status, body := c.do(http.MethodPut, cluster(name),
				`{"location":"westus","properties":{"agentPoolProfiles":[{"name":"nodepool1","count":1,"vmSize":"Standard_D2_v2"}]}}`,
				map[string]string{"If-None-Match": "*"})
			code, msg := errorOf(body)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case status == http.StatusCreated:
				accepted = append(accepted, name)
			case status == http.StatusBadRequest && code == "QuotaExceeded":
				refused++
				want := fmt.Sprintf("exceeding approved Managed Clusters quota. Location: westus, Current Limit: %d, Current Usage: %d, Additional Required: 1, (Minimum) New Limit Required: %d.", limit, limit, limit+1)
				if !strings.Contains(msg, want) {
					t.Errorf("create %s refused with %q, want it to say %q", name, msg, want)
				}
			default:
				t.Errorf("create %s: %d %v, want 201 or 400 QuotaExceeded", name, status, body)
			}
		}()
	}
	wg.Wait()
	t.Logf("%d creates accepted (%v), %d refused with QuotaExceeded", len(accepted), accepted, refused)
	if len(accepted) > limit {
		t.Fatalf("%d clusters accepted with a quota of %d", len(accepted), limit)
	}
	if len(accepted)+refused != clients {
		t.Fatalf("%d accepted and %d refused of %d", len(accepted), refused, clients)
	}
	t.Cleanup(func() { deleteClusters(c, cluster, accepted) })

	usage := func(name string) (cur, lim float64) {
		t.Helper()
		status, body := c.do(http.MethodGet, usages, "", nil)
		if status != http.StatusOK {
			t.Fatalf("GET usages: %d %v", status, body)
		}
		list, _ := body["value"].([]any)
		for _, v := range list {
			u, _ := v.(map[string]any)
			if n, _ := u["name"].(map[string]any); n["value"] == name {
				cur, _ = u["currentValue"].(float64)
				lim, _ = u["limit"].(float64)
				return cur, lim
			}
		}
		t.Fatalf("no usage %s in %v", name, body)
		return 0, 0
	}
	if cur, lim := usage("managedClusters"); lim != limit || cur > lim || int(cur) != len(accepted) {
		t.Fatalf("managedClusters usage %v of %v; want the %d accepted, within the limit %d", cur, lim, len(accepted), limit)
	}
	if cur, _ := usage("standardDv2Family"); int(cur) != 2*len(accepted) {
		t.Fatalf("standardDv2Family usage %v; want %d (1 × Standard_D2_v2 each)", cur, 2*len(accepted))
	}

	// A workspace's compute creates a cluster too: refused up front, nothing made.
	ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/quota-ws"
	if status, body := c.do(http.MethodPut, ws+"?api-version=2024-04-01", `{"location":"westus"}`, nil); status != http.StatusOK {
		t.Fatalf("create workspace: %d %v", status, body)
	}
	status, body := c.do(http.MethodPut, ws+"/computes/quotaaks?api-version=2024-04-01", `{"location":"westus","properties":{"computeType":"AKS"}}`, nil)
	if code, msg := errorOf(body); status != http.StatusBadRequest || code != "QuotaExceeded" || !strings.Contains(msg, "Managed Clusters quota") {
		t.Fatalf("compute create past the quota: %d %v, want 400 QuotaExceeded", status, body)
	}
	if status, _ := c.do(http.MethodGet, cluster("quotaaks"), "", nil); status != http.StatusNotFound {
		t.Fatalf("GET the refused compute's cluster: %d, want 404", status)
	}
}

// deleteClusters deletes the clusters and waits until they are gone.
func deleteClusters(c *quotaClient, path func(string) string, names []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, name := range names {
		// A cluster still being created refuses the delete (409) until its create ends.
		var status int
		state, _ := testutil.Poll(ctx, 2*time.Minute, func() (bool, string) {
			var body map[string]any
			status, body = c.do(http.MethodDelete, path(name), "", nil)
			code, _ := errorOf(body)
			return status != http.StatusConflict, fmt.Sprintf("%d %s %v", status, code, body)
		})
		if status != http.StatusAccepted && status != http.StatusNoContent && status != http.StatusOK {
			c.t.Errorf("delete cluster %s: %s", name, state)
		}
	}
	for _, name := range names {
		if _, ok := testutil.Poll(ctx, 2*time.Minute, func() (bool, string) {
			status, _ := c.do(http.MethodGet, path(name), "", nil)
			return status == http.StatusNotFound, ""
		}); !ok {
			c.t.Errorf("cluster %s still exists 2 minutes after its delete", name)
		}
	}
}

// TestQuotaFileRefused: a quota file with a mistake stops `mlfleet serve` at start-up with
// the reason.
func TestQuotaFileRefused(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "quotas.json")
	if err := os.WriteFile(bad, []byte(`{"default": {"vcpus": 10}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, err := testserver.Start(t.TempDir(), "--quota-file", bad)
	if err == nil {
		srv.Stop()
		t.Fatal("the server started with a bad quota file")
	}
	if want := `default: unknown quota "vcpus"; use managedClusters, cores or a VM family`; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), bad) {
		t.Fatalf("start with a bad quota file: %v; want the file and %q", err, want)
	}
}
