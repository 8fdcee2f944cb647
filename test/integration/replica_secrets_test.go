package integration

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/testutil"
)

// TestReplicasShareSecrets (#13 item 4): two replicas on one PostgreSQL and one secret key
// share the CA, the token-signing key and the at-rest key: a token minted through one
// works on the other, both serve certificates of one CA and the same ID-token keys, and
// the sealed kubeconfig of a cluster registered through one opens through the other. A
// third replica with another key, or none, refuses to start and says why.
func TestReplicasShareSecrets(t *testing.T) {
	t.Parallel()
	dsn := replicaSchema(t)
	common := []string{"--store", dsn, "--lease-ttl", "2s"}
	homeA, homeB := t.TempDir(), t.TempDir()
	_, cfgA := startServerProcess(t, homeA, "127.0.0.1:0", common...)
	_, cfgB := startServerProcess(t, homeB, "127.0.0.1:0", common...)

	caA, errA := os.ReadFile(cfgA.CAFile)
	caB, errB := os.ReadFile(cfgB.CAFile)
	if errA != nil || errB != nil || !bytes.Equal(caA, caB) {
		t.Fatalf("the replicas trust different CAs (%v, %v)", errA, errB)
	}
	ctx := context.Background()
	ca := clientOf(t, homeA)
	tok, err := ca.MintToken(ctx, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// A's token, sent to B over a client that trusts only A's CA file.
	a := do(t, call{method: "GET", path: "/subscriptions?api-version=2022-12-01", token: strp(tok.AccessToken), base: cfgB.Server, client: httpClient(cfgA)})
	if a.status != 200 {
		t.Fatalf("replica B answers %d to a token minted on A: %s", a.status, a.raw)
	}
	keysA := do(t, call{method: "GET", path: "/adfs/discovery/keys", base: cfgA.Server, client: httpClient(cfgA)})
	keysB := do(t, call{method: "GET", path: "/adfs/discovery/keys", base: cfgB.Server, client: httpClient(cfgB)})
	if keysA.status != 200 || keysA.raw != keysB.raw {
		t.Fatalf("ID-token keys differ:\nA %d %s\nB %d %s", keysA.status, keysA.raw, keysB.status, keysB.raw)
	}

	// Register a cluster by its kubeconfig through A (a cluster of the shared test server):
	// the kubeconfig is sealed in the store. A replica started afterwards opens it when it
	// resumes the cluster, and serves its credentials.
	src := sdk(t)
	createGroup(t, src, "shared-secrets-rg", "westus")
	createCluster(t, src, "shared-secrets-rg", "source", 1, "Standard_D2_v2", nil)
	source, err := src.ClusterCredentials(ctx, "shared-secrets-rg", "source", true)
	if err != nil {
		t.Fatal(err)
	}
	createGroup(t, ca, "shared-secrets-rg", "westus")
	_, p, err := ca.BeginImportManagedCluster(ctx, "shared-secrets-rg", "registered", "westus", source, "")
	finish(ctx, t, "import", p, err)
	homeC := t.TempDir()
	startServerProcess(t, homeC, "127.0.0.1:0", common...)
	cc := clientOf(t, homeC)
	var viaC []byte
	testutil.Eventually(t, 30*time.Second, "credentials of the registered cluster through replica C", func() error {
		viaC, err = cc.ClusterCredentials(ctx, "shared-secrets-rg", "registered", true)
		return err
	})
	if _, err := kubeClient(t, viaC).Discovery().ServerVersion(); err != nil {
		t.Fatalf("the kubeconfig from replica C: %v", err)
	}
	if want, got := kubeServer(t, source), kubeServer(t, viaC); got != want {
		t.Fatalf("replica C's kubeconfig points at %s, the registered cluster is at %s", got, want)
	}
	if p, err := src.BeginDeleteManagedCluster(ctx, "shared-secrets-rg", "source"); err == nil {
		_, _ = p.Wait(ctx, nil)
	}

	// A replica with another key, and one with none, refuse to start.
	wrong := filepath.Join(t.TempDir(), "wrong.key")
	if err := os.WriteFile(wrong, []byte("not the key the other replicas were given"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := serveOnce(t, "--store", dsn, "--secret-key-file", wrong)
	if code == 0 || !strings.Contains(out, "does not match") {
		t.Fatalf("a replica with the wrong key: exit %d\n%s", code, out)
	}
	out, code = serveOnce(t, "--store", dsn)
	if code == 0 || !strings.Contains(out, "--secret-key-file") {
		t.Fatalf("a replica without a key: exit %d\n%s", code, out)
	}
}

// serveOnce runs `mlfleet serve` with a fresh home and no replica key in its environment,
// expecting it to exit within 30 s, and returns its output and exit code.
func serveOnce(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "MLFLEET_HOME="+t.TempDir(), secrets.ReplicaKeyEnv+"=")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("serve did not exit: %s", out)
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// kubeServer returns the API server URL of a kubeconfig's current context.
func kubeServer(t *testing.T, kubeconfig []byte) string {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Host
}
