package integration

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// TestFrontDoor (#13 item 3): every embedded cluster is reached through the control
// plane's own port, by its fqdn as TLS server name. Two clusters share the port, each
// answering as itself to kubectl and client-go with the kubeconfig `mlfleet aks
// get-credentials` wrote, and the control plane keeps answering on the same port.
func TestFrontDoor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := sdk(t)
	createGroup(t, c, "frontdoor-rg", "westus")
	// One DNS prefix for both: their fqdns still differ.
	sameDNSPrefix := func(in *mlfleet.ClusterInput) { in.Properties.DNSPrefix = "fd" }
	one := createCluster(t, c, "frontdoor-rg", "fd1", 1, "Standard_D2_v2", sameDNSPrefix)
	two := createCluster(t, c, "frontdoor-rg", "fd2", 2, "Standard_D2_v2", sameDNSPrefix)
	fqdn1, fqdn2 := deref(one.Properties.FQDN), deref(two.Properties.FQDN)
	if fqdn1 == "" || fqdn1 == fqdn2 {
		t.Fatalf("fqdns %q and %q: want two different names", fqdn1, fqdn2)
	}

	file := filepath.Join(t.TempDir(), "config")
	for _, name := range []string{"fd1", "fd2"} {
		mustCLI(t, "aks", "get-credentials", "-n", name, "-g", "frontdoor-rg", "--file", file, "--admin")
	}
	kc, err := clientcmd.LoadFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	contexts := map[string]string{} // cluster name -> context name
	for ctxName, kctx := range kc.Contexts {
		contexts[kctx.Cluster] = ctxName
	}
	for name, fqdn := range map[string]string{"fd1": fqdn1, "fd2": fqdn2} {
		cl := kc.Clusters[name]
		if cl == nil || contexts[name] == "" {
			t.Fatalf("kubeconfig has no cluster or context %s: %+v", name, kc.Contexts)
		}
		if cl.Server != shared.cfg.Server || cl.TLSServerName != fqdn {
			t.Errorf("kubeconfig of %s: server %s, tls-server-name %s; want %s and %s", name, cl.Server, cl.TLSServerName, shared.cfg.Server, fqdn)
		}
	}

	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatal("kubectl is not installed; .ci/run must install it")
	}
	for name, want := range map[string]int{"fd1": 1, "fd2": 2} {
		var out []byte
		testutil.Eventually(t, 30*time.Second, "kubectl get nodes on "+name, func() error {
			out, err = exec.Command(kubectl, "--kubeconfig", file, "--context", contexts[name], "get", "nodes", "-o", "name").CombinedOutput()
			if err == nil && strings.Count(string(out), "node/") != want {
				return fmt.Errorf("%d nodes: %s", strings.Count(string(out), "node/"), out)
			}
			if err != nil {
				return fmt.Errorf("%w: %s", err, out)
			}
			return nil
		})
	}
	out, err := exec.Command(kubectl, "--kubeconfig", file, "--context", contexts["fd1"], "create", "configmap", "only-in-one", "--from-literal=k=v").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl create configmap: %v\n%s", err, out)
	}

	// client-go, with each cluster's admin credentials: the object is in fd1 only.
	for name, want := range map[string]bool{"fd1": true, "fd2": false} {
		admin, err := c.ClusterCredentials(ctx, "frontdoor-rg", name, true)
		if err != nil {
			t.Fatal(err)
		}
		_, err = kubeClient(t, admin).CoreV1().ConfigMaps("default").Get(ctx, "only-in-one", metav1.GetOptions{})
		if (err == nil) != want {
			t.Errorf("configmap in %s: %v, want present=%v", name, err, want)
		}
	}
	// The control plane answers on the same port.
	if a := do(t, call{method: "GET", path: clusterPath("frontdoor-rg", "fd1") + csAPI}); a.status != 200 {
		t.Fatalf("control plane through the front door: %d %s", a.status, a.raw)
	}
	// Authorized ranges that leave 127.0.0.1 out close fd2's connections at the front door;
	// fd1 and the control plane, on the same port, still answer.
	r := mlfleetCLI(t, "aks", "update", "-n", "fd2", "-g", "frontdoor-rg", "--api-server-authorized-ip-ranges", "203.0.113.0/24")
	if r.code != 0 {
		t.Fatalf("aks update: %+v", r)
	}
	testutil.Eventually(t, 10*time.Second, "fd2 refused outside its ranges", func() error {
		out, err := exec.Command(kubectl, "--kubeconfig", file, "--context", contexts["fd2"], "get", "nodes", "--request-timeout", "5s").CombinedOutput()
		if err == nil {
			return fmt.Errorf("kubectl reached fd2: %s", out)
		}
		return nil
	})
	if out, err := exec.Command(kubectl, "--kubeconfig", file, "--context", contexts["fd1"], "get", "configmap", "only-in-one").CombinedOutput(); err != nil {
		t.Fatalf("fd1 after fd2's ranges changed: %v\n%s", err, out)
	}
	if a := do(t, call{method: "GET", path: clusterPath("frontdoor-rg", "fd2") + csAPI}); a.status != 200 {
		t.Fatalf("control plane after fd2's ranges changed: %d %s", a.status, a.raw)
	}
	for _, name := range []string{"fd1", "fd2"} {
		if p, err := c.BeginDeleteManagedCluster(ctx, "frontdoor-rg", name); err == nil {
			_, _ = p.Wait(ctx, nil)
		}
	}
}

// TestFrontDoorRestart: a server started on port 0 comes back on the same port, so a
// kubeconfig handed out before the restart keeps working, and the one handed out after is
// the same.
func TestFrontDoorRestart(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	p, cfg := startServerProcess(t, home, "127.0.0.1:0")
	c := homeClient(t, home, "rg")
	ctx := context.Background()
	createCluster(t, c, "rg", "door", 1, "Standard_D2_v2", nil)
	before, err := c.ClusterCredentials(ctx, "rg", "door", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := kubeServer(t, before); got != cfg.Server {
		t.Fatalf("kubeconfig server %s, want the control plane's %s", got, cfg.Server)
	}
	k := kubeClient(t, before)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kept"}}
	if _, err := k.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p.terminate(t)
	_, cfg2 := startServerProcess(t, home, "127.0.0.1:0")
	if cfg2.Server != cfg.Server {
		t.Fatalf("restarted on %s, was %s", cfg2.Server, cfg.Server)
	}
	// At once, while the cluster may still be starting: the front door holds the connection
	// until it serves. It must never hand it to the control plane's server, whose
	// certificate the kubeconfig refuses. (A handshake slower than the client waits, on a
	// loaded machine, is not that failure: the loop below retries.)
	if _, err := k.CoreV1().ConfigMaps("default").Get(ctx, "kept", metav1.GetOptions{}); err != nil {
		if strings.Contains(err.Error(), "x509:") {
			t.Fatalf("right after the restart the cluster's kubeconfig reached another server: %v", err)
		}
		t.Logf("right after the restart: %v", err)
	}
	testutil.Eventually(t, 60*time.Second, "the old kubeconfig after the restart", func() error {
		_, err := k.CoreV1().ConfigMaps("default").Get(ctx, "kept", metav1.GetOptions{})
		return err
	})
	after, err := c.ClusterCredentials(ctx, "rg", "door", false)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatalf("credentials changed across the restart:\nbefore\n%s\nafter\n%s", before, after)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
