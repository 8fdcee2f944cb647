package integration

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestKineRestartKeepsClusters is TestRestartKeepsClusters on a PostgreSQL store, where the
// embedded clusters keep their objects in the database through kine: `mlfleet serve` is
// killed with SIGKILL and started again, and the old kubeconfig finds the cluster's objects.
// The objects are rows of kine's table, and no embedded etcd was started; deleting the
// cluster deletes them.
func TestKineRestartKeepsClusters(t *testing.T) {
	t.Parallel()
	dsn := replicaSchema(t)
	home := t.TempDir()
	p, cfg := startServerProcess(t, home, "127.0.0.1:0", "--store", dsn)
	port := serverPort(cfg)
	c := homeClient(t, home, "rg")
	ctx := context.Background()
	k := clusterWithSurvivor(t, c, "rg", "onkine")

	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	if _, err := k.Discovery().ServerVersion(); err == nil {
		t.Fatal("the cluster's API server still answers after mlfleet was killed")
	}

	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM kine WHERE name LIKE '/clusters/%/configmaps/default/survivor'`).Scan(&rows); err != nil {
		t.Fatalf("read kine's table: %v", err)
	}
	if rows == 0 {
		t.Error("the ConfigMap is not in kine's table")
	}
	if _, err := os.Stat(filepath.Join(home, "clusters", "etcd")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an embedded etcd directory exists on a PostgreSQL store: %v", err)
	}

	startServerProcess(t, home, "127.0.0.1:"+port, "--store", dsn)
	testutil.Eventually(t, 60*time.Second, "cluster back after restart", func() error {
		got, err := k.CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{})
		if err == nil && got.Data["k"] != "v" {
			return errors.New("ConfigMap data changed")
		}
		return err
	})
	testutil.Eventually(t, 30*time.Second, "node ready after restart", nodeCount(ctx, k, 1))

	// Deleting the cluster deletes its objects from kine's table (kine has no range delete,
	// so the provider deletes them one by one).
	poller, err := c.BeginDeleteManagedCluster(ctx, "rg", "onkine")
	finish(ctx, t, "delete managed cluster", poller, err)
	var live int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT DISTINCT ON (name) name, deleted FROM kine
		WHERE name LIKE '/clusters/%' ORDER BY name, id DESC) AS latest WHERE deleted = 0`).Scan(&live); err != nil {
		t.Fatal(err)
	}
	if live != 0 {
		t.Errorf("%d of the deleted cluster's keys are still live in kine's table", live)
	}
}
