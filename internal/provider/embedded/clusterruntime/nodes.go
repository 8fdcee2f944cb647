package clusterruntime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	"k8s.io/apimachinery/pkg/api/equality"
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

// nodeLeaseDuration is the leaseDurationSeconds of node Leases, the kubelet default.
const nodeLeaseDuration = 40

// Node facts that a real node would report and that the simulation makes up.
const (
	simulatedOSImage          = "Ubuntu 22.04.5 LTS"
	simulatedKernelVersion    = "5.15.0-1079-azure"
	simulatedContainerRuntime = "containerd://1.7.27-1"
	kubeletPort               = 10250
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
// mlfleet): their pools, addresses and pod ranges. It runs once, before run.
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
		pool.Count = max(s.pools[pool.Name].Count, index+1)
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
	// Pools with holes (a node deleted meanwhile) get them filled by the loop.
	for name, pool := range s.pools {
		id := poolID(s.clusterUID, name)
		for i := range pool.Count {
			s.managed[nodeName(name, id, i)] = managedNode{pool: name, index: i}
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
// with its nodes.
func (s *nodeSimulator) setPool(ctx context.Context, pool NodePool, remove bool) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	id := poolID(s.clusterUID, pool.Name)
	var wanted, unwanted []string
	s.mu.Lock()
	if remove {
		delete(s.pools, pool.Name)
	} else {
		s.pools[pool.Name] = pool
	}
	for i := range pool.Count {
		name := nodeName(pool.Name, id, i)
		s.managed[name] = managedNode{pool: pool.Name, index: i}
		wanted = append(wanted, name)
	}
	for name, m := range s.managed {
		if m.pool == pool.Name && m.index >= pool.Count {
			delete(s.managed, name)
			unwanted = append(unwanted, name)
		}
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

	if want := s.desiredNodeMeta(node, pool); want != nil {
		if node, err = s.client.CoreV1().Nodes().Update(ctx, want, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update node %s: %w", name, err)
		}
	}
	if want := s.desiredNodeStatus(node, pool, ip, now); want != nil {
		if node, err = s.client.CoreV1().Nodes().UpdateStatus(ctx, want, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("update status of node %s: %w", name, err)
		}
	}
	return s.renewLease(ctx, node, now)
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

// desiredNodeMeta returns a copy of node with the labels, annotation and taints the
// simulation wants, or nil when node already has them. Labels and taints that others
// added stay.
func (s *nodeSimulator) desiredNodeMeta(node *v1.Node, pool NodePool) *v1.Node {
	spec, err := json.Marshal(poolSpec(pool))
	if err != nil {
		panic(err) // a struct of strings and numbers always marshals
	}
	want := node.DeepCopy()
	if want.Labels == nil {
		want.Labels = map[string]string{}
	}
	for k, v := range nodeLabels(pool, node.Name) {
		want.Labels[k] = v
	}
	if pool.Location == "" {
		delete(want.Labels, v1.LabelTopologyRegion)
		delete(want.Labels, labelBetaRegion)
	}
	if pool.GPUs == 0 {
		delete(want.Labels, labelAccelerator)
	}
	if want.Annotations == nil {
		want.Annotations = map[string]string{}
	}
	want.Annotations[annotationNodePool] = string(spec)
	// The TaintNodesByCondition admission plugin taints every new node not-ready; the node
	// lifecycle controller, which does not run here, lifts the taint once the node is Ready.
	want.Spec.Taints = slices.DeleteFunc(want.Spec.Taints, func(t v1.Taint) bool {
		return t.Key == v1.TaintNodeNotReady || t.Key == v1.TaintNodeUnreachable
	})
	if len(want.Spec.Taints) == 0 {
		want.Spec.Taints = nil
	}
	if equality.Semantic.DeepEqual(want.ObjectMeta, node.ObjectMeta) && equality.Semantic.DeepEqual(want.Spec, node.Spec) {
		return nil
	}
	return want
}

// poolSpec is what the pool annotation records: the pool without its count, which is
// inferred from the nodes.
func poolSpec(p NodePool) NodePool {
	p.Count = 0
	return p
}

// desiredNodeStatus returns a copy of node with the status the simulation wants, or nil
// when node already has it and its heartbeat is recent enough.
func (s *nodeSimulator) desiredNodeStatus(node *v1.Node, pool NodePool, ip netip.Addr, now time.Time) *v1.Node {
	want := node.DeepCopy()
	want.Status = nodeStatus(pool, node.Name, ip, node.Status.Conditions, metav1.NewTime(now))
	// The heartbeat alone is written every statusInterval (the kubelet's
	// nodeStatusReportFrequency); anything else at once.
	withOldHeartbeats := want.Status.DeepCopy()
	withOldHeartbeats.Conditions = node.Status.Conditions
	if equality.Semantic.DeepEqual(*withOldHeartbeats, node.Status) && sameConditions(want.Status.Conditions, node.Status.Conditions) {
		if hb, ok := readyHeartbeat(node); ok && now.Sub(hb) < s.statusInterval {
			return nil
		}
	}
	return want
}

// sameConditions tells whether two condition lists agree on everything but heartbeats.
func sameConditions(a, b []v1.NodeCondition) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		x.LastHeartbeatTime, y.LastHeartbeatTime = metav1.Time{}, metav1.Time{}
		if !equality.Semantic.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

func readyHeartbeat(node *v1.Node) (time.Time, bool) {
	for _, c := range node.Status.Conditions {
		if c.Type == v1.NodeReady {
			return c.LastHeartbeatTime.Time, true
		}
	}
	return time.Time{}, false
}

// nodeStatus is the status a healthy AKS node of pool reports. Transition times of
// conditions that keep their status are taken from old.
func nodeStatus(pool NodePool, name string, ip netip.Addr, old []v1.NodeCondition, now metav1.Time) v1.NodeStatus {
	cond := func(t v1.NodeConditionType, status v1.ConditionStatus, reason, message string) v1.NodeCondition {
		c := v1.NodeCondition{Type: t, Status: status, Reason: reason, Message: message, LastHeartbeatTime: now, LastTransitionTime: now}
		for _, o := range old {
			if o.Type == t && o.Status == status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		return c
	}
	ids := sha256.Sum256([]byte(name))
	hexID := hex.EncodeToString(ids[:16])
	uuid := hexID[0:8] + "-" + hexID[8:12] + "-" + hexID[12:16] + "-" + hexID[16:20] + "-" + hexID[20:32]
	return v1.NodeStatus{
		Capacity:    nodeCapacity(pool),
		Allocatable: nodeAllocatable(pool),
		Conditions: []v1.NodeCondition{
			cond(v1.NodeNetworkUnavailable, v1.ConditionFalse, "RouteCreated", "RouteController created a route"),
			cond(v1.NodeMemoryPressure, v1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			cond(v1.NodeDiskPressure, v1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			cond(v1.NodePIDPressure, v1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			cond(v1.NodeReady, v1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
		},
		Addresses: []v1.NodeAddress{
			{Type: v1.NodeInternalIP, Address: ip.String()},
			{Type: v1.NodeHostName, Address: name},
		},
		DaemonEndpoints: v1.NodeDaemonEndpoints{KubeletEndpoint: v1.DaemonEndpoint{Port: kubeletPort}},
		NodeInfo: v1.NodeSystemInfo{
			MachineID:               hexID,
			SystemUUID:              uuid,
			BootID:                  uuid,
			KernelVersion:           simulatedKernelVersion,
			OSImage:                 simulatedOSImage,
			ContainerRuntimeVersion: simulatedContainerRuntime,
			KubeletVersion:          "v" + pool.KubernetesVersion,
			OperatingSystem:         "linux",
			Architecture:            "amd64",
		},
	}
}

// renewLease renews the node's Lease in kube-node-lease when it is due, creating it if
// it is missing. The Lease is owned by the node, so the garbage collector removes it
// with the node.
func (s *nodeSimulator) renewLease(ctx context.Context, node *v1.Node, now time.Time) error {
	leases := s.client.CoordinationV1().Leases(v1.NamespaceNodeLease)
	cached := s.leases[node.Name]
	ownedByNode := cached != nil && len(cached.OwnerReferences) == 1 && cached.OwnerReferences[0].UID == node.UID
	if ownedByNode && cached.Spec.RenewTime != nil && now.Sub(cached.Spec.RenewTime.Time) < s.leaseInterval*3/4 {
		return nil
	}
	want := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Name:      node.Name,
			Namespace: v1.NamespaceNodeLease,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID,
			}},
		},
		Spec: coordinationv1.LeaseSpec{
			HolderIdentity:       ptr.To(node.Name),
			LeaseDurationSeconds: ptr.To[int32](nodeLeaseDuration),
			RenewTime:            &metav1.MicroTime{Time: now},
		},
	}
	if cached != nil {
		want.ResourceVersion = cached.ResourceVersion
		lease, err := leases.Update(ctx, want, metav1.UpdateOptions{})
		if err == nil {
			s.leases[node.Name] = lease
			return nil
		}
		if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("renew lease of node %s: %w", node.Name, err)
		}
		// Someone else changed or removed it: start over from the server's copy.
		delete(s.leases, node.Name)
	}
	current, err := leases.Get(ctx, node.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		want.ResourceVersion = ""
		lease, err := leases.Create(ctx, want, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create lease of node %s: %w", node.Name, err)
		}
		s.leases[node.Name] = lease
		return nil
	case err != nil:
		return fmt.Errorf("get lease of node %s: %w", node.Name, err)
	}
	want.ResourceVersion = current.ResourceVersion
	lease, err := leases.Update(ctx, want, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("renew lease of node %s: %w", node.Name, err)
	}
	s.leases[node.Name] = lease
	return nil
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
