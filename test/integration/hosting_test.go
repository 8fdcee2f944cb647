package integration

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestHostingFailover runs two replicas on one PostgreSQL: a cluster created through A is
// hosted by A alone (its lease row names A, B does not run it) and reachable through B's
// front door with A's kubeconfig (B forwards to A behind a PROXY line); after kill -9 of A, B takes
// the lease over (token 2) once it lapses and serves the cluster with every object A's
// clients wrote (kept in kine), to the kubeconfig A handed out: the cluster's identity (CA,
// client certificates) is shared through the store.
func TestHostingFailover(t *testing.T) {
	dsn := os.Getenv("MLFLEET_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("MLFLEET_TEST_POSTGRES is not set")
	}
	t.Parallel()
	dsn = freshSchema(t, dsn)
	homeA, homeB := t.TempDir(), t.TempDir()
	pa, cfgA := startServerProcess(t, homeA, "127.0.0.1:0", "--store", dsn)
	pb, cfgB := startServerProcess(t, homeB, "127.0.0.1:0", "--store", dsn)
	idA, idB := readID(t, homeA), readID(t, homeB)
	ca, err := mlfleet.NewClient(mlfleet.WithHome(homeA))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := mlfleet.NewClient(mlfleet.WithHome(homeB))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ca.CreateResourceGroup(ctx, "ha-rg", "westus", nil); err != nil {
		t.Fatal(err)
	}
	createCluster(t, ca, "ha-rg", "ha", 1, "Standard_D2_v2", nil)
	admin, err := ca.ClusterCredentials(ctx, "ha-rg", "ha", true)
	if err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor"}, Data: map[string]string{"k": "v"}}
	if _, err := kubeClient(t, admin).CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lease := func() (holder string, token int64, err error) {
		err = db.QueryRowContext(ctx, `SELECT holder, token FROM cluster_leases`).Scan(&holder, &token)
		return
	}
	// The cluster went to one of the two (the least loaded, placement): call it the host,
	// and the other the survivor.
	host, _, err := lease()
	if err != nil || (host != idA && host != idB) {
		t.Fatalf("lease after create held by %q (%v), want %s or %s", host, err, idA, idB)
	}
	hostProc, survivor, cs := pa, idB, cb
	otherCfg := cfgB
	if host == idB {
		hostProc, survivor, cs, otherCfg = pb, idA, ca, cfgA
	}
	// The survivor does not run the cluster (its takeover loop sees a live lease), but its
	// front door passes the kubeconfig A handed out, pointed at it, to the host.
	viaOther := pointAt(t, admin, otherCfg.Server)
	eventually(t, 30*time.Second, "the cluster through the other replica's front door", func() error {
		_, err := kubeClient(t, viaOther).CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{})
		return err
	})
	time.Sleep(6 * time.Second)
	if h, tok, _ := lease(); h != host || tok != 1 {
		t.Fatalf("lease moved while its host was alive: %s/%d", h, tok)
	}

	if err := hostProc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-hostProc.done
	killed := time.Now()
	eventually(t, 60*time.Second, "the survivor holds the lease", func() error {
		if h, tok, err := lease(); err != nil || h != survivor || tok != 2 {
			return fmt.Errorf("lease %s/%d (%v)", h, tok, err)
		}
		return nil
	})
	var answered time.Duration
	eventually(t, 60*time.Second, "the cluster answers the same kubeconfig through the survivor with its objects", func() error {
		got, err := kubeClient(t, viaOther).CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got.Data["k"] != "v" {
			return fmt.Errorf("data %v", got.Data)
		}
		answered = time.Since(killed)
		return nil
	})
	t.Logf("failover: kill -9 of the host to the cluster answering through the other replica: %v", answered.Round(100*time.Millisecond))
	// The survivor hands out the same identity: its kubeconfig carries the CA and client
	// certificate A handed out.
	kc, err := cs.ClusterCredentials(ctx, "ha-rg", "ha", true)
	if err != nil {
		t.Fatal(err)
	}
	if !sameIdentity(t, kc, admin) {
		t.Error("the survivor's admin kubeconfig has another CA or client certificate than A's")
	}
}

// sameIdentity says whether two kubeconfigs trust the same CA with the same client
// certificate, whatever their servers.
func sameIdentity(t *testing.T, a, b []byte) bool {
	t.Helper()
	ca, err := clientcmd.Load(a)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := clientcmd.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range ca.Clusters {
		o := cb.Clusters[name]
		if o == nil || string(o.CertificateAuthorityData) != string(c.CertificateAuthorityData) || o.TLSServerName != c.TLSServerName {
			return false
		}
	}
	for name, u := range ca.AuthInfos {
		o := cb.AuthInfos[name]
		if o == nil || string(o.ClientCertificateData) != string(u.ClientCertificateData) {
			return false
		}
	}
	return true
}

// pointAt returns kubeconfig with every cluster's server set to server.
func pointAt(t *testing.T, kubeconfig []byte, server string) []byte {
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
	return out
}

func readID(t *testing.T, home string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(home, "replica.id"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestHostingFencing pauses the host (SIGSTOP) past its lease: the other replica takes the
// cluster over; when the first resumes (SIGCONT) it fences itself, and stops the cluster:
// afterwards one replica runs it, the one the lease names.
func TestHostingFencing(t *testing.T) {
	dsn := os.Getenv("MLFLEET_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("MLFLEET_TEST_POSTGRES is not set")
	}
	t.Parallel()
	dsn = freshSchema(t, dsn)
	homeA, homeB := t.TempDir(), t.TempDir()
	pa, _ := startServerProcess(t, homeA, "127.0.0.1:0", "--store", dsn, "--replica-heartbeat-interval", "1s")
	pb, _ := startServerProcess(t, homeB, "127.0.0.1:0", "--store", dsn, "--replica-heartbeat-interval", "1s")
	idA, idB := readID(t, homeA), readID(t, homeB)
	ca, err := mlfleet.NewClient(mlfleet.WithHome(homeA))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ca.CreateResourceGroup(ctx, "fence-rg", "westus", nil); err != nil {
		t.Fatal(err)
	}
	createCluster(t, ca, "fence-rg", "fenced", 1, "Standard_D2_v2", nil)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lease := func() (holder string, token int64) {
		_ = db.QueryRowContext(ctx, `SELECT holder, token FROM cluster_leases`).Scan(&holder, &token)
		return
	}
	// runners returns the replicas whose heartbeat lists a running cluster.
	runners := func() map[string]bool {
		out := map[string]bool{}
		rows, err := db.QueryContext(ctx, `SELECT id, clusters FROM replicas`)
		if err != nil {
			return out
		}
		defer rows.Close()
		for rows.Next() {
			var id, clusters string
			if rows.Scan(&id, &clusters) == nil && clusters != "[]" {
				out[id] = true
			}
		}
		return out
	}
	host, _ := lease()
	a, idB := pa, idB
	if host == idB {
		a, idB = pb, idA
	} else if host != idA {
		t.Fatalf("lease after create held by %q, want %s or %s", host, idA, idB)
	}
	if _, tok := lease(); tok != 1 {
		t.Fatalf("lease token after create = %d, want 1", tok)
	}

	// Pause the host (called A from here on) past its lease; the other (B) takes over.
	if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 60*time.Second, "B takes the lease from the paused A", func() error {
		if h, tok := lease(); h != idB || tok != 2 {
			return fmt.Errorf("lease %s/%d", h, tok)
		}
		return nil
	})
	if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "A fenced: only B runs the cluster", func() error {
		r := runners()
		if len(r) != 1 || !r[idB] {
			return fmt.Errorf("running on %v", r)
		}
		return nil
	})
	if !strings.Contains(a.logs.String(), "lost the hosting lease") {
		t.Error("A did not log that it lost the lease")
	}
	if h, tok := lease(); h != idB || tok != 2 {
		t.Errorf("lease after A resumed = %s/%d, want %s/2", h, tok, idB)
	}
}
