package clusterruntime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/utils/clock"

	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/internal/provider"
)

// Events and objects of the cluster autoscaler, named as cluster-autoscaler names them.
const (
	EventTriggeredScaleUp  = "TriggeredScaleUp"
	EventNotTriggerScaleUp = "NotTriggerScaleUp"
	// EventFailedScaleUp (a Warning) tells the pods that triggered a scale-up that the
	// pool could not grow as planned (Resize refused it: a quota, say), and why.
	EventFailedScaleUp = kube.ReasonFailedScaleUp
	EventScaleDown     = "ScaleDown"
	// AutoscalerStatusConfigMap is the ConfigMap in kube-system where the autoscaler
	// writes its status.
	AutoscalerStatusConfigMap = "cluster-autoscaler-status"
	autoscalerComponent       = "cluster-autoscaler"
	reasonMaxSizeReached      = "max node group size reached"
)

// AutoscalerSettings are the settings of a cluster's autoscaler; Expander is one of
// ExpanderRandom (also ""), ExpanderLeastWaste or ExpanderMostPods.
type AutoscalerSettings = provider.AutoscalerSettings

// PoolBounds are the node counts the autoscaler keeps an autoscaled pool within.
type PoolBounds struct {
	Min, Max int
}

// AutoscalerConfig turns the autoscaler of a runtime on for some pools.
type AutoscalerConfig struct {
	Settings AutoscalerSettings
	// Pools are the autoscaled pools by name; pools not listed are left alone. Empty
	// turns the autoscaler off.
	Pools map[string]PoolBounds
	// Resize is called with the new node count of a pool before the runtime changes the
	// pool, so that the owner of the pool can record the decision durably (and refuse it
	// with an error: the pool is then left as it is and the decision is made again at the
	// next scan). Nil means the runtime only changes its own pool.
	Resize func(ctx context.Context, pool string, count int) error
	// Resized, when set, is called with the new node count of a pool once the runtime has
	// changed the pool to it; nil means nobody is told.
	Resized func(ctx context.Context, pool string, count int)
}

// SetAutoscaler sets (or, with no pools, turns off) the cluster autoscaler. It takes
// effect at the next scan and is idempotent.
func (r *Runtime) SetAutoscaler(cfg AutoscalerConfig) {
	r.autoscaler.set(cfg)
}

// autoscaler grows autoscaled pools when pods are unschedulable for lack of resources and
// shrinks them when nodes stay underused, as AKS's cluster autoscaler does.
type autoscaler struct {
	client   kubernetes.Interface
	pods     corelisters.PodLister
	nodeList corelisters.NodeLister
	podSim   *podSimulator
	nodeSim  *nodeSimulator
	recorder record.EventRecorder
	drainer  *drainer // with the autoscaler's recorder
	clock    clock.WithTicker
	log      *slog.Logger

	mu      sync.Mutex
	cfg     AutoscalerConfig
	wake    chan struct{}
	lastUp  time.Time
	failed  time.Time            // last failed scale-down
	removed time.Time            // the scan that last removed nodes
	since   map[string]time.Time // nodes under the threshold, since when
	noticed map[types.UID]string // last NotTriggerScaleUp message per pod
	status  string               // last status written, without its time
	exp     *expander            // the expander of the last scan
	warned  string               // the last scan's failure, logged once
}

// expander returns the expander called name, keeping the one of earlier scans (and its
// random sequence) while the name stays.
func (a *autoscaler) expander(name string) *expander {
	a.mu.Lock()
	defer a.mu.Unlock()
	if name == "" {
		name = ExpanderRandom
	}
	if a.exp == nil || a.exp.name != name {
		a.exp = newExpander(name, uint64(a.clock.Now().UnixNano()))
	}
	return a.exp
}

// scanFailed logs why a scan failed (a refused Resize, say) once per distinct reason,
// not at every scan while it lasts; err nil ends the failure.
func (a *autoscaler) scanFailed(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	a.mu.Lock()
	same := msg == a.warned
	a.warned = msg
	a.mu.Unlock()
	switch {
	case err == nil && !same:
		a.log.Info("cluster autoscaler scan succeeds again")
	case err != nil && !same:
		a.log.Warn("cluster autoscaler scan", "err", err)
	case err != nil:
		a.log.Debug("cluster autoscaler scan", "err", err)
	}
}

func (a *autoscaler) set(cfg AutoscalerConfig) {
	a.mu.Lock()
	// A node's unneeded time counts only while its pool is autoscaled: no scan runs for a
	// pool that is not, so a pool that becomes autoscaled again starts afresh rather than
	// from what a scan saw before it was turned off.
	for name := range a.since {
		pool, _, _ := parseNodeName(name)
		_, was := a.cfg.Pools[pool]
		_, is := cfg.Pools[pool]
		if !was || !is {
			delete(a.since, name)
		}
	}
	a.cfg = cfg
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *autoscaler) config() AutoscalerConfig {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.cfg
	if c.Settings.ScanInterval <= 0 {
		c.Settings.ScanInterval = 10 * time.Second
	}
	if c.Settings.UtilizationThreshold <= 0 {
		c.Settings.UtilizationThreshold = 0.5
	}
	if c.Settings.MaxGracefulTermination <= 0 {
		c.Settings.MaxGracefulTermination = 10 * time.Minute
	}
	if c.Settings.MaxEmptyBulkDelete <= 0 {
		c.Settings.MaxEmptyBulkDelete = 10
	}
	return c
}

func (a *autoscaler) run(ctx context.Context) {
	for {
		cfg := a.config()
		select {
		case <-ctx.Done():
			return
		case <-a.wake:
		case <-a.clock.After(cfg.Settings.ScanInterval):
		}
		if len(a.config().Pools) > 0 {
			if err := a.scan(ctx); ctx.Err() == nil {
				a.scanFailed(err)
			}
		}
	}
}

// autoscaledPool is a pool with its bounds.
type autoscaledPool struct {
	pool NodePool
	PoolBounds
}

// templateNode is what a new node of pool would look like to the scheduler.
func templateNode(pool NodePool) *v1.Node {
	name := "template-node-for-" + pool.Name
	return &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: nodeLabels(pool, name)},
		Spec:       v1.NodeSpec{Taints: pool.Taints},
		Status: v1.NodeStatus{Capacity: nodeCapacity(pool), Allocatable: nodeAllocatable(pool),
			Conditions: []v1.NodeCondition{{Type: v1.NodeReady, Status: v1.ConditionTrue}}},
	}
}

// scaleUpPlan is what a scan decides for the pending pods.
type scaleUpPlan struct {
	grow      map[string]int       // new nodes per pool
	triggered map[types.UID]string // pods that new nodes will take, with their pool
	noScaleUp map[types.UID]string // pods no new node helps, with the reason
}

// planScaleUp places the pending pods, largest first, on the room the existing nodes have
// left, then on new nodes of the autoscaled pools (a new node only when the planned ones
// are full; the pool the expander picks among those whose node takes the pod), never past
// a pool's maximum. Pods that fit on no new node of any pool are reported with the
// reasons, as the scheduler words them.
func planScaleUp(pending []*v1.Pod, nodes []*v1.Node, usage map[string]nodeUsage, pools []autoscaledPool, exp *expander) scaleUpPlan {
	plan := scaleUpPlan{grow: map[string]int{}, triggered: map[types.UID]string{}, noScaleUp: map[types.UID]string{}}
	used := map[string]nodeUsage{}
	for name, u := range usage {
		used[name] = u.clone()
	}
	type newNode struct {
		pool string
		node *v1.Node
	}
	var added []newNode
	pods := slices.Clone(pending)
	slices.SortStableFunc(pods, func(a, b *v1.Pod) int {
		ra, rb := podRequests(a), podRequests(b)
		if c := rb.Cpu().Cmp(*ra.Cpu()); c != 0 {
			return c
		}
		return rb.Memory().Cmp(*ra.Memory())
	})
	place := func(pod *v1.Pod, requests v1.ResourceList, affinity nodeaffinity.RequiredNodeAffinity, node *v1.Node) bool {
		u := used[node.Name]
		if len(unfitReasons(pod, requests, affinity, node, u)) > 0 {
			return false
		}
		u.add(pod, requests)
		used[node.Name] = u
		return true
	}
next:
	for i, pod := range pods {
		requests := podRequests(pod)
		affinity := nodeaffinity.GetRequiredNodeAffinity(pod)
		for _, n := range nodes {
			if place(pod, requests, affinity, n) {
				continue next // the scheduler will find the room at its next try
			}
		}
		for _, n := range added {
			if place(pod, requests, affinity, n.node) {
				plan.triggered[pod.UID] = n.pool
				continue next
			}
		}
		reasons := map[string]int{}
		if options := expanderOptions(pools, plan.grow, pod, requests, affinity, reasons); len(options) > 0 {
			p := options[exp.choose(options, pod, pods[i:])]
			plan.grow[p.pool.Name]++
			tmpl := templateNode(p.pool)
			tmpl.Name = fmt.Sprintf("%s-new-%d", tmpl.Name, plan.grow[p.pool.Name])
			added = append(added, newNode{pool: p.pool.Name, node: tmpl})
			place(pod, requests, affinity, tmpl)
			plan.triggered[pod.UID] = p.pool.Name
			continue next
		}
		parts := make([]string, 0, len(reasons))
		for r, n := range reasons {
			parts = append(parts, fmt.Sprintf("%d %s", n, r))
		}
		slices.Sort(parts)
		if len(parts) == 0 {
			parts = []string{"no node group can take it"}
		}
		plan.noScaleUp[pod.UID] = "pod didn't trigger scale-up: " + strings.Join(parts, ", ")
	}
	return plan
}

func (u nodeUsage) clone() nodeUsage {
	c := nodeUsage{requests: u.requests.DeepCopy(), pods: u.pods}
	if u.owners != nil {
		c.owners = make(map[types.UID]int, len(u.owners))
		for k, v := range u.owners {
			c.owners[k] = v
		}
	}
	return c
}

// pendingPods are the pods the scheduler stand-in found no node for, and that are at
// least minAge old (new-pod-scale-up-delay).
func (a *autoscaler) pendingPods(minAge time.Duration) ([]*v1.Pod, error) {
	all, err := a.pods.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []*v1.Pod
	for _, p := range all {
		if p.Spec.NodeName != "" || p.DeletionTimestamp != nil || terminal(p) || !usesDefaultScheduler(p) ||
			a.clock.Since(p.CreationTimestamp.Time) < minAge {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse && c.Reason == v1.PodReasonUnschedulable {
				out = append(out, p)
				break
			}
		}
	}
	return out, nil
}

// state is the cluster as the autoscaler sees it at one scan.
type state struct {
	pools    []autoscaledPool
	nodes    []*v1.Node // live, not retired
	upcoming []*v1.Node // nodes a pool has and the cache does not show yet, as templates
	usage    map[string]nodeUsage
}

func (a *autoscaler) observe(cfg AutoscalerConfig) (*state, error) {
	st := &state{usage: a.podSim.usage()}
	for _, p := range a.nodeSim.poolList() {
		if b, ok := cfg.Pools[p.Name]; ok {
			st.pools = append(st.pools, autoscaledPool{pool: p, PoolBounds: b})
		}
	}
	nodes, err := a.nodeList.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if !a.nodeSim.retired(n) {
			st.nodes = append(st.nodes, n)
		}
	}
	slices.SortFunc(st.nodes, func(x, y *v1.Node) int { return cmp.Compare(x.Name, y.Name) })
	// A scale-up whose nodes the cache has not caught up with must not be planned again.
	seen := map[string]int{}
	for _, n := range st.nodes {
		if pool, _, ok := parseNodeName(n.Name); ok {
			seen[pool]++
		}
	}
	for _, ap := range st.pools {
		for i := seen[ap.pool.Name]; i < ap.pool.Count; i++ {
			n := templateNode(ap.pool)
			n.Name = fmt.Sprintf("%s-upcoming-%d", n.Name, i)
			st.upcoming = append(st.upcoming, n)
		}
	}
	return st, nil
}

func (a *autoscaler) scan(ctx context.Context) error {
	cfg := a.config()
	st, err := a.observe(cfg)
	if err != nil {
		return err
	}
	pending, err := a.pendingPods(cfg.Settings.NewPodScaleUpDelay)
	if err != nil {
		return err
	}
	plan := planScaleUp(pending, slices.Concat(st.nodes, st.upcoming), st.usage, st.pools, a.expander(cfg.Settings.Expander))
	byUID := map[types.UID]*v1.Pod{}
	for _, p := range pending {
		byUID[p.UID] = p
	}
	scaledUp := false
	var failed []error
	for _, ap := range st.pools {
		n := plan.grow[ap.pool.Name]
		if n == 0 {
			continue
		}
		from, to := ap.pool.Count, min(ap.pool.Count+n, ap.Max)
		reached, err := a.grow(ctx, cfg, ap.pool, to)
		triggered := func(eventType, reason, format string, args ...any) {
			for uid, pool := range plan.triggered {
				if pool == ap.pool.Name && byUID[uid] != nil {
					a.recorder.Eventf(byUID[uid], eventType, reason, format, args...)
				}
			}
		}
		if reached > from {
			scaledUp = true
			a.log.Info("cluster autoscaler scaled up", "pool", ap.pool.Name, "from", from, "to", reached)
			triggered(v1.EventTypeNormal, EventTriggeredScaleUp, "pod triggered scale-up: [{%s %d->%d (max: %d)}]", ap.pool.Name, from, reached, ap.Max)
		}
		if err != nil {
			failed = append(failed, fmt.Errorf("scale up pool %s to %d: %w", ap.pool.Name, to, err))
			triggered(v1.EventTypeWarning, EventFailedScaleUp, "pool %s could not grow from %d to %d nodes, it has %d: %v", ap.pool.Name, from, to, reached, err)
		}
	}
	a.mu.Lock()
	if scaledUp {
		a.lastUp = a.clock.Now()
	}
	for uid, msg := range plan.noScaleUp {
		if a.noticed[uid] != msg && byUID[uid] != nil {
			a.noticed[uid] = msg
			a.recorder.Event(byUID[uid], v1.EventTypeNormal, EventNotTriggerScaleUp, msg)
		}
	}
	for uid := range a.noticed {
		if byUID[uid] == nil {
			delete(a.noticed, uid)
		}
	}
	a.mu.Unlock()

	candidates := 0
	if !scaledUp && len(plan.triggered) == 0 {
		if candidates, err = a.scaleDown(ctx, cfg, st); err != nil {
			return err
		}
	}
	up := "NoActivity"
	switch {
	case len(failed) > 0:
		up = "Backoff"
	case len(plan.triggered) > 0:
		up = "InProgress"
	}
	if err := a.writeStatus(ctx, cfg, st, up, candidates); err != nil {
		return err
	}
	return errors.Join(failed...)
}

// grow grows pool toward count nodes: all the way when Resize allows it, else as far as it
// allows, trying half the remaining growth each time (a quota short of the whole step may
// still fit part of it). It returns the count reached, the pool's own when nothing was
// allowed, and the refusal of the full step, if there was one.
func (a *autoscaler) grow(ctx context.Context, cfg AutoscalerConfig, pool NodePool, count int) (int, error) {
	err := a.resize(ctx, cfg, pool, count)
	if err == nil {
		return count, nil
	}
	for step := (count - pool.Count) / 2; step > 0; step /= 2 {
		if a.resize(ctx, cfg, pool, pool.Count+step) == nil {
			return pool.Count + step, err
		}
	}
	return pool.Count, err
}

// resize records the decision with the pool's owner, then changes the pool; a shrink
// removes the leaving nodes first.
func (a *autoscaler) resize(ctx context.Context, cfg AutoscalerConfig, pool NodePool, count int, leaving ...string) error {
	if cfg.Resize != nil {
		if err := cfg.Resize(ctx, pool.Name, count); err != nil {
			return err
		}
	}
	pool.Count = count
	if err := a.nodeSim.setPool(ctx, pool, false, leaving...); err != nil {
		return err
	}
	if cfg.Resized != nil {
		cfg.Resized(ctx, pool.Name, count)
	}
	return nil
}
