package kubeapiserver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlfleet/mlfleet/internal/procstat"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
)

// kineDSN returns a DSN of MLFLEET_TEST_POSTGRES in a fresh schema of its own, dropped when
// tb ends, or skips tb when the variable is not set.
func kineDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("MLFLEET_TEST_POSTGRES")
	if dsn == "" {
		tb.Skip("MLFLEET_TEST_POSTGRES is not set")
	}
	return storetest.Schema(tb, dsn)
}

func startKine(tb testing.TB, dsn, dir string) *Kine {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	k, err := StartKine(ctx, dsn, dir)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// testKine starts a kine on a fresh schema (kineDSN) in a new temporary directory, closed
// when tb ends, and returns it with that directory, for the data of the servers on it.
func testKine(tb testing.TB) (*Kine, string) {
	tb.Helper()
	dsn := kineDSN(tb)
	root := tb.TempDir()
	k := startKine(tb, dsn, filepath.Join(root, "kine"))
	tb.Cleanup(func() { k.Close(context.Background()) })
	return k, root
}

// TestKineWholeProcessRestart is TestWholeProcessRestart on kine: the cluster's objects live
// in PostgreSQL only, so the second kine starts in a new, empty directory (as another
// replica's would) and the apiserver finds every object, the same kube-system namespace
// included, and the old kubeconfig still works.
func TestKineWholeProcessRestart(t *testing.T) {
	dsn := kineDSN(t)
	root := t.TempDir()
	wholeProcessRestart(t, "kine-restart", func(n int) objectStore {
		return startKine(t, dsn, filepath.Join(root, fmt.Sprintf("kine%d", n)))
	})
}

// TestKineClustersAreIsolated: two clusters on one kine see only their own objects.
func TestKineClustersAreIsolated(t *testing.T) {
	k, root := testKine(t)
	ctx := context.Background()
	a := startServer(t, Config{ID: "kine-a", DataDir: filepath.Join(root, "a"), EtcdEndpoints: k.Endpoints()})
	b := startServer(t, Config{ID: "kine-b", DataDir: filepath.Join(root, "b"), EtcdEndpoints: k.Endpoints()})
	ca, cb := clientFor(t, a.AdminKubeconfig()), clientFor(t, b.AdminKubeconfig())
	if _, err := ca.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "only-in-a"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cb.CoreV1().ConfigMaps("default").Get(ctx, "only-in-a", metav1.GetOptions{}); err == nil {
		t.Error("cluster b sees cluster a's ConfigMap")
	}
	if _, err := ca.CoreV1().ConfigMaps("default").Get(ctx, "only-in-a", metav1.GetOptions{}); err != nil {
		t.Errorf("cluster a does not see its own ConfigMap: %v", err)
	}
}

func TestStartKineRejectsBadConfig(t *testing.T) {
	ctx := context.Background()
	if _, err := StartKine(ctx, "postgres://x/y", ""); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("StartKine without a directory = %v, want ErrInvalidConfig", err)
	}
	if _, err := StartKine(ctx, "sqlite:///tmp/x.db", t.TempDir()); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("StartKine on sqlite = %v, want ErrInvalidConfig", err)
	}
}

// BenchmarkKineVsEtcd starts one cluster on the embedded etcd and one on kine/PostgreSQL,
// writes 1,000 ConfigMaps into each and lists them, and prints the times and their ratio
// (go test -run '^$' -bench KineVsEtcd -benchtime 1x).
func BenchmarkKineVsEtcd(b *testing.B) {
	k, root := testKine(b)
	const objects = 1000
	for b.Loop() {
		id := benchSeq.Add(1)
		type figures struct{ start, create, list time.Duration }
		run := func(name string, endpoints []string) figures {
			var f figures
			t0 := time.Now()
			s := startServer(b, Config{ID: fmt.Sprintf("kvse-%s-%d", name, id), DataDir: filepath.Join(root, fmt.Sprintf("%s-%d", name, id)), EtcdEndpoints: endpoints})
			f.start = time.Since(t0)
			client := benchClient(b, s.AdminKubeconfig())
			ctx := context.Background()
			t0 = time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, objects)
			sem := make(chan struct{}, 16)
			for i := range objects {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer wg.Done()
					defer func() { <-sem }()
					cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%04d", i)}, Data: map[string]string{"i": fmt.Sprint(i)}}
					if _, err := client.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			f.create = time.Since(t0)
			const lists = 5
			t0 = time.Now()
			for range lists {
				l, err := client.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if len(l.Items) < objects {
					b.Fatalf("list of %s has %d items, want %d or more", name, len(l.Items), objects)
				}
			}
			f.list = time.Since(t0) / lists
			return f
		}
		e := run("etcd", testEtcd.Endpoints())
		kf := run("kine", k.Endpoints())
		b.Logf("cluster start:          etcd %v, kine %v, kine/etcd %.2f", e.start.Round(time.Millisecond), kf.start.Round(time.Millisecond), ratio(kf.start, e.start))
		b.Logf("1,000 creates (16 at once): etcd %v, kine %v, kine/etcd %.2f", e.create.Round(time.Millisecond), kf.create.Round(time.Millisecond), ratio(kf.create, e.create))
		b.Logf("list of 1,000 objects:  etcd %v, kine %v, kine/etcd %.2f", e.list.Round(time.Millisecond), kf.list.Round(time.Millisecond), ratio(kf.list, e.list))
		b.ReportMetric(ratio(kf.start, e.start), "start-kine/etcd")
		b.ReportMetric(ratio(kf.list, e.list), "list1000-kine/etcd")
	}
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func benchClient(b *testing.B, kubeconfig []byte) *kubernetes.Clientset {
	b.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 1000, 1000
	cfg.Timeout = 30 * time.Second
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return client
}

// BenchmarkRSSPerClusterKineVsEtcd starts three clusters on the embedded etcd, then three
// on kine/PostgreSQL, and prints the settled RSS each adds to the process, per cluster
// (go test -run '^$' -bench RSSPerClusterKineVsEtcd -benchtime 1x). The etcd and kine
// themselves are started before the first measurement.
func BenchmarkRSSPerClusterKineVsEtcd(b *testing.B) {
	k, root := testKine(b)
	const clusters = 3
	for b.Loop() {
		id := benchSeq.Add(1)
		perCluster := func(name string, endpoints []string) float64 {
			before := procstat.SettledRSS()
			for i := range clusters {
				s := startServer(b, Config{ID: fmt.Sprintf("rss-%s-%d-%d", name, id, i), DataDir: filepath.Join(root, fmt.Sprintf("rss-%s-%d-%d", name, id, i)), EtcdEndpoints: endpoints})
				if _, err := benchClient(b, s.AdminKubeconfig()).CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			return float64(procstat.SettledRSS()-before) / clusters / (1 << 20)
		}
		e := perCluster("etcd", testEtcd.Endpoints())
		kf := perCluster("kine", k.Endpoints())
		b.Logf("RSS per hosted cluster: etcd %.0f MiB, kine %.0f MiB, kine/etcd %.2f", e, kf, kf/e)
		b.ReportMetric(e, "MiB/cluster-etcd")
		b.ReportMetric(kf, "MiB/cluster-kine")
	}
}
