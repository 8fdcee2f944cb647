package containerservice

import (
	"context"

	"strings"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

func intp(n int) *int    { return &n }
func boolp(b bool) *bool { return &b }

// floatp returns a pointer to f.
func floatp(f float64) *float64 { return &f }

func TestPoolScaling(t *testing.T) {
	on := func(lo, hi int) armapi.AgentPoolProfile {
		return armapi.AgentPoolProfile{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{Mode: "System", Count: 3, EnableAutoScaling: true, MinCount: intp(lo), MaxCount: intp(hi)}}
	}
	off := armapi.AgentPoolProfile{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{Mode: "System", Count: 3}}
	for _, tc := range []struct {
		name      string
		cur       armapi.AgentPoolProfile
		in        armapi.AgentPoolInput
		update    bool
		wantCount int
		wantErr   string // substring of the message; "" = valid
		wantOn    bool
	}{
		{name: "create enables", cur: off, in: armapi.AgentPoolInput{EnableAutoScaling: boolp(true), MinCount: intp(3), MaxCount: intp(10)}, wantCount: 3, wantOn: true},
		{name: "create count clamped up to min", cur: off, in: armapi.AgentPoolInput{EnableAutoScaling: boolp(true), MinCount: intp(5), MaxCount: intp(10)}, wantCount: 5, wantOn: true},
		{name: "create count outside range", cur: armapi.AgentPoolProfile{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{Mode: "System", Count: 2}}, in: armapi.AgentPoolInput{Count: intp(2), EnableAutoScaling: boolp(true), MinCount: intp(3), MaxCount: intp(10)}, wantErr: "not in the range"},
		{name: "min above max", cur: off, in: armapi.AgentPoolInput{EnableAutoScaling: boolp(true), MinCount: intp(7), MaxCount: intp(4)}, wantErr: "greater than maxCount"},
		{name: "max zero", cur: off, in: armapi.AgentPoolInput{EnableAutoScaling: boolp(true), MinCount: intp(1), MaxCount: intp(0)}, wantErr: "maxCount 0 is out of range"},
		{name: "max above limit", cur: off, in: armapi.AgentPoolInput{EnableAutoScaling: boolp(true), MinCount: intp(1), MaxCount: intp(1000)}, wantErr: "maxCount 1000 is out of range"},
		{name: "system pool min zero", cur: off, in: armapi.AgentPoolInput{EnableAutoScaling: boolp(true), MinCount: intp(0), MaxCount: intp(3)}, wantErr: "minCount 0 is out of range"},
		{name: "user pool min zero", cur: armapi.AgentPoolProfile{Name: "user1", AgentPoolProperties: armapi.AgentPoolProperties{Mode: "User", Count: 3}}, in: armapi.AgentPoolInput{EnableAutoScaling: boolp(true), MinCount: intp(0), MaxCount: intp(3)}, wantCount: 3, wantOn: true},
		{name: "missing bounds", cur: off, in: armapi.AgentPoolInput{EnableAutoScaling: boolp(true)}, wantErr: "required when enableAutoScaling"},
		{name: "bounds without autoscaling", cur: off, in: armapi.AgentPoolInput{MinCount: intp(1), MaxCount: intp(3)}, update: true, wantErr: "does not autoscale"},
		{name: "manual scale refused", cur: on(3, 6), in: armapi.AgentPoolInput{Count: intp(5)}, update: true, wantErr: "Cannot scale cluster autoscaler enabled node pool"},
		{name: "same count resent (az)", cur: on(3, 6), in: armapi.AgentPoolInput{Count: intp(3), EnableAutoScaling: boolp(true), MinCount: intp(3), MaxCount: intp(6)}, update: true, wantCount: 3, wantOn: true},
		{name: "update range moves count", cur: on(3, 6), in: armapi.AgentPoolInput{MinCount: intp(4), MaxCount: intp(6)}, update: true, wantCount: 4, wantOn: true},
		{name: "enable on update clamps", cur: armapi.AgentPoolProfile{Name: "nodepool1", AgentPoolProperties: armapi.AgentPoolProperties{Mode: "System", Count: 1}}, in: armapi.AgentPoolInput{Count: intp(1), EnableAutoScaling: boolp(true), MinCount: intp(3), MaxCount: intp(6)}, update: true, wantCount: 3, wantOn: true},
		{name: "disable keeps count", cur: on(3, 6), in: armapi.AgentPoolInput{EnableAutoScaling: boolp(false)}, update: true, wantCount: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errs arm.Problems
			ap := tc.cur
			count := poolScaling("p", tc.in, &ap, tc.in.Count != nil, tc.update, &errs)
			err := errs.Err("", "The cluster request")
			if testutil.WantErr(t, err, tc.wantErr) {
				return
			}
			if count != tc.wantCount || ap.EnableAutoScaling != tc.wantOn {
				t.Errorf("count %d autoscale %v, want %d %v", count, ap.EnableAutoScaling, tc.wantCount, tc.wantOn)
			}
			if !tc.wantOn && (ap.MinCount != nil || ap.MaxCount != nil) {
				t.Errorf("min/max kept on a pool that does not autoscale")
			}
		})
	}
}

func TestMergeProfile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, cur armapi.AutoScalerProfile
		wantErr []string
	}{
		{name: "defaults", in: nil},
		// A cluster that stored another value before mlfleet refused it keeps it on az's
		// resend, and cannot change it to a third.
		{name: "stored value of a key not implemented", in: armapi.AutoScalerProfile{"max-node-provision-time": "20m", "scan-interval": "20s"},
			cur: armapi.AutoScalerProfile{"max-node-provision-time": "20m"}},
		{name: "stored value changed", in: armapi.AutoScalerProfile{"max-node-provision-time": "30m"}, cur: armapi.AutoScalerProfile{"max-node-provision-time": "20m"},
			wantErr: []string{"'max-node-provision-time' is '30m'", "accepts only 15m"}},
		{name: "valid keys", in: armapi.AutoScalerProfile{"scan-interval": "30s", "scale-down-utilization-threshold": "0.7", "expander": "least-waste", "ignore-daemonsets-utilization": true}},
		// az sends the whole profile back on every update: the defaults of the keys mlfleet
		// does not implement pass, in any spelling.
		{name: "defaults of keys not implemented", in: armapi.AutoScalerProfile{"balance-similar-node-groups": "False", "daemonset-eviction-for-empty-nodes": false,
			"daemonset-eviction-for-occupied-nodes": "true", "max-node-provision-time": "900s", "max-total-unready-percentage": 45.0, "ok-total-unready-count": "3",
			"scale-down-unready-time": "20m"}},
		{name: "keys not implemented", in: armapi.AutoScalerProfile{"balance-similar-node-groups": "true", "daemonset-eviction-for-empty-nodes": true,
			"daemonset-eviction-for-occupied-nodes": false, "max-node-provision-time": "20m", "max-total-unready-percentage": "50", "ok-total-unready-count": "0",
			"scale-down-unready-time": "5m"},
			wantErr: []string{"Cluster autoscaler profile key 'max-node-provision-time' is '20m': mlfleet's cluster autoscaler does not implement it, so it accepts only 15m (AKS's default).",
				"'balance-similar-node-groups' is 'true'", "accepts only false", "'daemonset-eviction-for-occupied-nodes' is 'false'", "accepts only true", "'ok-total-unready-count' is '0'",
				"accepts only 45 (", "accepts only 20m (", "7 checks failed"}},
		{name: "unknown key", in: armapi.AutoScalerProfile{"scan-intervall": "30s"}, wantErr: []string{"Unknown cluster autoscaler profile key 'scan-intervall'"}},
		{name: "bad values reported together", in: armapi.AutoScalerProfile{"scan-interval": "ten", "scale-down-utilization-threshold": "2", "expander": "cheapest", "max-total-unready-percentage": "101"},
			wantErr: []string{"'scan-interval' is 'ten'", "use a number above 0 and at most 1", "use one of least-waste", "use 0 to 100", "4 checks failed"}},
		{name: "zero scan interval", in: armapi.AutoScalerProfile{"scan-interval": "0s"},
			wantErr: []string{"Cluster autoscaler profile key 'scan-interval' is '0s': use a duration above zero, such as 10s"}},
		{name: "zero minutes scan interval", in: armapi.AutoScalerProfile{"scan-interval": "0m"}, wantErr: []string{"'scan-interval' is '0m': use a duration above zero"}},
		{name: "zero utilization threshold", in: armapi.AutoScalerProfile{"scale-down-utilization-threshold": "0"},
			wantErr: []string{"'scale-down-utilization-threshold' is '0': use a number above 0 and at most 1"}},
		{name: "zero graceful termination", in: armapi.AutoScalerProfile{"max-graceful-termination-sec": "0"},
			wantErr: []string{"'max-graceful-termination-sec' is 0: use a positive integer"}},
		{name: "zero delays", in: armapi.AutoScalerProfile{"scale-down-delay-after-add": "0s", "new-pod-scale-up-delay": "0s", "scan-interval": "1s"}},
		{name: "priority expander", in: armapi.AutoScalerProfile{"expander": "priority"}, wantErr: []string{"cluster-autoscaler-priority-expander", "use random, least-waste or most-pods"}},
		{name: "bool key", in: armapi.AutoScalerProfile{"ignore-daemonsets-utilization": "maybe"}, wantErr: []string{"must be true or false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errs arm.Problems
			out := mergeProfile(tc.in, tc.cur, &errs)
			err := errs.Err("", "The cluster request")
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if len(out) != len(autoScalerKeys) {
					t.Errorf("profile has %d keys, want all %d", len(out), len(autoScalerKeys))
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	s := Settings(DefaultAutoScalerProfile())
	if s.ScanInterval != 10*time.Second || s.ScaleDownDelayAfterAdd != 10*time.Minute || s.ScaleDownUnneededTime != 10*time.Minute || s.ScaleDownDelayAfterFailure != 3*time.Minute ||
		s.UtilizationThreshold != 0.5 || s.MaxGracefulTermination != 600*time.Second || s.Expander != "random" ||
		s.MaxEmptyBulkDelete != 10 || s.ScaleDownDelayAfterDelete != 10*time.Second || s.EvictSystemPods || s.SkipNodesWithLocalStorage ||
		s.NewPodScaleUpDelay != 0 || s.IgnoreDaemonSetsUtilization {
		t.Errorf("default settings = %+v", s)
	}
}

// TestSettings: the keys mlfleet's autoscaler honours reach its settings.
func TestSettings(t *testing.T) {
	var errs arm.Problems
	p := mergeProfile(armapi.AutoScalerProfile{"max-empty-bulk-delete": "20", "scale-down-delay-after-delete": "0s", "skip-nodes-with-system-pods": "false",
		"skip-nodes-with-local-storage": "true", "new-pod-scale-up-delay": "30s", "ignore-daemonsets-utilization": true}, nil, &errs)
	if err := errs.Err("", "The cluster request"); err != nil {
		t.Fatal(err)
	}
	s := Settings(p)
	if s.MaxEmptyBulkDelete != 20 || s.ScaleDownDelayAfterDelete != 0 || !s.EvictSystemPods || !s.SkipNodesWithLocalStorage ||
		s.NewPodScaleUpDelay != 30*time.Second || !s.IgnoreDaemonSetsUtilization {
		t.Errorf("settings = %+v", s)
	}
}

// TestDisableAutoscalerWithCount: a PUT that turns a pool's autoscaler off and names a new
// count scales the pool to that count, as AKS does (qa10 #2), through the agent pool API
// (az aks nodepool update, the SDKs' AgentPoolsClient) and through the cluster's
// agentPoolProfiles; one that turns it off without a new count keeps the count, and a
// later manual scale applies.
func TestDisableAutoscalerWithCount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := storetest.OpenSQLite(t)
	s := newService(t, st, `{"default": {"managedClusters": 10, "cores": 1000}}`)
	autoscaled := func(name string) {
		t.Helper()
		in := clusterInput(2, "Standard_D2_v2")
		p := &in.Properties.AgentPoolProfiles[0]
		p.EnableAutoScaling, p.MinCount, p.MaxCount = boolp(true), intp(1), intp(4)
		mustPut(t, s, name, in)
		finishOperations(t, st)
	}
	wantPool := func(name string, count int) {
		t.Helper()
		mc, err := s.Get(ctx, testSub, testRG, name)
		if err != nil {
			t.Fatal(err)
		}
		ap := mc.Properties.AgentPoolProfiles[0]
		if ap.Count != count || ap.EnableAutoScaling || ap.MinCount != nil || ap.MaxCount != nil {
			t.Fatalf("%s pool after the update = count %d autoscale %v min %v max %v, want count %d without autoscaling",
				name, ap.Count, ap.EnableAutoScaling, ap.MinCount, ap.MaxCount, count)
		}
	}

	autoscaled("bypool")
	var pool armapi.AgentPoolPut
	pool.Properties.EnableAutoScaling, pool.Properties.Count = boolp(false), intp(3)
	ap, op, err := s.ScalePool(ctx, testSub, testRG, "bypool", "nodepool1", pool, arm.Preconditions{})
	if err != nil || op == nil || ap.Properties.Count != 3 {
		t.Fatalf("agent pool PUT = %+v, %v, %v; want count 3 and an operation", ap, op, err)
	}
	finishOperations(t, st)
	wantPool("bypool", 3)

	autoscaled("bycluster")
	var in armapi.ClusterInput
	in.Properties.AgentPoolProfiles = []armapi.AgentPoolInput{{Name: "nodepool1", Count: intp(4), EnableAutoScaling: boolp(false)}}
	mustPut(t, s, "bycluster", in)
	finishOperations(t, st)
	wantPool("bycluster", 4)

	// az aks update --disable-cluster-autoscaler sends the count as read; az aks scale follows.
	autoscaled("twosteps")
	in.Properties.AgentPoolProfiles = []armapi.AgentPoolInput{{Name: "nodepool1", Count: intp(2), EnableAutoScaling: boolp(false)}}
	mustPut(t, s, "twosteps", in)
	finishOperations(t, st)
	wantPool("twosteps", 2)
	pool = armapi.AgentPoolPut{}
	pool.Properties.Count = intp(1)
	if _, _, err := s.ScalePool(ctx, testSub, testRG, "twosteps", "nodepool1", pool, arm.Preconditions{}); err != nil {
		t.Fatal(err)
	}
	finishOperations(t, st)
	wantPool("twosteps", 1)

	// The count is still checked: out of range is a 400 naming the range, nothing changes.
	autoscaled("badcount")
	pool = armapi.AgentPoolPut{}
	pool.Properties.EnableAutoScaling, pool.Properties.Count = boolp(false), intp(101)
	_, _, err = s.ScalePool(ctx, testSub, testRG, "badcount", "nodepool1", pool, arm.Preconditions{})
	testutil.WantErr(t, err, "node count 101 is out of range: use 1 to 100")
}
