package clusterruntime

import (
	"context"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/procstat"
	"github.com/mlfleet/mlfleet/internal/testutil"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
)

// TestStopAndRestart checks that Stop leaves no goroutine behind and that a runtime
// started again on the same cluster adopts its pools, node addresses and pod IPs.
func TestStopAndRestart(t *testing.T) {
	c := newCluster(t, "restart")
	ctx := t.Context()

	first, err := Start(ctx, c.config, Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	pool := poolD3
	if err := first.SetPool(ctx, pool); err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t, c.client, "keep")
	create(t, c.client.AppsV1().Deployments(ns).Create, deploymentOf("app", 3, nil))
	create(t, c.client.CoreV1().Services(ns).Create, loadBalancerService("app", nil))
	podsBefore := runningPods(t, c.client, ns, "app=app", 3)
	lbBefore := loadBalancerIP(t, c.client, ns, "app")
	nodesBefore := listNodes(t, c.client)

	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := first.Stop(stopCtx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := first.Stop(stopCtx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := first.SetPool(ctx, pool); err != ErrStopped {
		t.Errorf("SetPool after Stop = %v, want ErrStopped", err)
	}

	// The apiserver starts watch caches and etcd watches on first use of a resource and
	// keeps them; after the first runtime, it has them all (the garbage collector watches
	// every resource). Goroutines are counted once their number has settled.
	settledGoroutines()
	goroutinesBefore, creatorsBefore := runtime.NumGoroutine(), goroutinesByCreator()
	clientSideBefore := clientSide(creatorsBefore)

	second, err := Start(ctx, c.config, Options{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	c.runtime = second
	if got := second.Pools(); len(got) != 1 || !reflect.DeepEqual(got[0], pool) {
		t.Errorf("Pools() after restart = %+v, want %+v", got, pool)
	}
	// A new pod gets an address of its own, not one of the pods from before.
	create(t, c.client.CoreV1().Pods(ns).Create, podOf("newcomer", v1.ResourceRequirements{}))
	var newcomer *v1.Pod
	testutil.WaitFor(t, 30*time.Second, "new pod running", func() (bool, string) {
		newcomer, err = c.client.CoreV1().Pods(ns).Get(ctx, "newcomer", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return newcomer.Status.Phase == v1.PodRunning, string(newcomer.Status.Phase)
	})
	for _, p := range podsBefore {
		if p.Status.PodIP == newcomer.Status.PodIP {
			t.Errorf("new pod got %s, the address of %s", newcomer.Status.PodIP, p.Name)
		}
	}
	// Nodes keep their addresses, the Service its load balancer; a second Service gets
	// another address.
	if err := second.SetPool(ctx, pool); err != nil {
		t.Fatal(err)
	}
	nodesAfter := listNodes(t, c.client)
	for i := range nodesBefore {
		b, a := nodesBefore[i], nodesAfter[i]
		if b.UID != a.UID || b.Spec.PodCIDR != a.Spec.PodCIDR || !slices.Equal(b.Status.Addresses, a.Status.Addresses) {
			t.Errorf("node %s changed across the restart: %v %s -> %v %s", b.Name, b.Status.Addresses, b.Spec.PodCIDR, a.Status.Addresses, a.Spec.PodCIDR)
		}
	}
	if ip := loadBalancerIP(t, c.client, ns, "app"); ip != lbBefore {
		t.Errorf("load balancer address changed across the restart: %s -> %s", lbBefore, ip)
	}
	create(t, c.client.CoreV1().Services(ns).Create, loadBalancerService("other", nil))
	if ip := loadBalancerIP(t, c.client, ns, "other"); ip == lbBefore {
		t.Errorf("second service got the address of the first, %s", ip)
	}

	running, clientSideRunning := runtime.NumGoroutine(), clientSide(goroutinesByCreator())
	stopStart := time.Now()
	if err := second.Stop(stopCtx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("goroutines in the process: %d before Start (%d outside apiservers and etcd), %d while running (%d); Stop took %v",
		goroutinesBefore, clientSideBefore, running, clientSideRunning, time.Since(stopStart).Round(time.Millisecond))
	if leftover := leftoverGoroutines(creatorsBefore); leftover != "" {
		t.Errorf("goroutines left after Stop: %s", leftover)
	}
}

// TestPoolKeepsItsNodes: a pool that lost a middle node keeps the others across a restart
// of the runtime, and a shrink takes a cordoned node (a drain that a restart interrupted)
// before the highest index.
func TestPoolKeepsItsNodes(t *testing.T) {
	c := newRuntimeCluster(t, "pool-holes", Options{Logger: testLogger()}, poolD3)
	ctx, pool := t.Context(), poolD3
	names := nodeNames(t, c.client, pool.Name)
	pool.Count = 2
	if err := c.runtime.nodes.setPool(ctx, pool, false, names[1]); err != nil {
		t.Fatal(err)
	}
	if err := c.runtime.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.startRuntime(ctx, Options{Logger: testLogger()}); err != nil {
		t.Fatal(err)
	}
	if got := c.runtime.Pools(); len(got) != 1 || got[0].Count != 2 {
		t.Errorf("Pools() after restart = %+v, want one pool of 2 nodes", got)
	}
	if err := c.runtime.SetPool(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if got, want := nodeNames(t, c.client, pool.Name), []string{names[0], names[2]}; !slices.Equal(got, want) {
		t.Errorf("nodes after restart %v, want %v", got, want)
	}

	cordonByHand(t, c, names[0])
	pool.Count = 1
	if err := c.runtime.SetPool(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if got, want := nodeNames(t, c.client, pool.Name), []string{names[2]}; !slices.Equal(got, want) {
		t.Errorf("nodes after a shrink with %s cordoned: %v, want %v", names[0], got, want)
	}
}

// goroutinesByCreator counts the goroutines of the process by the function that started
// them.
func goroutinesByCreator() map[string]int {
	buf := make([]byte, 16<<20)
	buf = buf[:runtime.Stack(buf, true)]
	counts := map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		creator := "(unknown)"
		if i := strings.Index(g, "created by "); i >= 0 {
			creator = g[i+len("created by "):]
			if j := strings.IndexAny(creator, " \n"); j >= 0 {
				creator = creator[:j]
			}
		}
		counts[creator]++
	}
	return counts
}

// serverSide are the packages whose goroutines belong to the apiservers and etcd of the
// test binary. They come and go with the work of every cluster of the process (watch
// caches, etcd watches, timers), so their count says nothing about the runtime.
var serverSide = []string{
	"k8s.io/apiserver/", "k8s.io/kube-aggregator/", "k8s.io/apiextensions-apiserver/",
	"k8s.io/kubernetes/pkg/controlplane", "k8s.io/kubernetes/pkg/registry", "go.etcd.io/", "google.golang.org/grpc",
}

// leftoverGoroutines waits up to 10s for goroutines on their way out and describes those
// that outnumber creatorsBefore, by creator, leaving out the server side; "" when there
// are none.
func leftoverGoroutines(creatorsBefore map[string]int) string {
	state, ok := testutil.Poll(context.Background(), 10*time.Second, func() (bool, string) {
		var extra []string
		for creator, n := range goroutinesByCreator() {
			if slices.ContainsFunc(serverSide, func(p string) bool { return strings.HasPrefix(creator, p) }) {
				continue
			}
			if d := n - creatorsBefore[creator]; d > 0 {
				extra = append(extra, fmt.Sprintf("  %+4d %s", d, creator))
			}
		}
		sort.Strings(extra)
		return len(extra) == 0, strings.Join(extra, "\n")
	})
	if ok {
		return ""
	}
	return "more goroutines created by:\n" + state
}

// settledGoroutines waits up to 10s for the number of goroutines to stay the same over
// five looks, half a second.
func settledGoroutines() {
	last, same := -1, 0
	testutil.Poll(context.Background(), 10*time.Second, func() (bool, string) {
		if n := runtime.NumGoroutine(); n == last {
			same++
		} else {
			last, same = n, 0
		}
		return same >= 4, ""
	})
}

// clientSide counts the goroutines that do not belong to apiservers or etcd.
func clientSide(byCreator map[string]int) int {
	n := 0
	for creator, count := range byCreator {
		if !slices.ContainsFunc(serverSide, func(p string) bool { return strings.HasPrefix(creator, p) }) {
			n += count
		}
	}
	return n
}

// TestLeasesRenewedOnClock checks that node Leases and heartbeats follow the clock.
func TestLeasesRenewedOnClock(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	pool := poolD3
	pool.Count = 1
	c := newRuntimeCluster(t, "clock", Options{Logger: testLogger(), Clock: clk, LeaseRenewInterval: 10 * time.Second, NodeStatusInterval: 30 * time.Second}, pool)
	ctx := t.Context()
	name := nodeName(pool.Name, poolID(mustClusterUID(t, c.client), pool.Name), 0)

	renewedAt := func(want time.Time) {
		t.Helper()
		testutil.WaitFor(t, 30*time.Second, "lease renewed at "+want.String(), func() (bool, string) {
			l, err := c.client.CoordinationV1().Leases(v1.NamespaceNodeLease).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return l.Spec.RenewTime != nil && l.Spec.RenewTime.Time.Equal(want), fmt.Sprintf("renewTime %v", l.Spec.RenewTime)
		})
	}
	heartbeat := func() time.Time {
		n, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		hb, _ := readyHeartbeat(n)
		return hb
	}
	start := clk.Now()
	renewedAt(start)
	for i := 1; i <= 3; i++ {
		testutil.WaitFor(t, 10*time.Second, "lease ticker armed", func() (bool, string) { return clk.HasWaiters(), "" })
		clk.Step(10 * time.Second)
		renewedAt(start.Add(time.Duration(i) * 10 * time.Second))
		// The heartbeat of the conditions is rewritten every 30s only.
		if hb, want := heartbeat(), start.Add(time.Duration(i/3)*30*time.Second); !hb.Equal(want) {
			t.Errorf("after %ds: heartbeat %v, want %v", i*10, hb, want)
		}
	}
}

// BenchmarkFootprint reports what one more cluster costs: the memory of an apiserver with
// its runtime, and the time until three nodes are Ready and three replicas Running. It is
// a benchmark (go test -run '^$' -bench Footprint -benchtime 1x), so that it starts its
// extra apiserver only when asked.
func BenchmarkFootprint(b *testing.B) {
	for i := range b.N {
		footprint(b, fmt.Sprintf("footprint-%d", i))
	}
}

func footprint(b *testing.B, id string) {
	sharedCluster(b) // so that what every first apiserver loads once is not counted here
	time.Sleep(2 * time.Second)
	cpuBefore := idleCPU(5 * time.Second)
	goroutinesBefore := runtime.NumGoroutine()
	before := procstat.SettledRSS()
	start := time.Now()
	c := newCluster(b, id)
	serverUp := time.Since(start)
	withServer := procstat.SettledRSS()

	start = time.Now()
	rt, err := Start(b.Context(), c.config, Options{Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	c.runtime = rt
	runtimeUp := time.Since(start)
	start = time.Now()
	if err := rt.SetPool(b.Context(), poolD3); err != nil {
		b.Fatal(err)
	}
	testutil.WaitFor(b, 30*time.Second, "3 nodes Ready", func() (bool, string) {
		nodes, err := c.client.CoreV1().Nodes().List(b.Context(), metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		ready := 0
		for _, n := range nodes.Items {
			if kube.NodeReady(&n) && len(n.Spec.Taints) == 0 {
				ready++
			}
		}
		return ready == 3, fmt.Sprintf("%d ready", ready)
	})
	nodesReady := time.Since(start)

	ns := newNamespace(b, c.client, "load")
	d := deploymentOf("app", 3, v1.ResourceList{v1.ResourceCPU: resource.MustParse("100m")})
	start = time.Now()
	if _, err := c.client.AppsV1().Deployments(ns).Create(b.Context(), d, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	runningPods(b, c.client, ns, "app=app", 3)
	podsRunning := time.Since(start)
	// Give the garbage collector's monitors time to start, then measure.
	time.Sleep(3 * time.Second)
	withRuntime := procstat.SettledRSS()
	goroutines := runtime.NumGoroutine() - goroutinesBefore
	cpuAfter := idleCPU(5 * time.Second)

	b.Logf("apiserver: ready in %v, RSS +%s", serverUp.Round(time.Millisecond), testutil.MiB(withServer-before))
	b.Logf("runtime: started in %v, 3 nodes Ready %v after SetPool, 3 replicas Running %v after create",
		runtimeUp.Round(time.Millisecond), nodesReady.Round(time.Millisecond), podsRunning.Round(time.Millisecond))
	b.Logf("runtime: RSS +%s; apiserver and runtime together +%s (process now %s, %d goroutines)",
		testutil.MiB(withRuntime-withServer), testutil.MiB(withRuntime-before), testutil.MiB(withRuntime), runtime.NumGoroutine())
	b.Logf("idle cluster: +%d goroutines, idle CPU +%.2f %% of a core (process %.2f %% -> %.2f %%)",
		goroutines, 100*(cpuAfter-cpuBefore), 100*cpuBefore, 100*cpuAfter)
	b.ReportMetric(float64(withRuntime-before)/(1<<20), "MiB/cluster")
	b.ReportMetric(float64(goroutines), "goroutines/cluster")
	b.ReportMetric(100*(cpuAfter-cpuBefore), "%core-idle/cluster")
	b.ReportMetric(nodesReady.Seconds(), "s/3-nodes-ready")
}

// idleCPU returns the process's CPU use over d, in cores (1 = one core busy).
func idleCPU(d time.Duration) float64 {
	var before, after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &before); err != nil {
		return 0
	}
	time.Sleep(d)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil {
		return 0
	}
	used := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	return used.Seconds() / d.Seconds()
}
