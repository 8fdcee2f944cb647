package clusterruntime

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// nodeSimulator keeps the Node objects and node Leases of the simulated pools in the
// cluster, as the kubelets of real VMs would: it registers nodes, reports them Ready,
// renews their Leases, and removes nodes (and the pods bound to them) on scale-down.
type nodeSimulator struct {
	client     kubernetes.Interface
	lister     corelisters.NodeLister
	clock      clock.WithTicker
	log        *slog.Logger
	clusterUID string

	leaseInterval  time.Duration
	statusInterval time.Duration

	nodeIPs  *addressPool // by node name
	podCIDRs *subnetPool  // by node name

	// writeMu serializes the changes to the cluster: SetPool, DeletePool and the loop.
	writeMu sync.Mutex
	// leases caches the Lease last written per node, as the kubelet does, so that a
	// renewal is a single update. Guarded by writeMu.
	leases map[string]*coordinationv1.Lease

	mu      sync.RWMutex
	pools   map[string]NodePool
	managed map[string]managedNode // the nodes that should exist, by name

	wake chan struct{}
}

// managedNode is a node the simulator keeps in the cluster.
type managedNode struct {
	pool  string
	index int
}

func newNodeSimulator(client kubernetes.Interface, informer coreinformers.NodeInformer, o *Options, clusterUID string) (*nodeSimulator, error) {
	nodeIPs, err := newAddressPool(o.nodePrefix, 4) // Azure keeps the first four addresses of a subnet
	if err != nil {
		return nil, fmt.Errorf("node CIDR: %w", err)
	}
	podCIDRs, err := newSubnetPool(o.podPrefix, 24)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR: %w", err)
	}
	s := &nodeSimulator{
		client:         client,
		lister:         informer.Lister(),
		clock:          o.Clock,
		log:            o.Logger.With("component", "node-simulator"),
		clusterUID:     clusterUID,
		leaseInterval:  o.LeaseRenewInterval,
		statusInterval: o.NodeStatusInterval,
		nodeIPs:        nodeIPs,
		podCIDRs:       podCIDRs,
		leases:         map[string]*coordinationv1.Lease{},
		pools:          map[string]NodePool{},
		managed:        map[string]managedNode{},
		wake:           make(chan struct{}, 1),
	}
	// A managed node that someone deletes comes back at once, as a VM's kubelet would
	// register it again.
	_, err = informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) {
			if s.manages(objectName(obj)) {
				s.poke()
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watch nodes: %w", err)
	}
	return s, nil
}

// objectName returns the name of an object an informer handed to a handler, tombstones
// included.
func objectName(obj any) string {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if o, ok := obj.(metav1.Object); ok {
		return o.GetName()
	}
	return ""
}

func (s *nodeSimulator) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// adopt takes over the simulated nodes already in the cluster (from before a restart of
// mlfleet): their pools, addresses and pod ranges. A pool has the nodes found, whatever
// their indexes; the next SetPool brings it to the count its owner recorded. It runs
// once, before run.
func (s *nodeSimulator) adopt() error {
	nodes, err := s.lister.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list nodes: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range nodes {
		raw, ok := n.Annotations[annotationNodePool]
		if !ok {
			continue
		}
		var pool NodePool
		poolName, index, nameOK := parseNodeName(n.Name)
		if err := json.Unmarshal([]byte(raw), &pool); err != nil || !nameOK || pool.Name != poolName {
			s.log.Warn("ignoring node with an unreadable pool annotation", "node", n.Name)
			continue
		}
		pool.Count = s.pools[pool.Name].Count + 1
		s.pools[pool.Name] = pool
		s.managed[n.Name] = managedNode{pool: pool.Name, index: index}
		if ip, ok := internalIP(n); ok {
			if err := s.nodeIPs.claim(n.Name, ip); err != nil {
				s.log.Warn("node address not adopted", "node", n.Name, "error", err)
			}
		}
		if cidr, err := netip.ParsePrefix(n.Spec.PodCIDR); err == nil {
			if err := s.podCIDRs.claim(n.Name, cidr); err != nil {
				s.log.Warn("node pod range not adopted", "node", n.Name, "error", err)
			}
		}
	}
	return nil
}

func internalIP(n *v1.Node) (netip.Addr, bool) {
	for _, a := range n.Status.Addresses {
		if a.Type == v1.NodeInternalIP {
			ip, err := netip.ParseAddr(a.Address)
			return ip, err == nil
		}
	}
	return netip.Addr{}, false
}

// run renews Leases and heartbeats and repairs the cluster's nodes until ctx ends.
func (s *nodeSimulator) run(ctx context.Context) {
	tick := s.clock.NewTicker(s.leaseInterval)
	defer tick.Stop()
	for {
		s.reconcileAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C():
		case <-s.wake:
		}
	}
}

// reconcileAll brings every managed node up to date and removes simulated nodes that are
// no longer wanted. Errors are logged; the next round retries.
func (s *nodeSimulator) reconcileAll(ctx context.Context) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.RLock()
	type item struct {
		name  string
		pool  NodePool
		index int
	}
	var items []item
	for name, m := range s.managed {
		items = append(items, item{name, s.pools[m.pool], m.index})
	}
	s.mu.RUnlock()
	for _, it := range items {
		if ctx.Err() != nil {
			return
		}
		if err := s.ensureNode(ctx, it.pool, it.name); err != nil && ctx.Err() == nil {
			s.log.Warn("node not reconciled", "node", it.name, "error", err)
		}
	}
	for _, name := range s.strays() {
		if err := s.removeNode(ctx, name); err != nil && ctx.Err() == nil {
			s.log.Warn("node not removed", "node", name, "error", err)
		}
	}
}

// strays are the simulated nodes in the cluster that no pool wants.
func (s *nodeSimulator) strays() []string {
	nodes, err := s.lister.List(labels.Everything())
	if err != nil {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var names []string
	for _, n := range nodes {
		if _, ours := n.Annotations[annotationNodePool]; ours {
			if _, wanted := s.managed[n.Name]; !wanted {
				names = append(names, n.Name)
			}
		}
	}
	return names
}

// setPool creates, updates and removes the nodes of pool; with remove, the pool goes away
// with its nodes. A pool keeps the nodes it has, as a scale set keeps its instances: it
// grows by the lowest free indexes, and shrinks by the nodes named in leaving first, then
// the cordoned ones (a drain a restart interrupted), then the highest indexes.
func (s *nodeSimulator) setPool(ctx context.Context, pool NodePool, remove bool, leaving ...string) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	id := poolID(s.clusterUID, pool.Name)
	var unwanted []string
	s.mu.Lock()
	if remove {
		delete(s.pools, pool.Name)
		pool.Count = 0
	} else {
		s.pools[pool.Name] = pool
	}
	members := s.removalOrder(pool.Name, id, leaving)
	for len(members) > pool.Count {
		m := members[len(members)-1]
		members = members[:len(members)-1]
		name := nodeName(pool.Name, id, m.index)
		delete(s.managed, name)
		unwanted = append(unwanted, name)
	}
	taken := map[int]bool{}
	for _, m := range members {
		taken[m.index] = true
	}
	for i := 0; len(members) < pool.Count; i++ {
		if !taken[i] {
			m := managedNode{pool: pool.Name, index: i}
			s.managed[nodeName(pool.Name, id, i)] = m
			members = append(members, m)
		}
	}
	wanted := make([]string, 0, len(members))
	for _, m := range members {
		wanted = append(wanted, nodeName(pool.Name, id, m.index))
	}
	s.mu.Unlock()

	// Nodes of the pool that the cache knows of and the bookkeeping did not (left over
	// from an interrupted change) go as well.
	for _, name := range s.strays() {
		if p, _, ok := parseNodeName(name); ok && p == pool.Name && !slices.Contains(unwanted, name) {
			unwanted = append(unwanted, name)
		}
	}

	var errs []error
	for _, name := range wanted {
		if err := s.ensureNode(ctx, pool, name); err != nil {
			errs = append(errs, err)
		}
	}
	slices.Sort(unwanted)
	for _, name := range slices.Backward(unwanted) {
		if err := s.removeNode(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("set node pool %s: %w", pool.Name, err)
	}
	return nil
}

// removalOrder returns the nodes of a pool, those to keep first: the nodes named in
// leaving sort last, the cordoned ones before them, and among equals the highest index
// last. s.mu must be held.
func (s *nodeSimulator) removalOrder(pool, id string, leaving []string) []managedNode {
	var members []managedNode
	for _, m := range s.managed {
		if m.pool == pool {
			members = append(members, m)
		}
	}
	rank := func(m managedNode) int {
		name := nodeName(pool, id, m.index)
		if slices.Contains(leaving, name) {
			return 2
		}
		if n, err := s.lister.Get(name); err == nil && n.Spec.Unschedulable {
			return 1
		}
		return 0
	}
	slices.SortFunc(members, func(a, b managedNode) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.index, b.index))
	})
	return members
}

// ensureNode creates the node name of pool or brings it up to date, and renews its Lease
// when due.
func (s *nodeSimulator) ensureNode(ctx context.Context, pool NodePool, name string) error {
	ip, err := s.nodeIPs.assign(name)
	if err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	cidr, err := s.podCIDRs.assign(name)
	if err != nil {
		return fmt.Errorf("node %s: %w", name, err)
	}
	now := s.clock.Now()

	node, err := s.lister.Get(name)
	switch {
	case apierrors.IsNotFound(err):
		node, err = s.createNode(ctx, pool, name, ip, cidr, now)
		if err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("get node %s: %w", name, err)
	}

	nodes := s.client.CoreV1().Nodes()
	node, err = s.updateNode(ctx, node, func(n *v1.Node) *v1.Node { return s.desiredNodeMeta(n, pool) }, nodes.Update)
	if err != nil {
		return fmt.Errorf("update node %s: %w", name, err)
	}
	node, err = s.updateNode(ctx, node, func(n *v1.Node) *v1.Node { return s.desiredNodeStatus(n, pool, ip, now) }, nodes.UpdateStatus)
	if err != nil {
		return fmt.Errorf("update status of node %s: %w", name, err)
	}
	return s.renewLease(ctx, node, now)
}

// updateNode writes the change build makes to node (nil: none), with update. The lister's
// copy of a node can be a write behind (the node lifecycle controller writes nodes too):
// on a conflict the change is built again on the node as the API server has it, a few times.
func (s *nodeSimulator) updateNode(ctx context.Context, node *v1.Node, build func(*v1.Node) *v1.Node,
	update func(context.Context, *v1.Node, metav1.UpdateOptions) (*v1.Node, error)) (*v1.Node, error) {
	for attempt := 1; ; attempt++ {
		want := build(node)
		if want == nil {
			return node, nil
		}
		updated, err := update(ctx, want, metav1.UpdateOptions{})
		if err == nil {
			return updated, nil
		}
		if !apierrors.IsConflict(err) || attempt == 5 {
			return node, err
		}
		if node, err = s.client.CoreV1().Nodes().Get(ctx, node.Name, metav1.GetOptions{}); err != nil {
			return nil, err
		}
	}
}

func (s *nodeSimulator) createNode(ctx context.Context, pool NodePool, name string, ip netip.Addr, cidr netip.Prefix, now time.Time) (*v1.Node, error) {
	node := &v1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.NodeSpec{
			PodCIDR:  cidr.String(),
			PodCIDRs: []string{cidr.String()},
		},
	}
	node.Status = nodeStatus(pool, name, ip, nil, metav1.NewTime(now))
	if want := s.desiredNodeMeta(node, pool); want != nil {
		node = want
	}
	created, err := s.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = s.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("create node %s: %w", name, err)
	}
	s.log.Debug("node registered", "node", name, "pool", pool.Name)
	return created, nil
}

// removeNode deletes a node, its Lease, and the pods bound to it, which have nowhere to
// run any more (their controllers create replacements on the remaining nodes).
func (s *nodeSimulator) removeNode(ctx context.Context, name string) error {
	var errs []error
	if err := s.client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("delete node %s: %w", name, err))
	}
	if err := s.client.CoordinationV1().Leases(v1.NamespaceNodeLease).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		errs = append(errs, fmt.Errorf("delete lease of node %s: %w", name, err))
	}
	delete(s.leases, name)
	pods, err := s.client.CoreV1().Pods("").List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", name).String(),
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("list pods of node %s: %w", name, err))
	} else {
		for _, p := range pods.Items {
			err := s.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
				GracePeriodSeconds: ptr.To[int64](0),
				Preconditions:      metav1.NewUIDPreconditions(string(p.UID)),
			})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				errs = append(errs, fmt.Errorf("delete pod %s/%s of node %s: %w", p.Namespace, p.Name, name, err))
			}
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	s.nodeIPs.release(name)
	s.podCIDRs.release(name)
	s.log.Debug("node removed", "node", name, "pods", len(pods.Items))
	return nil
}

// manages tells whether name is a node the simulator keeps.
func (s *nodeSimulator) manages(name string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.managed[name]
	return ok
}

// retired tells whether node is a simulated node on its way out, where nothing should be
// scheduled any more.
func (s *nodeSimulator) retired(node *v1.Node) bool {
	_, ours := node.Annotations[annotationNodePool]
	return ours && !s.manages(node.Name)
}

// network returns the InternalIP and the pod range of a managed node.
func (s *nodeSimulator) network(name string) (hostIP netip.Addr, podCIDR netip.Prefix, ok bool) {
	if !s.manages(name) {
		return netip.Addr{}, netip.Prefix{}, false
	}
	hostIP, ok1 := s.nodeIPs.lookup(name)
	podCIDR, ok2 := s.podCIDRs.lookup(name)
	return hostIP, podCIDR, ok1 && ok2
}

// poolList returns the pools, sorted by name.
func (s *nodeSimulator) poolList() []NodePool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	pools := make([]NodePool, 0, len(s.pools))
	for _, p := range s.pools {
		pools = append(pools, p)
	}
	slices.SortFunc(pools, func(a, b NodePool) int { return strings.Compare(a.Name, b.Name) })
	return pools
}
