package security

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	"github.com/mlfleet/mlfleet/test/testserver"
)

// The tests of this file start their own server (its own home and flags), so they hold
// for any TestMain of the package and run beside the package's other tests.

// limServer is a server of this file's tests with the admin token and an SDK client.
type limServer struct {
	*testserver.Server
	token string
	sdk   *mlfleet.Client
}

func limStart(t *testing.T, flags ...string) *limServer {
	t.Helper()
	s := testserver.StartTest(t, flags...)
	token, err := s.Config.ReadToken()
	if err != nil {
		t.Fatal(err)
	}
	// Every setting explicit: the environment may point at another server.
	sdk, err := mlfleet.NewClient(mlfleet.WithServer(s.Config.Server), mlfleet.WithToken(token),
		mlfleet.WithSubscription(s.Config.Subscription), mlfleet.WithCAFile(s.Config.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	return &limServer{Server: s, token: token, sdk: sdk}
}

// call sends one request as the admin; headers alternate name and value.
func (s *limServer) call(t *testing.T, method, path, body string, headers ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	u := path
	if !strings.HasPrefix(u, "https://") {
		u = s.Config.Server + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return readAnswer(resp)
}

func (s *limServer) rg(name string) string {
	return "/subscriptions/" + s.Config.Subscription + "/resourceGroups/" + name
}

const rgAPI = "?api-version=2022-09-01"

// TestThrottledBurstRecovers (N8, #11 item 6): with a bucket of 3 writes refilled at one a
// second, a burst of writes gets 429 TooManyRequests with Retry-After and the remaining
// writes at 0, reads still pass, a throttled write is not processed (nor logged), and
// after Retry-After writes pass again; the SDK waits out a 429 by itself.
func TestThrottledBurstRecovers(t *testing.T) {
	t.Parallel()
	s := limStart(t, "--rate-limit-writes", "3600", "--rate-limit-write-burst", "3")
	var passed, throttled []answer
	for i := range 6 {
		a := s.call(t, "PUT", s.rg(fmt.Sprintf("burst-%d", i))+rgAPI, `{"location":"westus"}`)
		switch a.status {
		case http.StatusCreated:
			passed = append(passed, a)
		case http.StatusTooManyRequests:
			throttled = append(throttled, a)
		default:
			t.Fatalf("write %d: %d %s", i, a.status, a.raw)
		}
	}
	// The bucket refills a token a second: a slow machine may let a 4th through.
	if len(passed) < 3 || len(passed) > 4 || len(throttled) == 0 {
		t.Fatalf("%d writes passed and %d were throttled, want 3 (or 4) and the rest", len(passed), len(throttled))
	}
	if got := passed[0].header.Get("x-ms-ratelimit-remaining-subscription-writes"); got != "2" {
		t.Errorf("the first write's remaining writes = %q, want 2", got)
	}
	last := throttled[len(throttled)-1]
	retry, err := strconv.Atoi(last.header.Get("Retry-After"))
	if err != nil || retry < 1 || retry > 2 {
		t.Fatalf("429 Retry-After = %q, want 1 or 2 seconds", last.header.Get("Retry-After"))
	}
	msg, _ := last.body["error"].(map[string]any)["message"].(string)
	if last.body["error"].(map[string]any)["code"] != "TooManyRequests" || last.header.Get("x-ms-ratelimit-remaining-subscription-writes") != "0" ||
		!strings.Contains(msg, fmt.Sprintf("try again after '%d' seconds", retry)) {
		t.Fatalf("429 = %s (remaining %q), want TooManyRequests saying when to retry, with 0 writes remaining", last.raw, last.header.Get("x-ms-ratelimit-remaining-subscription-writes"))
	}
	if a := s.call(t, "GET", s.rg("burst-0")+rgAPI, ""); a.status != http.StatusOK || a.header.Get("x-ms-ratelimit-remaining-subscription-reads") == "" {
		t.Errorf("a read while writes are throttled = %d (remaining reads %q), want 200 with the header", a.status, a.header.Get("x-ms-ratelimit-remaining-subscription-reads"))
	}
	// A throttled write did nothing.
	if a := s.call(t, "GET", s.rg("burst-5")+rgAPI, ""); a.status != http.StatusNotFound {
		t.Errorf("the throttled write's group: %d %s, want 404", a.status, a.raw)
	}

	time.Sleep(time.Duration(retry) * time.Second)
	if a := s.call(t, "PUT", s.rg("after-wait")+rgAPI, `{"location":"westus"}`); a.status != http.StatusCreated {
		t.Fatalf("a write after Retry-After = %d %s, want 201", a.status, a.raw)
	}
	// The bucket is empty again; the SDK waits for it instead of failing.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 3 {
		if _, err := s.sdk.CreateResourceGroup(ctx, fmt.Sprintf("sdk-%d", i), "westus", nil); err != nil {
			t.Fatalf("SDK write %d while throttled: %v", i, err)
		}
	}

	metrics := s.call(t, "GET", "/metrics", "")
	if !strings.Contains(metrics.raw, `mlfleet_http_throttled_requests_total{kind="writes"}`) {
		t.Errorf("/metrics does not count throttled writes")
	}
	// Only the writes that passed are in the activity log.
	events, err := s.sdk.ListActivityLog(ctx, mlfleet.ActivityLogFilter{StartTime: time.Now().Add(-time.Hour), ResourceProvider: "Microsoft.Resources"})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(passed) + 1 + 3; len(events) != want {
		t.Errorf("the activity log has %d events, want the %d writes that passed", len(events), want)
	}
}

// TestActivityLogRecordsWrites (N8, #11 item 7): the writes made — a resource group, a
// workspace, a cluster (and its operation's end), a credentials call, a compute refused
// with a 400 — are listed with the caller, their operation names and the correlation ids
// the client sent (returned as x-ms-correlation-request-id), and nothing of the request
// bodies or answers: not a secret from a tag or a TLS key, not a kubeconfig.
func TestActivityLogRecordsWrites(t *testing.T) {
	t.Parallel()
	s := limStart(t)
	const marker = "Sup3rS3cretMarker"
	sub := s.Config.Subscription
	rg := s.rg("act-rg")
	ws := rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws1"
	mc := rg + "/providers/Microsoft.ContainerService/managedClusters/mc1"
	corr := func(name string) []string { return []string{"x-ms-correlation-request-id", name} }

	must := func(a answer, status int) answer {
		t.Helper()
		if a.status != status {
			t.Fatalf("%d %s, want %d", a.status, a.raw, status)
		}
		return a
	}
	a := must(s.call(t, "PUT", rg+rgAPI, `{"location":"westus","tags":{"apiKey":"`+marker+`"}}`, corr("corr-rg")...), http.StatusCreated)
	if a.header.Get("x-ms-correlation-request-id") != "corr-rg" {
		t.Errorf("x-ms-correlation-request-id = %q, want the client's", a.header.Get("x-ms-correlation-request-id"))
	}
	must(s.call(t, "PUT", ws+"?api-version=2024-04-01", `{"location":"westus","properties":{"description":"`+marker+`"}}`, corr("corr-ws")...), http.StatusOK)
	created := must(s.call(t, "PUT", mc+"?api-version=2025-02-01", `{"location":"westus","tags":{"secret":"`+marker+`"},
		"properties":{"agentPoolProfiles":[{"name":"nodepool1","count":1,"vmSize":"Standard_D2_v2","mode":"System"}]}}`, corr("corr-mc")...), http.StatusCreated)
	opURL := created.header.Get("Azure-AsyncOperation")
	testutil.WaitFor(t, 3*time.Minute, "cluster create succeeds", func() (bool, string) {
		op := must(s.call(t, "GET", opURL, ""), http.StatusOK)
		if op.body["status"] != "Succeeded" && op.body["status"] != "InProgress" {
			t.Fatalf("cluster create: %s", op.raw)
		}
		return op.body["status"] == "Succeeded", fmt.Sprint(op.body["status"])
	})
	creds := must(s.call(t, "POST", mc+"/listClusterAdminCredential?api-version=2025-02-01", "", corr("corr-cred")...), http.StatusOK)
	kubeconfig64 := creds.body["kubeconfigs"].([]any)[0].(map[string]any)["value"].(string)
	kubeconfig, err := base64.StdEncoding.DecodeString(kubeconfig64)
	if err != nil || !strings.Contains(string(kubeconfig), "client-key-data:") && !strings.Contains(string(kubeconfig), "token:") {
		t.Fatalf("admin kubeconfig: %v\n%s", err, kubeconfig)
	}
	var kubeSecrets []string
	for _, line := range strings.Split(string(kubeconfig), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok && (k == "client-key-data" || k == "token") {
			kubeSecrets = append(kubeSecrets, v)
		}
	}
	if len(kubeSecrets) == 0 {
		t.Fatalf("no client key or token in the admin kubeconfig:\n%s", kubeconfig)
	}
	compute := `{"location":"westus","properties":{"computeType":"AKS","resourceId":"` + mc + `","properties":{"sslConfiguration":{"status":"Enabled",
		"cert":"-----BEGIN CERTIFICATE-----\n` + marker + `\n-----END CERTIFICATE-----","key":"-----BEGIN PRIVATE KEY-----\n` + marker + `\n-----END PRIVATE KEY-----","cname":"x.example.com"}}}}`
	bad := s.call(t, "PUT", ws+"/computes/cmp1?api-version=2024-04-01", compute, corr("corr-compute")...)
	if bad.status != http.StatusBadRequest || !strings.Contains(bad.raw, "ssl") && !strings.Contains(bad.raw, "certificate") {
		t.Fatalf("a compute with a broken TLS pair = %d %s, want a 400 about it", bad.status, bad.raw)
	}
	unauth, _ := http.NewRequest("PUT", s.Config.Server+s.rg("nobody")+rgAPI, strings.NewReader(`{"location":"westus"}`))
	unauth.Header.Set("x-ms-correlation-request-id", "corr-nobody")
	if resp, err := s.HTTP.Do(unauth); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unauthenticated PUT: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// The raw ARM list, as az monitor activity-log list sends it.
	now := time.Now().UTC()
	filter := fmt.Sprintf("eventTimestamp ge %s and eventTimestamp le %s and resourceGroupName eq 'act-rg'",
		now.Add(-time.Hour).Format("2006-01-02T15:04:05.000000"), now.Add(time.Minute).Format("2006-01-02T15:04:05.000000"))
	var events []map[string]any
	var raw strings.Builder
	next := "/subscriptions/" + sub + "/providers/microsoft.insights/eventtypes/management/values?api-version=2015-04-01&$filter=" + url.QueryEscape(filter)
	for next != "" {
		page := must(s.call(t, "GET", next, ""), http.StatusOK)
		raw.WriteString(page.raw)
		for _, v := range page.body["value"].([]any) {
			events = append(events, v.(map[string]any))
		}
		next, _ = page.body["nextLink"].(string)
	}
	type row struct{ corr, op, status string }
	got := map[row]int{}
	for _, e := range events {
		if e["caller"] != "admin" {
			t.Errorf("event %v has caller %v, want admin", e["eventDataId"], e["caller"])
		}
		got[row{e["correlationId"].(string), e["operationName"].(map[string]any)["value"].(string), e["status"].(map[string]any)["value"].(string)}]++
	}
	want := map[row]int{
		{"corr-rg", "Microsoft.Resources/subscriptions/resourceGroups/write", "Succeeded"}:                         1,
		{"corr-ws", "Microsoft.MachineLearningServices/workspaces/write", "Succeeded"}:                             1,
		{"corr-mc", "Microsoft.ContainerService/managedClusters/write", "Accepted"}:                                1,
		{"corr-mc", "Microsoft.ContainerService/managedClusters/write", "Succeeded"}:                               1,
		{"corr-cred", "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action", "Succeeded"}: 1,
		{"corr-compute", "Microsoft.MachineLearningServices/workspaces/computes/write", "Failed"}:                  1,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("activity log of act-rg:\n%v\nwant\n%v", got, want)
	}
	for _, secret := range append([]string{marker, kubeconfig64}, kubeSecrets...) {
		if strings.Contains(raw.String(), secret) {
			t.Errorf("the activity log holds a secret (%.12s…):\n%s", secret, raw.String())
		}
	}

	// The SDK (and so the CLI) lists the same, by correlation id.
	mcEvents, err := s.sdk.ListActivityLog(context.Background(), mlfleet.ActivityLogFilter{StartTime: now.Add(-time.Hour), CorrelationID: "corr-mc"})
	if err != nil {
		t.Fatal(err)
	}
	if len(mcEvents) != 2 || mcEvents[0].OperationID != mcEvents[1].OperationID || !strings.Contains(opURL, mcEvents[0].OperationID) ||
		mcEvents[0].ResourceID != mc || mcEvents[1].SubStatus.Value != "Created" {
		t.Errorf("the cluster create's events: %+v", mcEvents)
	}
	if nobody, err := s.sdk.ListActivityLog(context.Background(), mlfleet.ActivityLogFilter{StartTime: now.Add(-time.Hour), CorrelationID: "corr-nobody"}); err != nil || len(nobody) != 0 {
		t.Errorf("an unauthenticated request was logged: %+v, %v", nobody, err)
	}
}
