package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestAutoscaleFlags: the autoscaler flags are checked as az checks them before any call.
func TestAutoscaleFlags(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
		enable  *bool
		lo, hi  int
		profile map[string]any
	}{
		{name: "enable", args: []string{"--enable-cluster-autoscaler", "--min-count", "3", "--max-count", "10"}, enable: ptr(true), lo: 3, hi: 10},
		{name: "update", args: []string{"--update-cluster-autoscaler", "--min-count", "1", "--max-count", "4"}, enable: ptr(true), lo: 1, hi: 4},
		{name: "disable", args: []string{"--disable-cluster-autoscaler"}, enable: ptr(false)},
		{name: "enable without bounds", args: []string{"--enable-cluster-autoscaler", "--min-count", "3"}, wantErr: "both --min-count and --max-count"},
		{name: "two modes", args: []string{"--enable-cluster-autoscaler", "--disable-cluster-autoscaler"}, wantErr: "only one of"},
		{name: "disable with bounds", args: []string{"--disable-cluster-autoscaler", "--max-count", "3"}, wantErr: "cannot be used with --disable"},
		{name: "min above max", args: []string{"--enable-cluster-autoscaler", "--min-count", "5", "--max-count", "3"}, wantErr: "less than or equal"},
		{name: "bounds alone", args: []string{"--min-count", "1", "--max-count", "3"}, wantErr: "need --enable-cluster-autoscaler"},
		{name: "profile", args: []string{"--cluster-autoscaler-profile", "scan-interval=30s scale_down_unneeded_time=5m"},
			profile: map[string]any{"scan-interval": "30s", "scale-down-unneeded-time": "5m"}},
		{name: "bad profile", args: []string{"--cluster-autoscaler-profile", "scan-interval"}, wantErr: "key=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &autoscaleFlags{}
			var err error
			var enable *bool
			var lo, hi *int
			var profile map[string]any
			cmd := &cobra.Command{Use: "x", RunE: func(cmd *cobra.Command, _ []string) error {
				if enable, lo, hi, err = a.pool(cmd); err != nil {
					return err
				}
				p, err := a.profileMap()
				profile = p
				return err
			}}
			a.bind(cmd.Flags(), true)
			a.bindProfile(cmd.Flags())
			cmd.SetArgs(tc.args)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err = cmd.Execute()
			if testutil.WantErr(t, err, tc.wantErr) {
				return
			}
			if (enable == nil) != (tc.enable == nil) || (enable != nil && *enable != *tc.enable) {
				t.Errorf("enable = %v, want %v", enable, tc.enable)
			}
			if lo != nil && (*lo != tc.lo || *hi != tc.hi) {
				t.Errorf("bounds %d..%d, want %d..%d", *lo, *hi, tc.lo, tc.hi)
			}
			for k, v := range tc.profile {
				if profile[k] != v {
					t.Errorf("profile[%s] = %v, want %v", k, profile[k], v)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// autoscalerServer is a fake of cluster c1 in rg1 with one pool, np1, whose autoscaler is
// on or off: it answers GETs of the cluster and the pool (its name in any case, as ARM
// names are; another pool is a 404 naming np1), and records the path of every PUT, which
// it answers with the resource as it is.
func autoscalerServer(t *testing.T, on bool) (*httptest.Server, func() []string) {
	const cluster = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1"
	pool := map[string]any{"count": 2, "vmSize": "Standard_DS2_v2", "mode": "System", "provisioningState": "Succeeded", "enableAutoScaling": on}
	if on {
		pool["minCount"], pool["maxCount"] = 1, 3
	}
	var mu sync.Mutex
	var puts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			mu.Lock()
			puts = append(puts, r.URL.Path)
			mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		switch path := r.URL.Path; {
		case path == cluster:
			profile := map[string]any{"name": "np1"}
			for k, v := range pool {
				profile[k] = v
			}
			json.NewEncoder(w).Encode(map[string]any{"id": cluster, "name": "c1", "type": "Microsoft.ContainerService/managedClusters",
				"location": "westus", "properties": map[string]any{"provisioningState": "Succeeded", "agentPoolProfiles": []any{profile}}})
		case strings.EqualFold(path, cluster+"/agentPools/np1"):
			json.NewEncoder(w).Encode(map[string]any{"id": cluster + "/agentPools/np1", "name": "np1", "type": "Microsoft.ContainerService/managedClusters/agentPools", "properties": pool})
		case strings.HasPrefix(path, cluster+"/agentPools/") && r.Method == http.MethodGet:
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": "ResourceNotFound",
				"message": "Cluster 'c1' has no agent pool '" + strings.TrimPrefix(path, cluster+"/agentPools/") + "'; its agent pools are: np1."}})
		default:
			http.Error(w, "unexpected "+r.Method+" "+r.URL.String(), http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), puts...)
	}
}

// TestAutoscaleFlagsAgainstPool: as az (acs aks_agentpool_update and aks_update), the
// autoscaler flags are checked against the pool's autoscaler before anything is sent:
// --update-cluster-autoscaler on a pool whose autoscaler is off is refused, naming the
// command that enables it, rather than turning it on; enabling an enabled autoscaler or
// disabling a disabled one warns and sends nothing (or only the other changes asked for).
func TestAutoscaleFlagsAgainstPool(t *testing.T) {
	nodepool := []string{"aks", "nodepool", "update", "--cluster-name", "c1", "-g", "rg1", "-n", "np1", "-o", "none"}
	cluster := []string{"aks", "update", "-n", "c1", "-g", "rg1", "-o", "none"}
	bounds := []string{"--min-count", "1", "--max-count", "4"}
	for _, tc := range []struct {
		name     string
		on       bool
		args     []string
		code     int
		stderr   string // "" = nothing printed
		wantPuts int
	}{
		{name: "nodepool update on an off pool", args: append(append(nodepool, "--update-cluster-autoscaler"), bounds...), code: 1,
			stderr: `ERROR: cluster autoscaler is not enabled for this node pool. Run "mlfleet aks nodepool update --enable-cluster-autoscaler" to enable it`},
		{name: "aks update on an off pool", args: append(append(cluster, "--update-cluster-autoscaler"), bounds...), code: 1,
			stderr: `ERROR: cluster autoscaler is not enabled for this managed cluster. Run "mlfleet aks update --enable-cluster-autoscaler" to enable it`},
		{name: "nodepool enable on an on pool", on: true, args: append(append(nodepool, "--enable-cluster-autoscaler"), bounds...),
			stderr: `WARNING: Cluster autoscaler is already enabled for this node pool. Please run "mlfleet aks nodepool update --update-cluster-autoscaler"`},
		{name: "aks enable on an on pool", on: true, args: append(append(cluster, "--enable-cluster-autoscaler"), bounds...),
			stderr: `WARNING: Cluster autoscaler is already enabled for this managed cluster. Please run "mlfleet aks update --update-cluster-autoscaler"`},
		{name: "nodepool disable on an off pool", args: append(nodepool, "--disable-cluster-autoscaler"),
			stderr: "WARNING: Cluster autoscaler is already disabled for this node pool."},
		{name: "aks disable on an off pool", args: append(cluster, "--disable-cluster-autoscaler"),
			stderr: "WARNING: Cluster autoscaler is already disabled for this managed cluster."},
		{name: "enable on an on pool with labels sends the labels", on: true, args: append(append(nodepool, "--enable-cluster-autoscaler", "--labels", "a=1"), bounds...),
			stderr: "WARNING: Cluster autoscaler is already enabled", wantPuts: 1},
		{name: "enable on an off pool", args: append(append(nodepool, "--enable-cluster-autoscaler"), bounds...), wantPuts: 1},
		{name: "nodepool update on an on pool", on: true, args: append(append(nodepool, "--update-cluster-autoscaler"), bounds...), wantPuts: 1},
		{name: "aks update on an on pool", on: true, args: append(append(cluster, "--update-cluster-autoscaler"), bounds...), wantPuts: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, puts := autoscalerServer(t, tc.on)
			_, errOut, code := runAgainst(t, fake, tc.args...)
			if code != tc.code || (tc.stderr == "") != (errOut == "") || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.stderr)
			}
			if n := len(puts()); n != tc.wantPuts {
				t.Errorf("%d PUTs sent, want %d", n, tc.wantPuts)
			}
		})
	}
}

// TestScaleReadsThePoolFirst: the commands that scale or update a pool read it first, as
// az does, so a pool the cluster lacks is the server's 404 naming the pools it has, and
// no PUT is sent (a PUT of a new pool is an add, which the server refuses as such); a
// name in another case is sent as the pool's own name.
func TestScaleReadsThePoolFirst(t *testing.T) {
	const pools = "/subscriptions/sub1/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/c1/agentPools/"
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
		put    string // the path of the one PUT, "" = none
	}{
		{name: "nodepool scale of a missing pool", args: []string{"aks", "nodepool", "scale", "--cluster-name", "c1", "-g", "rg1", "-n", "nopool", "-c", "2"},
			stderr: "ERROR: (ResourceNotFound) Cluster 'c1' has no agent pool 'nopool'; its agent pools are: np1.\n"},
		{name: "aks scale of a missing pool", args: []string{"aks", "scale", "-n", "c1", "-g", "rg1", "--nodepool-name", "nopool", "-c", "2"},
			stderr: "ERROR: (ResourceNotFound) Cluster 'c1' has no agent pool 'nopool'; its agent pools are: np1.\n"},
		{name: "nodepool update of a missing pool", args: []string{"aks", "nodepool", "update", "--cluster-name", "c1", "-g", "rg1", "-n", "nopool", "--labels", "a=1"},
			stderr: "ERROR: (ResourceNotFound) Cluster 'c1' has no agent pool 'nopool'"},
		{name: "aks update of a missing pool", args: []string{"aks", "update", "-n", "c1", "-g", "rg1", "--nodepool-name", "nopool", "--enable-cluster-autoscaler", "--min-count", "1", "--max-count", "3"},
			stderr: "ERROR: (ResourceNotFound) Cluster 'c1' has no agent pool 'nopool'"},
		{name: "nodepool scale in another case", args: []string{"aks", "nodepool", "scale", "--cluster-name", "c1", "-g", "rg1", "-n", "NP1", "-c", "2", "-o", "none"}, put: pools + "np1"},
		{name: "aks scale in another case", args: []string{"aks", "scale", "-n", "c1", "-g", "rg1", "--nodepool-name", "Np1", "-c", "2", "-o", "none"}, put: pools + "np1"},
		{name: "nodepool update in another case", args: []string{"aks", "nodepool", "update", "--cluster-name", "c1", "-g", "rg1", "-n", "NP1", "--labels", "a=1", "-o", "none"}, put: pools + "np1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake, puts := autoscalerServer(t, false)
			_, errOut, code := runAgainst(t, fake, tc.args...)
			if wantCode := map[bool]int{true: 1, false: 0}[tc.stderr != ""]; code != wantCode || !strings.Contains(errOut, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, wantCode, tc.stderr)
			}
			sent := puts()
			if tc.put == "" && len(sent) != 0 || tc.put != "" && (len(sent) != 1 || sent[0] != tc.put) {
				t.Errorf("PUTs %v, want %q", sent, tc.put)
			}
		})
	}
}
