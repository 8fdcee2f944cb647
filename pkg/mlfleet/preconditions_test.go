package mlfleet_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// sent is a request as it left the client, with its conditional headers.
type sent struct {
	method, path         string
	ifMatch, ifNoneMatch []string
}

// recorder passes every request on to the real transport and remembers its conditional
// headers.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []sent
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, sent{method: req.Method, path: req.URL.Path,
		ifMatch: req.Header.Values("If-Match"), ifNoneMatch: req.Header.Values("If-None-Match")})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// writes runs call and returns the PUT and DELETE requests it sent.
func (r *recorder) writes(call func()) []sent {
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
	call()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sent
	for _, s := range r.reqs {
		if s.method == http.MethodPut || s.method == http.MethodDelete {
			out = append(out, s)
		}
	}
	return out
}

// checkSent fails unless writes is exactly one request, to a path ending in suffix, with
// these conditional headers (nil: none).
func checkSent(t *testing.T, what string, writes []sent, suffix string, ifMatch, ifNoneMatch []string) {
	t.Helper()
	if len(writes) != 1 || !strings.HasSuffix(strings.ToLower(writes[0].path), strings.ToLower(suffix)) {
		t.Errorf("%s sent %+v, want one write to …%s", what, writes, suffix)
		return
	}
	w := writes[0]
	if strings.Join(w.ifMatch, "|") != strings.Join(ifMatch, "|") || strings.Join(w.ifNoneMatch, "|") != strings.Join(ifNoneMatch, "|") {
		t.Errorf("%s sent If-Match %q and If-None-Match %q, want %q and %q", what, w.ifMatch, w.ifNoneMatch, ifMatch, ifNoneMatch)
	}
}

// wantStatus fails unless err is an *mlfleet.Error with this status and code.
func wantStatus(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var e *mlfleet.Error
	if !errors.As(err, &e) || e.StatusCode != status || e.Code != code {
		t.Errorf("%s: %v, want %d %s", what, err, status, code)
	}
}

// TestConditionalRequests: creates and attaches are create only (If-None-Match: *), so
// they never change a compute that exists; updates and scales are not, and send If-Match
// only when the caller asks for it.
func TestConditionalRequests(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rec := &recorder{next: server.HTTP.Transport}
	c, err := mlfleet.NewClient(mlfleet.WithHTTPClient(&http.Client{Transport: rec, Timeout: time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	const rg, name = "cond-rg", "condaks"
	if _, err := c.CreateResourceGroup(ctx, rg, "westus", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p, err := c.BeginDeleteResourceGroup(context.Background(), rg); err == nil && p != nil {
			_, _ = p.Wait(context.Background(), nil)
		}
	})
	ws, err := c.CreateWorkspace(ctx, rg, "cond-ws", "")
	if err != nil {
		t.Fatal(err)
	}
	star := []string{"*"}
	cfg := mlfleet.AKSProvisioningConfig{ClusterPurpose: mlfleet.PurposeDevTest, AgentCount: 1, VMSize: "Standard_D2_v2"}

	var aks *mlfleet.AKSCompute
	checkSent(t, "CreateAKS", rec.writes(func() { aks, err = ws.CreateAKS(ctx, name, cfg) }), "/computes/"+name, nil, star)
	if err != nil {
		t.Fatal(err)
	}
	if err := aks.WaitForCompletion(ctx, nil); err != nil {
		t.Fatal(err)
	}
	checkSent(t, "ValidateCreateAKS", rec.writes(func() { _, _ = ws.ValidateCreateAKS(ctx, "condother", cfg) }), "/computes/condother", nil, star)

	// A second create of the same name changes nothing: 409, the compute as it was.
	bigger := cfg
	bigger.AgentCount = 2
	var again *mlfleet.AKSCompute
	checkSent(t, "CreateAKS again", rec.writes(func() { again, err = ws.CreateAKS(ctx, name, bigger) }), "/computes/"+name, nil, star)
	wantStatus(t, "CreateAKS of an existing compute", err, http.StatusConflict, "Conflict")
	if err == nil { // the server changed the compute: let that end before going on
		_ = again.WaitForCompletion(ctx, nil)
	}
	if err := aks.Refresh(ctx); err != nil || aks.AgentCount() != 1 || aks.Compute().ETag == "" {
		t.Errorf("after a second create: %v, %d agents (want 1), etag %q (want one)", err, aks.AgentCount(), aks.Compute().ETag)
	}

	checkSent(t, "Scale", rec.writes(func() { err = aks.Scale(ctx, aks.AgentCount()+1) }), "/computes/"+name, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := aks.WaitForCompletion(ctx, nil); err != nil {
		t.Fatal(err)
	}
	checkSent(t, "Update", rec.writes(func() { err = aks.Update(ctx, mlfleet.AKSUpdateConfig{ClusterPurpose: mlfleet.PurposeDevTest}) }), "/computes/"+name, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := aks.WaitForCompletion(ctx, nil); err != nil {
		t.Fatal(err)
	}

	// If-Match on request: the current etag passes, a stale one is refused.
	cur, err := c.GetCompute(ctx, rg, ws.Name, name)
	if err != nil {
		t.Fatal(err)
	}
	body := &mlfleet.Compute{Location: cur.Location, Properties: mlfleet.ComputeProperties{ComputeType: mlfleet.ComputeTypeAKS,
		Properties: &mlfleet.AKSProperties{ClusterPurpose: cur.Properties.Properties.ClusterPurpose, AgentCount: cur.Properties.Properties.AgentCount}}}
	var p *mlfleet.Poller
	checkSent(t, "update with If-Match", rec.writes(func() {
		_, p, err = c.BeginCreateOrUpdateCompute(ctx, rg, ws.Name, name, body, &mlfleet.ComputeOptions{IfMatch: cur.ETag})
	}), "/computes/"+name, []string{cur.ETag}, nil)
	if err != nil {
		t.Errorf("update with the current etag %s: %v", cur.ETag, err)
	} else if p != nil {
		if _, err := p.Wait(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, p, err = c.BeginCreateOrUpdateCompute(ctx, rg, ws.Name, name, body, &mlfleet.ComputeOptions{IfMatch: `"1"`})
	wantStatus(t, "update with a stale etag", err, http.StatusPreconditionFailed, "PreconditionFailed")
	if err == nil && p != nil { // the server changed the compute: let that end before going on
		_, _ = p.Wait(ctx, nil)
	}

	// Attach is create only too; the cluster does not exist, the request is what counts.
	attach := mlfleet.AKSAttachConfig{ResourceGroup: rg, ClusterName: "nosuchcluster", ClusterPurpose: mlfleet.PurposeDevTest}
	checkSent(t, "AttachAKS", rec.writes(func() { _, _ = ws.AttachAKS(ctx, "condatt", attach) }), "/computes/condatt", nil, star)
	checkSent(t, "ValidateAttachAKS", rec.writes(func() { _, _ = ws.ValidateAttachAKS(ctx, "condatt", attach) }), "/computes/condatt", nil, star)

	// Managed clusters: create only on request; BeginCreateManagedCluster and scales are
	// create-or-update. The group does not exist, so nothing is made.
	in := &mlfleet.ClusterInput{Location: "westus"}
	checkSent(t, "BeginCreateOrUpdateManagedCluster create only", rec.writes(func() {
		_, _, _ = c.BeginCreateOrUpdateManagedCluster(ctx, "cond-none-rg", "mc", in, &mlfleet.ClusterOptions{IfNoneMatch: true})
	}), "/managedClusters/mc", nil, star)
	checkSent(t, "BeginCreateOrUpdateManagedCluster If-Match", rec.writes(func() {
		_, _, _ = c.BeginCreateOrUpdateManagedCluster(ctx, "cond-none-rg", "mc", in, &mlfleet.ClusterOptions{IfMatch: `"4"`})
	}), "/managedClusters/mc", []string{`"4"`}, nil)
	checkSent(t, "BeginCreateManagedCluster", rec.writes(func() { _, _, _ = c.BeginCreateManagedCluster(ctx, "cond-none-rg", "mc", in) }),
		"/managedClusters/mc", nil, nil)
	checkSent(t, "BeginScaleAgentPool", rec.writes(func() { _, _, _ = c.BeginScaleAgentPool(ctx, "cond-none-rg", "mc", "nodepool1", 2) }),
		"/agentPools/nodepool1", nil, nil)

	checkSent(t, "Delete", rec.writes(func() { err = aks.Delete(ctx) }), "/computes/"+name, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := aks.WaitForCompletion(ctx, nil); err != nil {
		t.Fatal(err)
	}
}
