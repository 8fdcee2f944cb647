package clusterruntime

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/utils/clock"
)

// Events and objects of the cluster autoscaler, named as cluster-autoscaler names them.
const (
	EventTriggeredScaleUp  = "TriggeredScaleUp"
	EventNotTriggerScaleUp = "NotTriggerScaleUp"
	EventScaleDown         = "ScaleDown"
	// AutoscalerStatusConfigMap is the ConfigMap in kube-system where the autoscaler
	// writes its status.
	AutoscalerStatusConfigMap = "cluster-autoscaler-status"
	autoscalerComponent       = "cluster-autoscaler"
	reasonMaxSizeReached      = "max node group size reached"
)

// AutoscalerSettings are the settings of a cluster's autoscaler (AKS's autoScalerProfile).
type AutoscalerSettings struct {
	// ScanInterval is how often pending pods and idle nodes are looked at. Zero means 10s.
	ScanInterval time.Duration
	// ScaleDownDelayAfterAdd is how long after a scale-up no node is removed.
	ScaleDownDelayAfterAdd time.Duration
	// ScaleDownUnneededTime is how long a node must stay under the threshold before it goes.
	ScaleDownUnneededTime time.Duration
	// ScaleDownDelayAfterFailure is how long after a failed drain (an eviction refused,
	// say by a PodDisruptionBudget) no node is removed.
	ScaleDownDelayAfterFailure time.Duration
	// UtilizationThreshold is the share of a node's allocatable cpu and memory that its
	// pods' requests must stay under for the node to be unneeded. Zero means 0.5.
	UtilizationThreshold float64
	// MaxGracefulTermination bounds how long a drain waits for the evicted pods to go.
	// Zero means 10m.
	MaxGracefulTermination time.Duration
	// Expander picks the pool to grow when several would take a pod: ExpanderRandom
	// (also ""), ExpanderLeastWaste or ExpanderMostPods.
	Expander string
}

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
	clock    clock.WithTicker
	log      *slog.Logger

	mu      sync.Mutex
	cfg     AutoscalerConfig
	wake    chan struct{}
	lastUp  time.Time
	failed  time.Time            // last failed scale-down
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

// pendingPods are the pods the scheduler stand-in found no node for.
func (a *autoscaler) pendingPods() ([]*v1.Pod, error) {
	all, err := a.pods.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []*v1.Pod
	for _, p := range all {
		if p.Spec.NodeName != "" || p.DeletionTimestamp != nil || terminal(p) || !usesDefaultScheduler(p) {
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
	pending, err := a.pendingPods()
	if err != nil {
		return err
	}
	plan := planScaleUp(pending, slices.Concat(st.nodes, st.upcoming), st.usage, st.pools, a.expander(cfg.Settings.Expander))
	byUID := map[types.UID]*v1.Pod{}
	for _, p := range pending {
		byUID[p.UID] = p
	}
	scaledUp := false
	for _, ap := range st.pools {
		n := plan.grow[ap.pool.Name]
		if n == 0 {
			continue
		}
		from, to := ap.pool.Count, min(ap.pool.Count+n, ap.Max)
		if err := a.resize(ctx, cfg, ap.pool, to); err != nil {
			return fmt.Errorf("scale up pool %s to %d: %w", ap.pool.Name, to, err)
		}
		scaledUp = true
		a.log.Info("cluster autoscaler scaled up", "pool", ap.pool.Name, "from", from, "to", to)
		for uid, pool := range plan.triggered {
			if pool == ap.pool.Name && byUID[uid] != nil {
				a.recorder.Eventf(byUID[uid], v1.EventTypeNormal, EventTriggeredScaleUp,
					"pod triggered scale-up: [{%s %d->%d (max: %d)}]", ap.pool.Name, from, to, ap.Max)
			}
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
	return a.writeStatus(ctx, cfg, st, len(plan.triggered) > 0, candidates)
}

// resize records the decision with the pool's owner, then changes the pool.
func (a *autoscaler) resize(ctx context.Context, cfg AutoscalerConfig, pool NodePool, count int) error {
	if cfg.Resize != nil {
		if err := cfg.Resize(ctx, pool.Name, count); err != nil {
			return err
		}
	}
	pool.Count = count
	return a.nodeSim.setPool(ctx, pool, false)
}

// writeStatus keeps kube-system/cluster-autoscaler-status up to date, in the spirit of
// cluster-autoscaler's status text.
func (a *autoscaler) writeStatus(ctx context.Context, cfg AutoscalerConfig, st *state, scaleUpInProgress bool, candidates int) error {
	var b strings.Builder
	ready := 0
	for _, n := range st.nodes {
		if nodeReady(n) {
			ready++
		}
	}
	up, down := "NoActivity", "NoCandidates"
	if scaleUpInProgress {
		up = "InProgress"
	}
	if candidates > 0 {
		down = fmt.Sprintf("CandidatesPresent (candidates=%d)", candidates)
	}
	fmt.Fprintf(&b, "Cluster-wide:\n  Health:    Healthy (ready=%d registered=%d)\n  ScaleUp:   %s\n  ScaleDown: %s\n\nNodeGroups:\n", ready, len(st.nodes), up, down)
	for _, p := range st.pools {
		fmt.Fprintf(&b, "  Name:   %s\n  Health: Healthy (ready=%d registered=%d cloudProviderTarget=%d (minSize=%d, maxSize=%d))\n",
			p.pool.Name, p.pool.Count, p.pool.Count, p.pool.Count, p.Min, p.Max)
	}
	body := b.String()
	a.mu.Lock()
	same := body == a.status
	a.mu.Unlock()
	if same {
		return nil
	}
	text := fmt.Sprintf("Cluster-autoscaler status at %s:\n%s", a.clock.Now().UTC().Format(time.RFC3339), body)
	cms := a.client.CoreV1().ConfigMaps(metav1.NamespaceSystem)
	cm, err := cms.Get(ctx, AutoscalerStatusConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		cm = &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: AutoscalerStatusConfigMap, Namespace: metav1.NamespaceSystem},
			Data: map[string]string{"status": text}}
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	case err == nil:
		cm.Data = map[string]string{"status": text}
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", AutoscalerStatusConfigMap, err)
	}
	a.mu.Lock()
	a.status = body
	a.mu.Unlock()
	return nil
}

// scaleDown removes at most one node per scan: the last node of an autoscaled pool above
// its minimum (SetPool removes the highest indexes), once its pods' requests have stayed
// under the utilization threshold for the unneeded time and they all fit on the other
// nodes. The node is cordoned, its pods are evicted through the eviction API (so that
// PodDisruptionBudgets hold; a refusal leaves the node and uncordons it), and once they
// are gone the pool shrinks. Nothing is removed within the delay after a scale-up. It
// returns how many nodes are candidates.
func (a *autoscaler) scaleDown(ctx context.Context, cfg AutoscalerConfig, st *state) (int, error) {
	now := a.clock.Now()
	a.mu.Lock()
	recentUp := !a.lastUp.IsZero() && now.Sub(a.lastUp) < cfg.Settings.ScaleDownDelayAfterAdd ||
		!a.failed.IsZero() && now.Sub(a.failed) < cfg.Settings.ScaleDownDelayAfterFailure
	a.mu.Unlock()
	// Every underused node of an autoscaled pool starts its unneeded time now, so that
	// the nodes below the last one are ready to go one after the other.
	autoscaled := map[string]autoscaledPool{}
	for _, ap := range st.pools {
		autoscaled[ap.pool.Name] = ap
	}
	seen := map[string]bool{}
	a.mu.Lock()
	for _, n := range st.nodes {
		pool, _, ok := parseNodeName(n.Name)
		if _, auto := autoscaled[pool]; !ok || !auto {
			continue
		}
		if utilization(n, st.usage[n.Name]) < cfg.Settings.UtilizationThreshold && movable(a.podsOn(n.Name)) {
			seen[n.Name] = true
			if _, ok := a.since[n.Name]; !ok {
				a.since[n.Name] = now
			}
		}
	}
	for name := range a.since {
		if !seen[name] {
			delete(a.since, name)
		}
	}
	since := maps.Clone(a.since)
	a.mu.Unlock()

	for _, ap := range st.pools {
		if ap.pool.Count <= ap.Min {
			continue
		}
		name := nodeName(ap.pool.Name, poolID(a.nodeSim.clusterUID, ap.pool.Name), ap.pool.Count-1)
		i := slices.IndexFunc(st.nodes, func(n *v1.Node) bool { return n.Name == name })
		if i < 0 || !seen[name] || recentUp || now.Sub(since[name]) < cfg.Settings.ScaleDownUnneededTime {
			continue
		}
		node, pods := st.nodes[i], a.podsOn(name)
		others := slices.Delete(slices.Clone(st.nodes), i, i+1)
		if !fitElsewhere(pods, others, st.usage) {
			continue
		}
		if err := a.drain(ctx, cfg, node, pods); err != nil {
			a.mu.Lock()
			a.failed = now
			a.mu.Unlock()
			return len(seen), err
		}
		if err := a.resize(ctx, cfg, ap.pool, ap.pool.Count-1); err != nil {
			return len(seen), errors.Join(fmt.Errorf("scale down pool %s to %d: %w", ap.pool.Name, ap.pool.Count-1, err), a.cordon(ctx, name, false))
		}
		a.log.Info("cluster autoscaler scaled down", "pool", ap.pool.Name, "node", name, "to", ap.pool.Count-1)
		a.recorder.Eventf(node, v1.EventTypeNormal, EventScaleDown, "node removed by cluster autoscaler: %s %d->%d (min: %d)",
			ap.pool.Name, ap.pool.Count, ap.pool.Count-1, ap.Min)
		a.mu.Lock()
		delete(a.since, name)
		a.mu.Unlock()
		break
	}
	return len(seen), nil
}

// podsOn returns the pods bound to a node that still run.
func (a *autoscaler) podsOn(node string) []*v1.Pod {
	objs, err := a.podSim.podIndex.ByIndex(podsByNodeIndex, node)
	if err != nil {
		return nil
	}
	var out []*v1.Pod
	for _, o := range objs {
		if p, ok := o.(*v1.Pod); ok && !terminal(p) && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// utilization is the larger share of the node's allocatable cpu and memory that the
// requests of its pods take.
func utilization(node *v1.Node, used nodeUsage) float64 {
	var worst float64
	for _, name := range []v1.ResourceName{v1.ResourceCPU, v1.ResourceMemory} {
		alloc := node.Status.Allocatable[name]
		if alloc.IsZero() {
			continue
		}
		q := used.requests[name]
		worst = max(worst, float64(q.MilliValue())/float64(alloc.MilliValue()))
	}
	return worst
}

// movable tells whether every pod of a node would come back elsewhere: pods of a
// controller other than a DaemonSet (which runs on every node anyway) outside kube-system.
// A bare pod, or a system pod, keeps its node, as cluster-autoscaler's defaults do.
func movable(pods []*v1.Pod) bool {
	for _, p := range pods {
		if daemonSetPod(p) {
			continue
		}
		if controllerOf(p) == "" || p.Namespace == metav1.NamespaceSystem {
			return false
		}
	}
	return true
}

func daemonSetPod(p *v1.Pod) bool {
	for _, ref := range p.OwnerReferences {
		if ref.Controller != nil && *ref.Controller && ref.Kind == "DaemonSet" {
			return true
		}
	}
	return false
}

// fitElsewhere tells whether the pods (but DaemonSet pods) fit on nodes next to what they run.
func fitElsewhere(pods []*v1.Pod, nodes []*v1.Node, usage map[string]nodeUsage) bool {
	used := map[string]nodeUsage{}
	for name, u := range usage {
		used[name] = u.clone()
	}
next:
	for _, pod := range pods {
		if daemonSetPod(pod) {
			continue
		}
		requests := podRequests(pod)
		affinity := nodeaffinity.GetRequiredNodeAffinity(pod)
		for _, n := range nodes {
			u := used[n.Name]
			if len(unfitReasons(pod, requests, affinity, n, u)) == 0 {
				u.add(pod, requests)
				used[n.Name] = u
				continue next
			}
		}
		return false
	}
	return true
}

// drain cordons node and evicts its pods, waiting up to the graceful termination limit
// for them to go. A refused eviction (a PodDisruptionBudget) uncordons the node.
func (a *autoscaler) drain(ctx context.Context, cfg AutoscalerConfig, node *v1.Node, pods []*v1.Pod) error {
	if err := a.cordon(ctx, node.Name, true); err != nil {
		return err
	}
	a.recorder.Event(node, v1.EventTypeNormal, EventScaleDown, "marked the node as toBeDeleted/unschedulable")
	for _, p := range pods {
		if daemonSetPod(p) {
			continue
		}
		// The pod's own grace period, capped by max-graceful-termination-sec.
		grace := int64(cfg.Settings.MaxGracefulTermination / time.Second)
		if g := p.Spec.TerminationGracePeriodSeconds; g != nil && *g < grace {
			grace = *g
		}
		err := a.client.PolicyV1().Evictions(p.Namespace).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace},
			DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: &grace}})
		switch {
		case err == nil, apierrors.IsNotFound(err):
		default:
			a.recorder.Eventf(p, v1.EventTypeWarning, EventScaleDown, "failed to evict pod for scale-down: %v", err)
			if uerr := a.cordon(ctx, node.Name, false); uerr != nil {
				return uerr
			}
			return fmt.Errorf("drain node %s: evict pod %s: %w", node.Name, podKey(p), err)
		}
		a.recorder.Event(p, v1.EventTypeNormal, EventScaleDown, "deleting pod for node scale down")
	}
	deadline := a.clock.Now().Add(cfg.Settings.MaxGracefulTermination)
	for {
		left := 0
		for _, p := range a.podsOn(node.Name) {
			if !daemonSetPod(p) {
				left++
			}
		}
		if left == 0 {
			return nil
		}
		if a.clock.Now().After(deadline) {
			return fmt.Errorf("drain node %s: %d pods still there after %v", node.Name, left, cfg.Settings.MaxGracefulTermination)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.clock.After(100 * time.Millisecond):
		}
	}
}

// cordon marks a node unschedulable (or schedulable again).
func (a *autoscaler) cordon(ctx context.Context, name string, on bool) error {
	node, err := a.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("cordon node %s: %w", name, err)
	}
	if node.Spec.Unschedulable == on {
		return nil
	}
	node.Spec.Unschedulable = on
	if _, err := a.client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("cordon node %s: %w", name, err)
	}
	return nil
}
