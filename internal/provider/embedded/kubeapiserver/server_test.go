package kubeapiserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/procstat"
	"github.com/mlfleet/mlfleet/internal/testutil"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func TestVersionIsTheCompiledKubernetes(t *testing.T) {
	a, _ := sharedServers(t)

	// What the module resolves k8s.io/kubernetes to, asked independently of the code under
	// test (test binaries carry no dependency build information).
	out, err := exec.Command("go", "list", "-m", "-f", "{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}", "k8s.io/kubernetes").Output()
	if err != nil {
		t.Fatalf("go list -m k8s.io/kubernetes: %v", err)
	}
	want := strings.TrimSpace(string(out))

	got, err := clientFor(t, a.AdminKubeconfig()).Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("GET /version: %v", err)
	}
	t.Logf("GET /version: gitVersion=%s major=%s minor=%s emulation=%s.%s goVersion=%s",
		got.GitVersion, got.Major, got.Minor, got.EmulationMajor, got.EmulationMinor, got.GoVersion)
	if got.GitVersion != want {
		t.Errorf("gitVersion = %q, want %q (k8s.io/kubernetes in the build)", got.GitVersion, want)
	}
	// v1.37.2 -> major "1", minor "37".
	parts := strings.SplitN(strings.TrimPrefix(want, "v"), ".", 3)
	if got.Major != parts[0] || got.Minor != parts[1] {
		t.Errorf("major.minor = %s.%s, want %s.%s", got.Major, got.Minor, parts[0], parts[1])
	}
	if v, err := KubernetesVersion(); err != nil || v != want {
		t.Errorf("KubernetesVersion() = %q, %v; want %q", v, err, want)
	}
}

func TestClustersSharingEtcdAreIsolated(t *testing.T) {
	a, b := sharedServers(t)
	ctx := context.Background()
	clientA, clientB := clientFor(t, a.AdminKubeconfig()), clientFor(t, b.AdminKubeconfig())

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "only-in-a"}, Data: map[string]string{"k": "v"}}
	if _, err := clientA.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ConfigMap in A: %v", err)
	}
	t.Cleanup(func() { clientA.CoreV1().ConfigMaps("default").Delete(ctx, cm.Name, metav1.DeleteOptions{}) })
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-in-b"}}
	if _, err := clientB.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Node in B: %v", err)
	}
	t.Cleanup(func() { clientB.CoreV1().Nodes().Delete(ctx, node.Name, metav1.DeleteOptions{}) })

	if _, err := clientB.CoreV1().ConfigMaps("default").Get(ctx, cm.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("B sees A's ConfigMap: err = %v", err)
	}
	if _, err := clientA.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("A sees B's Node: err = %v", err)
	}
	sysA, err := clientA.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sysB, err := clientB.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sysA.UID == sysB.UID {
		t.Errorf("both clusters have kube-system UID %s; spec S11 needs them distinct", sysA.UID)
	}
	if bytes.Equal(a.CACertificate(), b.CACertificate()) || a.URL() == b.URL() {
		t.Errorf("clusters share a CA or a URL: %s, %s", a.URL(), b.URL())
	}
	// A's credentials are worthless against B.
	crossed := clientcmdWithServer(t, a.AdminKubeconfig(), b.URL())
	if _, err := crossed.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err == nil {
		t.Error("A's admin kubeconfig works against B")
	}
}

// clientcmdWithServer returns a client for kubeconfig pointed at another server URL.
func clientcmdWithServer(t *testing.T, kubeconfig []byte, server string) *kubernetes.Clientset {
	t.Helper()
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = server
	}
	out, err := clientcmd.Write(*cfg)
	if err != nil {
		t.Fatal(err)
	}
	return clientFor(t, out)
}

func TestKubeconfigsAreValid(t *testing.T) {
	a, _ := sharedServers(t)
	for name, kc := range map[string][]byte{"admin": a.AdminKubeconfig(), "user": a.UserKubeconfig()} {
		cfg, err := clientcmd.Load(kc)
		if err != nil {
			t.Fatalf("%s kubeconfig: %v", name, err)
		}
		if err := clientcmd.Validate(*cfg); err != nil {
			t.Errorf("%s kubeconfig does not validate: %v", name, err)
		}
		if got := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].Server; got != a.URL() {
			t.Errorf("%s kubeconfig server = %s, want %s", name, got, a.URL())
		}
	}
}

func TestUserIsLimitedAdminIsNot(t *testing.T) {
	a, _ := sharedServers(t)
	ctx := context.Background()
	user, admin := clientFor(t, a.UserKubeconfig()), clientFor(t, a.AdminKubeconfig())

	if _, err := user.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("user lists pods in default: %v", err)
	}
	if _, err := user.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("user lists pods in kube-system (view): %v", err)
	}
	if _, err := user.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("user lists nodes (kubectl get nodes, as in AKS's quickstart): %v", err)
	}
	if err := user.CoreV1().Nodes().Delete(ctx, "any", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("user deletes a node: err = %v, want Forbidden", err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "user-made"}}
	if _, err := user.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Errorf("user creates a ConfigMap in default (edit): %v", err)
	} else {
		t.Cleanup(func() { admin.CoreV1().ConfigMaps("default").Delete(ctx, cm.Name, metav1.DeleteOptions{}) })
	}
	if _, err := user.CoreV1().ConfigMaps("kube-public").Create(ctx, cm, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("user creates a ConfigMap in kube-public: err = %v, want Forbidden", err)
	}
	if _, err := user.CoreV1().Secrets("kube-system").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("user lists secrets in kube-system: err = %v, want Forbidden", err)
	}

	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "test-escalation"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: userName}},
	}
	if _, err := user.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("user creates a ClusterRoleBinding: err = %v, want Forbidden", err)
	}
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Errorf("admin creates a ClusterRoleBinding: %v", err)
	} else if err := admin.RbacV1().ClusterRoleBindings().Delete(ctx, crb.Name, metav1.DeleteOptions{}); err != nil {
		t.Errorf("admin deletes the ClusterRoleBinding: %v", err)
	}
}

func TestAuthorizedIPRangesAreEnforcedOnTheListener(t *testing.T) {
	// Started with ranges that exclude loopback: the server must still get ready (its own
	// loopback traffic is not filtered) while clients on 127.0.0.1 are turned away.
	cfg := testConfig("ranges")
	cfg.AuthorizedIPRanges = []string{"203.0.113.0/24", "2001:db8::/32"}
	s := startServer(t, cfg)
	ctx := context.Background()
	admin := clientFor(t, s.AdminKubeconfig())
	// client-go retries reset connections until its timeout; keep refusals quick.
	refused := clientWithTimeout(t, s.AdminKubeconfig(), time.Second)

	if s.AcceptsSource(netip.MustParseAddr("127.0.0.1")) {
		t.Error("AcceptsSource(127.0.0.1) = true with ranges 203.0.113.0/24, 2001:db8::/32")
	}
	if !s.AcceptsSource(netip.MustParseAddr("203.0.113.9")) || !s.AcceptsSource(netip.MustParseAddr("::ffff:203.0.113.9")) {
		t.Error("AcceptsSource(203.0.113.9) = false")
	}
	if _, err := refused.Discovery().ServerVersion(); err == nil {
		t.Fatal("GET /version from 127.0.0.1 succeeded outside the authorized ranges")
	} else {
		t.Logf("refused as expected: %v", err)
	}
	expectConnectionClosed(t, s.URL())
	// The in-cluster path (the cluster's own nodes and controllers) is never filtered.
	inCluster, err := kubernetes.NewForConfig(s.InClusterConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inCluster.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("list namespaces over InClusterConfig outside the ranges: %v", err)
	}

	if err := s.SetAuthorizedIPRanges([]string{"203.0.113.0/24", "127.0.0.1/32"}); err != nil {
		t.Fatal(err)
	}
	if !s.AcceptsSource(netip.MustParseAddr("127.0.0.1")) {
		t.Error("AcceptsSource(127.0.0.1) = false after allowing 127.0.0.1/32")
	}
	if _, err := refused.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list namespaces after allowing 127.0.0.1/32: %v", err)
	}

	// Taking the permission back cuts the keep-alive connection the client now holds.
	if err := s.SetAuthorizedIPRanges([]string{"10.1.2.3"}); err != nil {
		t.Fatal(err)
	}
	// client-go retries a reset GET ten times, each attempt bounded by the client timeout.
	quick, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := refused.CoreV1().Namespaces().List(quick, metav1.ListOptions{}); err == nil {
		t.Error("list namespaces succeeded after 127.0.0.1 was removed from the ranges")
	}

	if err := s.SetAuthorizedIPRanges([]string{"not-an-ip"}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("SetAuthorizedIPRanges(not-an-ip) = %v, want ErrInvalidConfig", err)
	}
	if err := s.SetAuthorizedIPRanges(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Discovery().ServerVersion(); err != nil {
		t.Errorf("GET /version with no ranges: %v", err)
	}
}

// expectConnectionClosed dials the server's port and checks the server closes the connection
// without answering (EOF or reset), rather than leaving it hanging.
func expectConnectionClosed(t *testing.T, serverURL string) {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Logf("dial refused: %v", err)
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	conn.Write([]byte("\x16\x03\x01")) // the start of a TLS ClientHello
	_, err = conn.Read(make([]byte, 1))
	var netErr net.Error
	switch {
	case err == nil:
		t.Error("server answered a connection from outside the authorized ranges")
	case errors.As(err, &netErr) && netErr.Timeout():
		t.Error("connection from outside the authorized ranges left open")
	case errors.Is(err, io.EOF) || strings.Contains(err.Error(), "reset"):
		t.Logf("raw connection closed by the server: %v", err)
	default:
		t.Errorf("unexpected read error: %v", err)
	}
}

func TestRestartKeepsObjectsAndCredentials(t *testing.T) {
	cfg := testConfig("restart")
	ctx := context.Background()
	goroutinesBefore := runtime.NumGoroutine()

	first, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	oldAdmin, oldURL, oldCA := first.AdminKubeconfig(), first.URL(), first.CACertificate()
	client := clientFor(t, oldAdmin)
	mark := markBeforeRestart(t, client, "survivor")

	stopStart := time.Now()
	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := first.Stop(stopCtx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %v", time.Since(stopStart))
	if err := first.Stop(stopCtx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := client.CoreV1().ConfigMaps("default").Get(ctx, mark.configMap, metav1.GetOptions{}); err == nil {
		t.Error("stopped server still answers")
	}
	reportLeftoverGoroutines(t, goroutinesBefore)

	second := startServer(t, cfg)
	if second.URL() != oldURL {
		t.Errorf("URL changed across restart: %s -> %s", oldURL, second.URL())
	}
	if !bytes.Equal(second.CACertificate(), oldCA) {
		t.Error("CA changed across restart")
	}
	mark.check(t, oldAdmin, second.AdminKubeconfig())
}

// restartMark is what a restart test writes into a cluster before the restart, to find it
// again after: a ConfigMap in default, and the UID of kube-system.
type restartMark struct {
	configMap  string
	kubeSystem types.UID
}

// markBeforeRestart creates the ConfigMap default/name, with data k=v, through client and
// notes the UID of kube-system.
func markBeforeRestart(t *testing.T, client kubernetes.Interface, name string) restartMark {
	t.Helper()
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"k": "v"}}
	if _, err := client.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	sys, err := client.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return restartMark{configMap: name, kubeSystem: sys.UID}
}

// check checks, after the restart, that oldAdmin (the kubeconfig handed out before it)
// still reads the ConfigMap and its data, and that newAdmin sees the same kube-system.
func (m restartMark) check(t *testing.T, oldAdmin, newAdmin []byte) {
	t.Helper()
	ctx := context.Background()
	got, err := clientFor(t, oldAdmin).CoreV1().ConfigMaps("default").Get(ctx, m.configMap, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ConfigMap after restart: %v", err)
	}
	if got.Data["k"] != "v" {
		t.Errorf("ConfigMap data after restart = %v", got.Data)
	}
	sys, err := clientFor(t, newAdmin).CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sys.UID != m.kubeSystem {
		t.Errorf("kube-system UID changed across restart: %s -> %s", m.kubeSystem, sys.UID)
	}
}

// reportLeftoverGoroutines logs the goroutines that outlive a stopped server, grouped by
// the function they were started by. Other servers of the test binary are idle meanwhile,
// so the difference is this server's.
func reportLeftoverGoroutines(t *testing.T, before int) {
	t.Helper()
	// Give goroutines that are on their way out (timers, closing connections) a moment.
	testutil.Poll(t.Context(), 5*time.Second, func() (bool, string) { return runtime.NumGoroutine() <= before, "" })
	after := runtime.NumGoroutine()
	t.Logf("goroutines: %d before Start, %d after Stop", before, after)
	if after <= before {
		return
	}
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	counts := map[string]int{}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if i := strings.Index(g, "created by "); i >= 0 {
			line := g[i+len("created by "):]
			if j := strings.IndexAny(line, " \n"); j >= 0 {
				line = line[:j]
			}
			counts[line]++
		}
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return counts[names[i]] > counts[names[j]] })
	for i, n := range names {
		if i == 15 {
			break
		}
		t.Logf("  %3d created by %s", counts[n], n)
	}
}

// BenchmarkStartupCost reports what starting etcd and apiservers costs, in time and RSS
// (go test -run '^$' -bench StartupCost -benchtime 1x): a benchmark, so that its two extra
// apiservers start only when asked.
func BenchmarkStartupCost(b *testing.B) {
	for i := range b.N {
		startupCost(b, i)
	}
}

func startupCost(b *testing.B, round int) {
	sharedServers(b)
	st := sharedTimings
	b.Logf("etcd ready after %v", st.etcd.Round(time.Millisecond))
	b.Logf("first apiserver: Start to ready %v, RSS %s -> %s (+%s)",
		st.first.Round(time.Millisecond), testutil.MiB(st.rssBefore), testutil.MiB(st.rssFirst), testutil.MiB(st.rssFirst-st.rssBefore))
	b.Logf("second apiserver: Start to ready %v, RSS +%s",
		st.second.Round(time.Millisecond), testutil.MiB(st.rssSecond-st.rssFirst))

	// Two more, measured one by one.
	for i, id := range []string{fmt.Sprintf("extra-%d-1", round), fmt.Sprintf("extra-%d-2", round)} {
		before := procstat.SettledRSS()
		start := time.Now()
		startServer(b, testConfig(id))
		took := time.Since(start)
		after := procstat.SettledRSS()
		b.Logf("extra apiserver %d: Start to ready %v, RSS +%s (now %s)", i+1, took.Round(time.Millisecond), testutil.MiB(after-before), testutil.MiB(after))
	}
}

func TestConcurrentStarts(t *testing.T) {
	// The provider starts clusters from concurrent operations; apiserver code has
	// process-wide state, so make sure parallel starts do not trip over it.
	ids := []string{"parallel-1", "parallel-2", "parallel-3"}
	servers := make([]*Server, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	start := time.Now()
	for i, id := range ids {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			servers[i], errs[i] = Start(ctx, testConfig(id))
		})
	}
	wg.Wait()
	t.Logf("%d servers started in parallel in %v", len(ids), time.Since(start).Round(time.Millisecond))
	for i, s := range servers {
		if errs[i] != nil {
			t.Errorf("Start(%s): %v", ids[i], errs[i])
			continue
		}
		t.Cleanup(func() { s.Stop(context.Background()) })
		if _, err := clientFor(t, s.UserKubeconfig()).CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{}); err != nil {
			t.Errorf("%s: user lists pods: %v", ids[i], err)
		}
	}
}

func TestSameClusterTwiceIsRefused(t *testing.T) {
	a, _ := sharedServers(t)
	if s, err := Start(context.Background(), testConfig("shared-a")); err == nil {
		s.Stop(context.Background())
		t.Fatal("a second server of the same cluster started")
	} else {
		t.Logf("refused: %v", err)
	}
	if _, err := clientFor(t, a.AdminKubeconfig()).Discovery().ServerVersion(); err != nil {
		t.Errorf("the running server suffered from the refused start: %v", err)
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	good := testConfig("bad-config")
	tests := []struct {
		name   string
		modify func(*Config)
	}{
		{"empty ID", func(c *Config) { c.ID = "" }},
		{"ID not a DNS label", func(c *Config) { c.ID = "Upper_case" }},
		{"no data dir", func(c *Config) { c.DataDir = "" }},
		{"no etcd", func(c *Config) { c.EtcdEndpoints = nil }},
		{"listen address without port", func(c *Config) { c.ListenAddress = "127.0.0.1" }},
		{"listen address with host name", func(c *Config) { c.ListenAddress = "localhost:0" }},
		{"bad service CIDR", func(c *Config) { c.ServiceCIDR = "10.0.0.0" }},
		{"bad authorized range", func(c *Config) { c.AuthorizedIPRanges = []string{"10.0.0.0/33"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.modify(&cfg)
			s, err := Start(context.Background(), cfg)
			if err == nil {
				s.Stop(context.Background())
				t.Fatal("Start succeeded")
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("Start: %v, want ErrInvalidConfig", err)
			}
		})
	}
}

func TestStartHonoursContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	cfg := testConfig("cancelled")
	s, err := Start(ctx, cfg)
	if err == nil {
		// A very fast machine may make it; that is fine too.
		s.Stop(context.Background())
		t.Skip("server got ready within 200ms")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Start: %v, want context.DeadlineExceeded", err)
	}
	// Nothing of it keeps running: the same cluster starts normally afterwards.
	startServer(t, cfg)
}

var benchSeq atomic.Int64

// BenchmarkServerStart reports what one more cluster costs: time from Start to ready and
// resident memory (spec N4). Run: go test -run '^$' -bench ServerStart -benchtime 3x
func TestStartFailsCleanlyWithoutEtcd(t *testing.T) {
	// An etcd endpoint nobody listens on: Start must fail on its context, quickly, and leave
	// nothing running.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	cfg := testConfig("no-etcd")
	cfg.EtcdEndpoints = []string{"http://" + deadAddr}

	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	s, err := Start(ctx, cfg)
	if err == nil {
		s.Stop(context.Background())
		t.Fatal("Start succeeded without etcd")
	}
	t.Logf("Start failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Start: %v, want context.DeadlineExceeded", err)
	}
	reportLeftoverGoroutines(t, before)

	// The same cluster starts once etcd is there.
	cfg.EtcdEndpoints = testEtcd.Endpoints()
	startServer(t, cfg)
}

func BenchmarkServerStart(b *testing.B) {
	var total, cpu time.Duration
	var rss int64
	for b.Loop() {
		before := procstat.SettledRSS()
		cpuBefore := processCPU()
		start := time.Now()
		s, err := Start(context.Background(), testConfig(fmt.Sprintf("bench-%d", benchSeq.Add(1))))
		if err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		cpu += processCPU() - cpuBefore
		rss += procstat.SettledRSS() - before
		b.Cleanup(func() { s.Stop(context.Background()) })
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-ready/server")
	b.ReportMetric(float64(rss)/float64(b.N)/(1<<20), "MiB-RSS/server")
	// CPU time of the process during a start (the server's, GC included, and whatever else
	// the process did meanwhile): unlike the time to ready, it hardly depends on how busy
	// the machine is.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "CPU-ms/server")
}

// processCPU returns the user and system CPU time the process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestWholeProcessRestart is what a restart of mlfleet does: etcd stops and comes back on
// other ports, and the cluster's apiserver starts again on the new endpoints with its data
// directory and prefix.
func TestWholeProcessRestart(t *testing.T) {
	etcdDir := filepath.Join(t.TempDir(), "etcd")
	wholeProcessRestart(t, "process-restart", func(int) objectStore {
		e, err := StartEtcd(context.Background(), etcdDir)
		if err != nil {
			t.Fatalf("start etcd on its data: %v", err)
		}
		return e
	})
}

// objectStore is where a cluster's apiserver keeps its objects: an Etcd or a Kine.
type objectStore interface {
	Endpoints() []string
	Close(ctx context.Context) error
}

// wholeProcessRestart starts cluster id on the store startStore(1) starts, stops both (the
// store's Close twice, the second a no-op), and starts the cluster again on startStore(2):
// it keeps its URL and its objects, and the kubeconfig handed out before still works.
func wholeProcessRestart(t *testing.T, id string, startStore func(n int) objectStore) {
	ctx := context.Background()
	store1 := startStore(1)
	cfg := Config{ID: id, DataDir: filepath.Join(t.TempDir(), "cluster"), EtcdEndpoints: store1.Endpoints()}
	s1, err := Start(ctx, cfg)
	if err != nil {
		store1.Close(ctx)
		t.Fatal(err)
	}
	admin, url := s1.AdminKubeconfig(), s1.URL()
	mark := markBeforeRestart(t, clientFor(t, admin), "before-restart")
	stopCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := s1.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if err := store1.Close(stopCtx); err != nil {
		t.Fatal(err)
	}
	if err := store1.Close(stopCtx); err != nil {
		t.Errorf("second Close: %v", err)
	}

	store2 := startStore(2)
	t.Cleanup(func() { store2.Close(context.Background()) })
	t.Logf("store endpoints %v, then %v", store1.Endpoints(), store2.Endpoints())
	cfg.EtcdEndpoints = store2.Endpoints()
	s2 := startServer(t, cfg)
	if s2.URL() != url {
		t.Errorf("URL changed across restart: %s -> %s", url, s2.URL())
	}
	mark.check(t, admin, s2.AdminKubeconfig())
}

func TestStartEtcdNeedsADirectory(t *testing.T) {
	if _, err := StartEtcd(context.Background(), ""); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("StartEtcd(\"\") = %v, want ErrInvalidConfig", err)
	}
}
