package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/failpoint"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/secrets"
	"github.com/mlfleet/mlfleet/internal/store"
	"github.com/mlfleet/mlfleet/internal/store/storetest"
	"github.com/mlfleet/mlfleet/internal/testutil"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	"github.com/mlfleet/mlfleet/test/testserver"
)

// The crash test (N5, N7): for every flow that changes state — compute create, attach,
// update, detach and delete; cluster create, scale and delete; resource group and workspace
// delete — it first runs the flow once with tracing on, to learn every failpoint the code
// passes (the store hits one before and after every write and around every commit, the
// operations engine one before and after every step and cleanup, so a new write cannot
// escape it). Then, for each failpoint (all of them with MLFLEET_FAILPOINT_TRIALS=all, an
// even sample otherwise), it prepares the flow on a real server process, arms a crash at
// that point, sends the request, lets the process die there (exit 137, no cleanup, as kill
// -9), restarts it on the same home, and checks the invariants: every operation ends;
// nothing stays Creating/Updating/Deleting; no orphaned claim, secret or cluster data
// directory; a cluster's azureml namespace exists exactly when an attachment claim does;
// the request took full effect or none, and sending it again succeeds. A second pass arms
// an injected error (mode error) instead of a crash: the request fails cleanly (a 5xx
// InternalServerError with a request id, never a hang) or its operation retries, and the
// same invariants hold. On PostgreSQL too when MLFLEET_TEST_POSTGRES is set.

// fpFlow is one request whose failpoints the crash test tries.
type fpFlow struct {
	name string
	// setup makes what the request needs in resource group rg (which exists).
	setup func(e *fpEnv, rg string)
	// request sends the request and returns its operation's poller (nil when none).
	request func(e *fpEnv, rg string) (*mlfleet.Poller, error)
	// check says whether the request has taken full effect.
	check func(e *fpEnv, rg string) error
	// recreate, for a delete, makes the same name again (nil for the others, whose retry
	// is a re-create already): it must work as if nothing had happened.
	recreate func(e *fpEnv, rg string)
}

// fpEnv is one server home the crash test works in, across restarts.
type fpEnv struct {
	t     *testing.T
	home  string
	dsn   string // "" for SQLite in home
	addr  string
	p     *serverProcess
	cfg   *clientconfig.Config
	c     *mlfleet.Client
	st    store.Store
	trace string
	// args are more flags for the server.
	args []string
}

const fpWS = "fpws"

func devTest(n int) *mlfleet.Compute {
	return &mlfleet.Compute{Location: "westus", Properties: mlfleet.ComputeProperties{ComputeType: "AKS",
		Properties: &mlfleet.AKSProperties{AgentCount: &n, ClusterPurpose: strp("DevTest")}}}
}

// devTestAttach is the body of a DevTest attach of cluster id: its node count is the
// cluster's.
func devTestAttach(id string) *mlfleet.Compute {
	in := devTest(1)
	in.Properties.Properties.AgentCount = nil
	in.Properties.ResourceID = &id
	return in
}

func oneNodeCluster() *mlfleet.ClusterInput {
	one := 1
	in := &mlfleet.ClusterInput{Location: "westus"}
	in.Properties.AgentPoolProfiles = []mlfleet.AgentPoolInput{{Name: "nodepool1", Count: &one, VMSize: "Standard_D3_v2"}}
	return in
}

// fpFlows are the flows of the crash test, each on a DevTest 1-node cluster to stay fast.
func fpFlows() []fpFlow {
	ctx := context.Background()
	workspace := func(e *fpEnv, rg string) {
		if _, err := e.c.CreateWorkspace(ctx, rg, fpWS, "westus"); err != nil {
			e.t.Fatal(err)
		}
	}
	cluster := func(e *fpEnv, rg string) {
		_, p, err := e.c.BeginCreateManagedCluster(ctx, rg, "mc", oneNodeCluster())
		if err == nil {
			_, err = p.Wait(ctx, nil)
		}
		if err != nil {
			e.t.Fatalf("setup cluster: %v", err)
		}
	}
	wait := func(p *mlfleet.Poller, err error) {
		if err == nil && p != nil {
			_, err = p.Wait(ctx, nil)
		}
		if err != nil {
			panic(err) // setup failures are reported by fpSetup
		}
	}
	createCompute := func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
		_, p, err := e.c.BeginCreateOrUpdateCompute(ctx, rg, fpWS, "cc"+rg, devTest(1), nil)
		return p, err
	}
	attach := func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
		_, p, err := e.c.BeginCreateOrUpdateCompute(ctx, rg, fpWS, "att"+rg, devTestAttach(e.c.AKSResourceID(rg, "mc")), nil)
		return p, err
	}
	computeState := func(e *fpEnv, rg, name, want string) error {
		got, err := e.c.GetCompute(ctx, rg, fpWS, name)
		if err != nil {
			return err
		}
		if got.Properties.ProvisioningState != want {
			return fmt.Errorf("compute %s is %s, want %s", name, got.Properties.ProvisioningState, want)
		}
		return nil
	}
	gone := func(err error, what string) error {
		var me *mlfleet.Error
		if errors.As(err, &me) && me.StatusCode == 404 {
			return nil
		}
		if err == nil {
			return fmt.Errorf("%s still exists", what)
		}
		return err
	}
	computeGone := func(e *fpEnv, rg, name, what string) error {
		_, err := e.c.GetCompute(ctx, rg, fpWS, name)
		return gone(err, what)
	}
	return []fpFlow{
		{name: "compute create", setup: workspace, request: createCompute,
			check: func(e *fpEnv, rg string) error { return computeState(e, rg, "cc"+rg, "Succeeded") }},
		{name: "compute attach", setup: func(e *fpEnv, rg string) { workspace(e, rg); cluster(e, rg) }, request: attach,
			check: func(e *fpEnv, rg string) error { return computeState(e, rg, "att"+rg, "Succeeded") }},
		{name: "compute update",
			setup: func(e *fpEnv, rg string) { workspace(e, rg); wait(createCompute(e, rg)) },
			request: func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
				_, p, err := e.c.BeginCreateOrUpdateCompute(ctx, rg, fpWS, "cc"+rg, devTest(2), nil)
				return p, err
			},
			check: func(e *fpEnv, rg string) error {
				got, err := e.c.GetCompute(ctx, rg, fpWS, "cc"+rg)
				if err != nil {
					return err
				}
				if n := got.Properties.Properties.AgentCount; n == nil || *n != 2 || got.Properties.ProvisioningState != "Succeeded" {
					return fmt.Errorf("compute is %s with %v nodes, want Succeeded with 2", got.Properties.ProvisioningState, n)
				}
				return nil
			}},
		{name: "compute detach",
			setup: func(e *fpEnv, rg string) { workspace(e, rg); cluster(e, rg); wait(attach(e, rg)) },
			request: func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
				return e.c.BeginDeleteCompute(ctx, rg, fpWS, "att"+rg, "Detach")
			},
			check: func(e *fpEnv, rg string) error {
				if err := computeGone(e, rg, "att"+rg, "the detached compute"); err != nil {
					return err
				}
				_, err := e.c.GetManagedCluster(ctx, rg, "mc") // detach keeps the cluster
				return err
			},
			recreate: func(e *fpEnv, rg string) { wait(attach(e, rg)) }},
		{name: "compute delete",
			setup: func(e *fpEnv, rg string) { workspace(e, rg); wait(createCompute(e, rg)) },
			request: func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
				return e.c.BeginDeleteCompute(ctx, rg, fpWS, "cc"+rg, "Delete")
			},
			check: func(e *fpEnv, rg string) error {
				if err := computeGone(e, rg, "cc"+rg, "the deleted compute"); err != nil {
					return err
				}
				_, err := e.c.GetManagedCluster(ctx, rg, "cc"+rg)
				return gone(err, "the cluster the compute created")
			},
			recreate: func(e *fpEnv, rg string) { wait(createCompute(e, rg)) }},
		{name: "cluster create", setup: func(*fpEnv, string) {},
			request: func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
				_, p, err := e.c.BeginCreateManagedCluster(ctx, rg, "mc", oneNodeCluster())
				return p, err
			},
			check: func(e *fpEnv, rg string) error {
				mc, err := e.c.GetManagedCluster(ctx, rg, "mc")
				if err == nil && mc.Properties.ProvisioningState != "Succeeded" {
					err = fmt.Errorf("cluster is %s", mc.Properties.ProvisioningState)
				}
				return err
			}},
		{name: "cluster scale", setup: cluster,
			request: func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
				_, p, err := e.c.BeginScaleAgentPool(ctx, rg, "mc", "nodepool1", 2)
				return p, err
			},
			check: func(e *fpEnv, rg string) error {
				mc, err := e.c.GetManagedCluster(ctx, rg, "mc")
				if err == nil && (mc.Properties.AgentPoolProfiles[0].Count != 2 || mc.Properties.ProvisioningState != "Succeeded") {
					err = fmt.Errorf("cluster is %s with %d nodes", mc.Properties.ProvisioningState, mc.Properties.AgentPoolProfiles[0].Count)
				}
				return err
			}},
		{name: "autoscale resize",
			// The autoscaler's Resize writes the count it chose before the pool grows
			// (autoscale/resize/before|after around the store write). Whatever the crash,
			// the pods end up Running and the stored count is the live node count.
			setup: func(e *fpEnv, rg string) {
				in := oneNodeCluster()
				on, lo, hi := true, 1, 3
				ap := &in.Properties.AgentPoolProfiles[0]
				ap.EnableAutoScaling, ap.MinCount, ap.MaxCount = &on, &lo, &hi
				in.Properties.AutoScalerProfile = mlfleet.AutoScalerProfile{"scan-interval": "1s"}
				wait(func() (*mlfleet.Poller, error) {
					_, p, err := e.c.BeginCreateManagedCluster(ctx, rg, "mc", in)
					return p, err
				}())
			},
			request: func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
				kc, err := e.c.ClusterCredentials(ctx, rg, "mc", true)
				if err != nil {
					return nil, err
				}
				k := kubeClient(e.t, kc)
				d := burstDeployment(3)
				d.Spec.Template.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("2")
				if _, err := k.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
					return nil, err
				}
				// The scale-up happens in the background: wait for it (or for the crash).
				deadline := time.Now().Add(60 * time.Second)
				for time.Now().Before(deadline) && e.p != nil {
					if autoscaled(e, rg, k) == nil {
						return nil, nil
					}
					select {
					case <-e.p.done:
						return nil, errors.New("the server died")
					case <-time.After(250 * time.Millisecond):
					}
				}
				return nil, errors.New("no scale-up")
			},
			check: func(e *fpEnv, rg string) error {
				kc, err := e.c.ClusterCredentials(ctx, rg, "mc", true)
				if err != nil {
					return err
				}
				k := kubeClient(e.t, kc)
				// The nodes follow the count a moment later.
				testutil.Poll(ctx, 30*time.Second, func() (bool, string) {
					err = autoscaled(e, rg, k)
					return err == nil, ""
				})
				return err
			}},
		{name: "cluster delete", setup: cluster,
			request: func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
				return e.c.BeginDeleteManagedCluster(ctx, rg, "mc")
			},
			check: func(e *fpEnv, rg string) error {
				_, err := e.c.GetManagedCluster(ctx, rg, "mc")
				return gone(err, "the deleted cluster")
			},
			recreate: cluster},
		{name: "workspace delete",
			setup: func(e *fpEnv, rg string) { workspace(e, rg); cluster(e, rg); wait(attach(e, rg)) },
			request: func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
				return e.c.BeginDeleteWorkspace(ctx, rg, fpWS)
			},
			check: func(e *fpEnv, rg string) error {
				_, err := e.c.GetWorkspace(ctx, rg, fpWS)
				return gone(err, "the deleted workspace")
			}},
		{name: "service principal create",
			// create-for-rbac: the principal and its role assignment commit together or not
			// at all, whatever the crash; a retry makes another principal, as az's does.
			setup: func(*fpEnv, string) {},
			request: func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
				_, err := e.c.CreatePrincipal(ctx, mlfleet.NewPrincipal{Type: mlfleet.PrincipalServicePrincipal, DisplayName: "fpsp-" + rg,
					Role: mlfleet.RoleContributor, Scopes: []string{"/subscriptions/" + e.cfg.Subscription + "/resourceGroups/" + rg}})
				return nil, err
			},
			check: func(e *fpEnv, rg string) error {
				ps, err := e.c.ListPrincipals(ctx)
				if err != nil {
					return err
				}
				found := 0
				for _, p := range ps {
					if p.DisplayName != "fpsp-"+rg {
						continue
					}
					found++
					ras, err := e.c.ListRoleAssignments(ctx, "/subscriptions/"+e.cfg.Subscription+"/resourceGroups/"+rg, p.ID)
					if err != nil {
						return err
					}
					if len(ras) != 1 || ras[0].RoleName() != mlfleet.RoleContributor {
						return fmt.Errorf("principal %s has %d role assignments at its group, want its one Contributor", p.ID, len(ras))
					}
				}
				if found == 0 {
					return errors.New("no principal fpsp-" + rg)
				}
				return nil
			}},
		{name: "endpoint delete",
			// The role assignments at the endpoint's scope go with it, in the transaction
			// that deletes its rows (as ARM deletes a resource's assignments): none is left
			// to grant a new endpoint of the same name, whatever the crash.
			setup: func(e *fpEnv, rg string) {
				workspace(e, rg)
				_, p, err := e.c.BeginCreateOrUpdateOnlineEndpoint(ctx, rg, fpWS, "fpep", &mlfleet.OnlineEndpoint{Location: "westus"}, true)
				wait(p, err)
				scope := "/subscriptions/" + e.cfg.Subscription + "/resourceGroups/" + rg + "/providers/Microsoft.MachineLearningServices/workspaces/" + fpWS + "/onlineEndpoints/fpep"
				if _, err := e.c.CreatePrincipal(ctx, mlfleet.NewPrincipal{Type: mlfleet.PrincipalServicePrincipal, DisplayName: "fpep-" + rg,
					Role: mlfleet.RoleContributor, Scopes: []string{scope}}); err != nil {
					panic(err)
				}
			},
			request: func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
				return e.c.BeginDeleteOnlineEndpoint(ctx, rg, fpWS, "fpep")
			},
			check: func(e *fpEnv, rg string) error {
				if _, err := e.c.GetOnlineEndpoint(ctx, rg, fpWS, "fpep"); gone(err, "the deleted endpoint") != nil {
					return gone(err, "the deleted endpoint")
				}
				ras, err := e.c.ListRoleAssignments(ctx, "/subscriptions/"+e.cfg.Subscription+"/resourceGroups/"+rg, "")
				if err != nil {
					return err
				}
				for _, ra := range ras {
					if strings.HasSuffix(strings.ToLower(ra.Properties.Scope), "/onlineendpoints/fpep") {
						return fmt.Errorf("role assignment %s at the deleted endpoint's scope is left", ra.Name)
					}
				}
				return nil
			},
			recreate: func(e *fpEnv, rg string) {
				_, p, err := e.c.BeginCreateOrUpdateOnlineEndpoint(ctx, rg, fpWS, "fpep", &mlfleet.OnlineEndpoint{Location: "westus"}, true)
				wait(p, err)
			}},
		{name: "resource group delete",
			setup: func(e *fpEnv, rg string) { workspace(e, rg); wait(createCompute(e, rg)) },
			request: func(e *fpEnv, rg string) (*mlfleet.Poller, error) {
				return e.c.BeginDeleteResourceGroup(ctx, rg)
			},
			check: func(e *fpEnv, rg string) error {
				_, err := e.c.GetResourceGroup(ctx, rg)
				return gone(err, "the deleted resource group")
			}},
	}
}

func TestFailpoints(t *testing.T) {
	t.Parallel()
	pg := os.Getenv("MLFLEET_TEST_POSTGRES")
	// Each flow runs on its own server process and home, a few at a time: a trial spends
	// most of its time waiting for processes, clusters and namespaces to start or go.
	slots := make(chan struct{}, 6)
	var mu sync.Mutex
	var total fpCount
	for _, f := range fpFlows() {
		for _, dialect := range []string{"sqlite", "postgres"} {
			if dialect == "postgres" && pg == "" {
				continue
			}
			t.Run(dialect+"/"+strings.ReplaceAll(f.name, " ", "-"), func(t *testing.T) {
				t.Parallel()
				slots <- struct{}{}
				defer func() { <-slots }()
				dsn := ""
				if dialect == "postgres" {
					dsn = storetest.Schema(t, pg)
				}
				n := runFailpoints(t, f, dsn)
				mu.Lock()
				total.add(n)
				mu.Unlock()
			})
		}
	}
	t.Cleanup(func() {
		t.Logf("crash test: %d failpoint hits traced (%d distinct failpoints), %d trials (crash and error) of which %d did not reach their failpoint",
			total.hits, len(total.points), total.trials, total.notReached)
	})
}

// fpCount sums up the crash test.
type fpCount struct {
	hits, trials, notReached int
	points                   map[string]bool
}

func (c *fpCount) add(o fpCount) {
	if c.points == nil {
		c.points = map[string]bool{}
	}
	for p := range o.points {
		c.points[p] = true
	}
	c.hits += o.hits
	c.trials += o.trials
	c.notReached += o.notReached
}

// fpBudget is how many failpoint hits of each flow get a crash and an error trial: every
// one with MLFLEET_FAILPOINT_TRIALS=all, else that many (default 1), spread over the flow.
func fpBudget() int {
	switch v := os.Getenv("MLFLEET_FAILPOINT_TRIALS"); v {
	case "all":
		return 1 << 30
	case "":
		return 1
	default:
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 1
		}
		return n
	}
}

func runFailpoints(t *testing.T, f fpFlow, dsn string) fpCount {
	e := &fpEnv{t: t, home: t.TempDir(), dsn: dsn}
	e.trace = filepath.Join(e.home, "failpoints.trace")
	e.start("")
	defer e.stop()
	n := fpCount{points: map[string]bool{}}
	// Discover the flow's failpoints, in order, from the trace of one clean run.
	seq := 1
	rg := fmt.Sprintf("fp%d", seq)
	e.setup(f, rg)
	hits := e.traced(func() { e.send(f, rg, true) })
	e.settle()
	e.invariants(f.name + " (clean run)")
	if err := f.check(e, rg); err != nil {
		t.Fatalf("%s: the clean run did not take effect: %v", f.name, err)
	}
	e.deleteGroup(rg)
	for _, h := range hits {
		n.points[h.name] = true
	}
	n.hits = len(hits)
	chosen := spread(hits, fpBudget())
	t.Logf("%s: %d failpoint hits (%d distinct), trying %d", f.name, len(hits), distinct(hits), len(chosen))
	for _, h := range chosen {
		for _, mode := range []string{"crash", "error"} {
			seq++
			rg := fmt.Sprintf("fp%d", seq)
			// Step names may hold the ids of the flow's resources, named after the group.
			name := regexp.MustCompile(`fp1(\D|$)`).ReplaceAllString(h.name, rg+"$1")
			spec := fmt.Sprintf("%s=%s@%d", name, mode, h.k)
			e.setup(f, rg)
			began := time.Now()
			reached := e.trial(f, rg, spec, mode)
			n.trials++
			if !reached {
				n.notReached++
			}
			t.Logf("%s: %s reached=%v in %v", f.name, spec, reached, time.Since(began).Round(time.Millisecond))
			what := fmt.Sprintf("%s, %s", f.name, spec)
			e.settle()
			e.invariants(what)
			// Sending the request again takes it to its end; a create re-creates the name.
			e.send(f, rg, false)
			e.settle()
			if err := f.check(e, rg); err != nil {
				t.Errorf("%s: after a retry of the request: %v\n%s", what, err, e.p.logs)
			}
			e.invariants(what + ", after the retry")
			if f.recreate != nil {
				e.setupStep(f.name+": re-create", func() { f.recreate(e, rg) })
				e.settle()
				e.invariants(what + ", after a re-create")
			}
			e.deleteGroup(rg)
			if t.Failed() {
				t.FailNow()
			}
		}
	}
	return n
}

// fpHit is the k-th hit of a failpoint in a flow.
type fpHit struct {
	name string
	k    int
}

func distinct(hits []fpHit) int {
	seen := map[string]bool{}
	for _, h := range hits {
		seen[h.name] = true
	}
	return len(seen)
}

// spread picks n hits evenly over the flow (all when n ≥ len).
func spread(hits []fpHit, n int) []fpHit {
	if n >= len(hits) {
		return hits
	}
	out := make([]fpHit, 0, n)
	for i := range n {
		out = append(out, hits[(2*i+1)*len(hits)/(2*n)])
	}
	return out
}

func (e *fpEnv) start(spec string) {
	e.t.Helper()
	args := []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "debug", "--health-interval", "1h", "--sweep-interval", "1h", "--replica-heartbeat-interval", "1h"}
	if e.addr != "" {
		args[2] = e.addr
	}
	if e.dsn != "" {
		args = append(args, "--store", e.dsn)
	}
	args = append(args, e.args...)
	env := append(os.Environ(), childEnv+"=1", "MLFLEET_HOME="+e.home, failpoint.EnvTrace+"="+e.trace, secrets.ReplicaKeyEnv+"="+testserver.ReplicaKey)
	if spec != "" {
		env = append(env, armEnv+"="+spec)
	}
	var cfg *clientconfig.Config
	for attempt := 1; ; attempt++ {
		c := exec.Command(os.Args[0], args...)
		c.Env = env
		logs := &bytes.Buffer{}
		c.Stdout, c.Stderr = logs, logs
		if err := c.Start(); err != nil {
			e.t.Fatal(err)
		}
		p := &serverProcess{cmd: c, logs: logs, done: make(chan struct{})}
		go func() { _ = c.Wait(); close(p.done) }()
		e.p = p
		var err error
		if cfg, err = waitReadyProcess(e.home, p); err == nil {
			break
		}
		// The port of the server before, kept for its clients, may be the local end of
		// another test's connection for a moment while no server listens on it.
		if e.addr != "" && attempt < 30 && strings.Contains(logs.String(), "address already in use") {
			<-p.done
			time.Sleep(time.Second)
			continue
		}
		e.t.Fatalf("%v\n%s", err, logs)
	}
	e.cfg = cfg
	if e.addr == "" {
		e.addr = "127.0.0.1:" + serverPort(cfg)
	}
	var err error
	if e.c, err = mlfleet.NewClient(mlfleet.WithHome(e.home), mlfleet.WithPollInterval(100*time.Millisecond)); err != nil {
		e.t.Fatal(err)
	}
	if e.st == nil {
		dsn := e.dsn
		if dsn == "" {
			dsn = filepath.Join(e.home, "mlfleet.db")
		}
		if e.st, err = store.Open(context.Background(), dsn); err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() { e.st.Close() })
	}
}

func (e *fpEnv) stop() {
	if e.p == nil {
		return
	}
	_ = e.p.cmd.Process.Signal(syscall.SIGKILL)
	<-e.p.done
	e.p = nil
}

// setup makes resource group rg and what flow f needs in it, unarmed.
func (e *fpEnv) setup(f fpFlow, rg string) {
	e.t.Helper()
	if _, err := e.c.CreateResourceGroup(context.Background(), rg, "westus", nil); err != nil {
		e.t.Fatal(err)
	}
	defer func() {
		if p := recover(); p != nil {
			e.t.Fatalf("%s: setup: %v\n%s", f.name, p, e.p.logs)
		}
	}()
	f.setup(e, rg)
}

// setupStep runs fn, reporting a panic of the setup helpers as a test failure.
func (e *fpEnv) setupStep(what string, fn func()) {
	e.t.Helper()
	defer func() {
		if p := recover(); p != nil {
			e.t.Fatalf("%s: %v\n%s", what, p, e.p.logs)
		}
	}()
	fn()
}

// send sends f's request and, when wait, waits for its operation.
func (e *fpEnv) send(f fpFlow, rg string, wait bool) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := f.request(e, rg)
	if err == nil && p != nil && wait {
		_, err = p.Wait(ctx, nil)
	}
	if err != nil && wait {
		e.t.Fatalf("%s: %v\n%s", f.name, err, e.p.logs)
	}
}

// traced runs fn and returns the failpoints the server hit meanwhile, numbered per name.
func (e *fpEnv) traced(fn func()) []fpHit {
	e.t.Helper()
	before := fileSize(e.trace)
	fn()
	b, err := os.ReadFile(e.trace)
	if err != nil {
		e.t.Fatal(err)
	}
	var hits []fpHit
	count := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b[before:]))
	for sc.Scan() {
		name := sc.Text()
		count[name]++
		hits = append(hits, fpHit{name: name, k: count[name]})
	}
	return hits
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// trial restarts the server with spec armed, sends f's request, and for a crash waits for
// the process to die at the failpoint; then restarts it unarmed. It reports whether the
// failpoint was reached.
func (e *fpEnv) trial(f fpFlow, rg, spec, mode string) bool {
	e.t.Helper()
	e.armed(spec)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	name := strings.SplitN(spec, "=", 2)[0]
	before := fileSize(e.trace)
	p, err := f.request(e, rg)
	var me *mlfleet.Error
	if mode == "error" && errors.As(err, &me) {
		// An injected store error on the request path: a clean 5xx with the request id.
		if me.StatusCode < 500 || me.Code != "InternalServerError" || me.RequestID == "" || !strings.Contains(me.Message, me.RequestID) {
			e.t.Errorf("%s, %s: the request failed with %d %s (request id %q): %s; want a 5xx InternalServerError naming the request id", f.name, spec, me.StatusCode, me.Code, me.RequestID, me.Message)
		}
	}
	if err == nil && p != nil && mode == "error" {
		_, _ = p.Wait(ctx, nil) // the operation retries or fails; either way it must end
	}
	reached := false
	if mode == "crash" {
		select {
		case <-e.p.done:
			reached = true
		case <-ctx.Done():
		}
	} else {
		b, _ := os.ReadFile(e.trace)
		reached = int64(len(b)) > before && bytes.Contains(b[before:], []byte(name+"\n"))
	}
	if mode == "crash" && reached && !strings.Contains(e.p.logs.String(), "failpoint: crash at ") {
		e.t.Errorf("%s, %s: the server exited without the crash line:\n%s", f.name, spec, e.p.logs)
	}
	e.stop()
	e.start("")
	return reached
}

// settle waits until no operation is in progress.
func (e *fpEnv) settle() {
	e.t.Helper()
	testutil.Eventually(e.t, 3*time.Minute, "every operation to end", func() error {
		ops, err := e.st.ListOperations(context.Background(), store.OperationFilter{Status: store.StatusInProgress})
		if err != nil {
			return err
		}
		if len(ops) > 0 {
			return fmt.Errorf("%d in progress, e.g. %s on %s", len(ops), ops[0].Kind, ops[0].ResourceID)
		}
		return nil
	})
}

// deleteGroup deletes rg and waits for it to go.
func (e *fpEnv) deleteGroup(rg string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := e.c.BeginDeleteResourceGroup(ctx, rg)
	if err == nil {
		_, err = p.Wait(ctx, nil)
	}
	var me *mlfleet.Error
	if errors.As(err, &me) && me.StatusCode == 404 {
		return // the flow deleted it
	}
	if err != nil {
		e.t.Fatalf("delete resource group %s: %v\n%s", rg, err, e.p.logs)
	}
}

// invariants checks the whole store and every cluster after operations settled.
func (e *fpEnv) invariants(what string) {
	e.t.Helper()
	ctx := context.Background()
	rows, err := e.st.ListResources(ctx, store.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	byKey := map[string]*store.Resource{}
	for _, r := range rows {
		byKey[strings.ToLower(r.ID)] = r
	}
	fail := func(format string, args ...any) {
		e.t.Errorf("%s: "+format, append([]any{what}, args...)...)
	}
	type body struct {
		ComputeID  string `json:"computeId"`
		Properties struct {
			ProvisioningState string  `json:"provisioningState"`
			ResourceID        *string `json:"resourceId"`
			Mlfleet           struct {
				Attached   bool   `json:"attached"`
				ClusterID  string `json:"clusterId"`
				Provider   string `json:"provider"`
				CreatedFor string `json:"createdFor"`
			} `json:"mlfleet"`
		} `json:"properties"`
	}
	attachments := map[string]string{}  // cluster key → compute id
	attachedFailed := map[string]bool{} // clusters held by a Failed compute
	clusterDirs := map[string]bool{}
	var clusters []*store.Resource
	for _, r := range rows {
		var b body
		_ = json.Unmarshal(r.Body, &b)
		switch ps := b.Properties.ProvisioningState; ps {
		case "Creating", "Updating", "Deleting":
			fail("%s is still %s", r.ID, ps)
		}
		typ := strings.ToLower(r.Type)
		switch {
		case strings.HasSuffix(typ, "/computenames"), strings.HasSuffix(typ, "/leafdomains"):
			if byKey[strings.ToLower(b.ComputeID)] == nil {
				fail("claim %s is held by compute %s, which does not exist", r.ID, b.ComputeID)
			}
		case strings.HasSuffix(typ, "/mlfleetattachments"):
			c := byKey[strings.ToLower(b.ComputeID)]
			if c == nil {
				fail("cluster %s is claimed by compute %s, which does not exist", r.ParentID, b.ComputeID)
				continue
			}
			var cb body
			_ = json.Unmarshal(c.Body, &cb)
			if cb.Properties.ResourceID == nil || !strings.EqualFold(*cb.Properties.ResourceID, r.ParentID) {
				fail("cluster %s is claimed by compute %s, which is on another cluster", r.ParentID, b.ComputeID)
			}
			// A compute whose detach failed still holds the cluster (so nobody attaches it
			// before the detach is retried) with its components maybe gone already: only a
			// working attachment must have its namespace.
			if cb.Properties.ProvisioningState != "Failed" {
				attachments[strings.ToLower(r.ParentID)] = b.ComputeID
			} else {
				attachedFailed[strings.ToLower(r.ParentID)] = true
			}
		case typ == "microsoft.containerservice/managedclusters":
			clusters = append(clusters, r)
			if b.Properties.Mlfleet.Provider == "embedded" {
				clusterDirs[b.Properties.Mlfleet.ClusterID] = true
			}
			if cf := b.Properties.Mlfleet.CreatedFor; cf != "" && byKey[strings.ToLower(cf)] == nil {
				fail("cluster %s records compute %s as its creator, which does not exist", r.ID, cf)
			}
		}
	}
	for _, r := range rows {
		var b body
		_ = json.Unmarshal(r.Body, &b)
		if strings.EqualFold(r.Type, "Microsoft.MachineLearningServices/workspaces/computes") && b.Properties.Mlfleet.Attached {
			if b.Properties.ProvisioningState == "Failed" {
				continue
			}
			if b.Properties.ResourceID == nil || !strings.EqualFold(attachments[strings.ToLower(*b.Properties.ResourceID)], r.ID) {
				fail("compute %s is attached but holds no claim on its cluster", r.ID)
			}
		}
	}
	if orphans, err := e.st.ListOrphans(ctx, 0); err != nil || len(orphans) > 0 {
		fail("orphaned rows: %v %v", len(orphans), err)
		for _, o := range orphans {
			fail("orphan %s (owner %s)", o.ID, o.OwnerID)
		}
	}
	// Data directories of embedded clusters: exactly those of stored clusters.
	entries, _ := os.ReadDir(filepath.Join(e.home, "clusters"))
	for _, d := range entries {
		if d.IsDir() && d.Name() != "etcd" && d.Name() != "kine" && !clusterDirs[d.Name()] { // etcd, kine: the clusters' shared state store
			fail("cluster data directory %s has no cluster", d.Name())
		}
	}
	// In each running cluster, the azureml namespace exists exactly when it is attached.
	for _, r := range clusters {
		var b body
		_ = json.Unmarshal(r.Body, &b)
		if b.Properties.ProvisioningState != "Succeeded" {
			continue
		}
		_, attached := attachments[strings.ToLower(r.ID)]
		if attachedFailed[strings.ToLower(r.ID)] {
			continue
		}
		testutil.Eventually(e.t, 60*time.Second, what+": the azureml namespace and marker of "+r.Name+" to match its attachment", func() error {
			kc, err := e.c.ClusterCredentials(ctx, r.ResourceGroup, r.Name, true)
			if err != nil {
				return err
			}
			k := kubeClient(e.t, kc)
			_, err = k.CoreV1().Namespaces().Get(ctx, "azureml", metav1.GetOptions{})
			switch {
			case attached && err != nil:
				return fmt.Errorf("attached, but namespace azureml: %v", err)
			case !attached && err == nil:
				return fmt.Errorf("not attached, but namespace azureml exists")
			}
			_, err = k.CoreV1().ConfigMaps("kube-system").Get(ctx, kube.MarkerName, metav1.GetOptions{})
			switch {
			case attached && err != nil:
				return fmt.Errorf("attached, but the attachment marker: %v", err)
			case !attached && err == nil:
				return fmt.Errorf("not attached, but the attachment marker is there")
			}
			return nil
		})
	}
}

// autoscaled says whether the autoscale flow's cluster has taken its pods: all Running,
// the stored count within its bounds and equal to the live (ready) nodes.
func autoscaled(e *fpEnv, rg string, k kubernetes.Interface) error {
	ctx := context.Background()
	mc, err := e.c.GetManagedCluster(ctx, rg, "mc")
	if err != nil {
		return err
	}
	ap := mc.Properties.AgentPoolProfiles[0]
	if mc.Properties.ProvisioningState != "Succeeded" || ap.MinCount == nil || ap.MaxCount == nil || ap.Count < *ap.MinCount || ap.Count > *ap.MaxCount {
		return fmt.Errorf("cluster is %s with count %d, bounds %v..%v", mc.Properties.ProvisioningState, ap.Count, ap.MinCount, ap.MaxCount)
	}
	if err := nodeCount(ctx, k, ap.Count)(); err != nil {
		return fmt.Errorf("stored count %d: %w", ap.Count, err)
	}
	running, _, err := runningPods(ctx, k, "app=burst")
	if err != nil {
		return err
	}
	if running != 3 || ap.Count < 2 {
		return fmt.Errorf("%d of 3 pods Running on %d nodes", running, ap.Count)
	}
	return nil
}
