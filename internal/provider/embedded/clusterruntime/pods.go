package clusterruntime

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/mlfleet/mlfleet/internal/kube"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// defaultSchedulerName is the scheduler the pod simulator stands in for.
const defaultSchedulerName = v1.DefaultSchedulerName

// podsByNodeIndex indexes pods by spec.nodeName.
const podsByNodeIndex = "mlfleet.io/node-name"

// podSimulator stands in for kube-scheduler and for the kubelets of the simulated nodes.
// As the scheduler, it binds pending pods to nodes with room for them (pods/binding, as
// the real one), or marks them unschedulable. As the kubelets, it starts the pods bound to
// simulated nodes (status Running and Ready, with a pod IP from the node's range) and
// finishes the deletion of the ones being deleted.
//
// One worker handles one pod at a time, so a placement always sees the ones before it.
type podSimulator struct {
	client   kubernetes.Interface
	pods     corelisters.PodLister
	podIndex cache.Indexer
	nodes    corelisters.NodeLister
	sim      *nodeSimulator
	recorder record.EventRecorder
	clock    clock.Clock
	log      *slog.Logger
	retry    time.Duration

	queue keyQueue

	mu sync.Mutex
	// assumed are pods bound by this simulator whose binding the cache has not shown yet:
	// placements must count them, or a burst of replicas would all land on one node.
	assumed map[types.UID]assumedPod
	// unschedulable are the keys of pods that fit nowhere, tried again when the cluster
	// changes and every retry interval.
	unschedulable map[string]struct{}
	// podIPs are the address pools of the nodes' pod ranges, by node name.
	podIPs map[string]*addressPool

	// procs runs the pods asking for a local inference process; nil without
	// Options.DataDir.
	procs *podProcesses
}

type assumedPod struct {
	node     string
	pod      *v1.Pod
	requests v1.ResourceList
}

func newPodSimulator(client kubernetes.Interface, podInformer coreinformers.PodInformer, nodeInformer coreinformers.NodeInformer,
	sim *nodeSimulator, recorder record.EventRecorder, o *Options) (*podSimulator, error) {
	s := &podSimulator{
		client:        client,
		pods:          podInformer.Lister(),
		nodes:         nodeInformer.Lister(),
		sim:           sim,
		recorder:      recorder,
		clock:         o.Clock,
		log:           o.Logger.With("component", "pod-simulator"),
		retry:         o.SchedulingRetryInterval,
		queue:         newKeyQueue("mlfleet_pod_simulator", "pod"),
		assumed:       map[types.UID]assumedPod{},
		unschedulable: map[string]struct{}{},
		podIPs:        map[string]*addressPool{},
	}
	s.procs = newPodProcesses(o, func(key string) { s.queue.Add(key) })
	err := podInformer.Informer().AddIndexers(cache.Indexers{podsByNodeIndex: func(obj any) ([]string, error) {
		if p, ok := obj.(*v1.Pod); ok && p.Spec.NodeName != "" {
			return []string{p.Spec.NodeName}, nil
		}
		return nil, nil
	}})
	if err != nil {
		return nil, fmt.Errorf("index pods by node: %w", err)
	}
	s.podIndex = podInformer.Informer().GetIndexer()

	_, err = podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: s.queue.enqueue,
		UpdateFunc: func(_, obj any) {
			if p, ok := obj.(*v1.Pod); ok && p.Spec.NodeName != "" {
				s.mu.Lock()
				delete(s.assumed, p.UID)
				s.mu.Unlock()
			}
			s.queue.enqueue(obj)
		},
		DeleteFunc: s.podDeleted,
	})
	if err != nil {
		return nil, fmt.Errorf("watch pods: %w", err)
	}
	_, err = nodeInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { s.retryUnschedulable() },
		UpdateFunc: func(old, cur any) {
			if o, ok := old.(*v1.Node); ok {
				if n, ok := cur.(*v1.Node); ok && schedulingChanged(o, n) {
					s.retryUnschedulable()
				}
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watch nodes: %w", err)
	}
	return s, nil
}

// schedulingChanged tells whether a node update can make a pending pod fit (heartbeats
// cannot).
func schedulingChanged(old, cur *v1.Node) bool {
	return kube.NodeReady(old) != kube.NodeReady(cur) ||
		old.Spec.Unschedulable != cur.Spec.Unschedulable ||
		!labels.Equals(old.Labels, cur.Labels) ||
		!slices.EqualFunc(old.Spec.Taints, cur.Spec.Taints, func(a, b v1.Taint) bool { return a.MatchTaint(&b) && a.Value == b.Value }) ||
		!equalResources(old.Status.Allocatable, cur.Status.Allocatable)
}

func equalResources(a, b v1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, q := range a {
		if r, ok := b[k]; !ok || q.Cmp(r) != 0 {
			return false
		}
	}
	return true
}

func (s *podSimulator) podDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*v1.Pod)
	if !ok {
		return
	}
	s.mu.Lock()
	delete(s.assumed, pod.UID)
	delete(s.unschedulable, podKey(pod))
	if ips := s.podIPs[pod.Spec.NodeName]; ips != nil {
		ips.release(string(pod.UID))
	}
	s.mu.Unlock()
	if s.procs != nil {
		s.procs.stopDeleted(pod.UID)
	}
	// The room the pod took is free again.
	if pod.Spec.NodeName != "" {
		s.retryUnschedulable()
	}
}

func podKey(pod *v1.Pod) string { return pod.Namespace + "/" + pod.Name }

// retryUnschedulable queues the pods that fit nowhere for another try.
func (s *podSimulator) retryUnschedulable() {
	s.mu.Lock()
	keys := make([]string, 0, len(s.unschedulable))
	for k := range s.unschedulable {
		keys = append(keys, k)
	}
	s.mu.Unlock()
	for _, k := range keys {
		s.queue.Add(k)
	}
}

// adopt records the pod IPs already handed out (before a restart), so that no new pod
// gets one of them. It runs once, before run.
func (s *podSimulator) adopt() error {
	pods, err := s.pods.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	for _, p := range pods {
		if p.Spec.NodeName == "" || p.Status.PodIP == "" || p.Spec.HostNetwork || terminal(p) {
			continue
		}
		ip, err := netip.ParseAddr(p.Status.PodIP)
		if err != nil {
			continue
		}
		if ips := s.podIPPool(p.Spec.NodeName); ips != nil && ips.contains(ip) {
			if err := ips.claim(string(p.UID), ip); err != nil {
				s.log.Warn("pod address not adopted", "pod", podKey(p), "error", err)
			}
		}
	}
	return nil
}

// podIPPool returns the address pool of a managed node's pod range, nil for other nodes.
func (s *podSimulator) podIPPool(node string) *addressPool {
	_, cidr, ok := s.sim.network(node)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.podIPs[node]; p != nil && p.prefix == cidr {
		return p
	}
	// kubenet gives the bridge the first address of the range, pods the rest.
	p, err := newAddressPool(cidr, 2)
	if err != nil {
		return nil
	}
	s.podIPs[node] = p
	return p
}

// run works the queue, and retries the unschedulable pods, until ctx ends.
func (s *podSimulator) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { s.queue.run(ctx, s.log, s.sync) })
	wg.Go(func() { wait.Until(s.retryUnschedulable, s.retry, ctx.Done()) })
	<-ctx.Done()
	if s.procs != nil {
		// The processes stop with the runtime; their pods keep their status, and the
		// next runtime on the cluster starts them again.
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		s.procs.stopAll(stopCtx)
	}
}

// sync does what the scheduler or the kubelet would do next for one pod.
func (s *podSimulator) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := s.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		s.mu.Lock()
		delete(s.unschedulable, key)
		s.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	node := pod.Spec.NodeName
	s.mu.Lock()
	if a, ok := s.assumed[pod.UID]; ok && node == "" {
		node = a.node // bound by us; the cache has not caught up
	}
	s.mu.Unlock()

	switch {
	case node == "":
		if pod.DeletionTimestamp != nil || terminal(pod) || !usesDefaultScheduler(pod) {
			return nil
		}
		return s.schedule(ctx, pod)
	case !s.sim.manages(node):
		if s.onRemovedSimulatedNode(node) {
			// What the pod garbage collector does for pods of deleted nodes.
			return s.forceDelete(ctx, pod)
		}
		return nil // a node that someone else runs
	case pod.DeletionTimestamp != nil:
		if s.procs != nil {
			// As a kubelet, stop the containers before the pod goes.
			if err := s.procs.stop(ctx, pod.UID, true); err != nil {
				return err
			}
		}
		return s.forceDelete(ctx, pod)
	case terminal(pod) || pod.Spec.NodeName == "":
		return nil
	case runsProcess(pod) && s.procs != nil:
		return s.startProcessPod(ctx, pod)
	default:
		return s.start(ctx, pod)
	}
}

// onRemovedSimulatedNode tells whether name is a simulated node of this cluster that
// has been removed from its pool: still there on its way out, or gone.
func (s *podSimulator) onRemovedSimulatedNode(name string) bool {
	n, err := s.nodes.Get(name)
	if err == nil {
		return s.sim.retired(n)
	}
	if !apierrors.IsNotFound(err) {
		return false
	}
	m := nodeNamePattern.FindStringSubmatch(name)
	return m != nil && m[2] == poolID(s.sim.clusterUID, m[1])
}

// podsOn returns the pods bound to a node that still run.
func (s *podSimulator) podsOn(node string) []*v1.Pod {
	objs, err := s.podIndex.ByIndex(podsByNodeIndex, node)
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

func terminal(pod *v1.Pod) bool {
	return pod.Status.Phase == v1.PodSucceeded || pod.Status.Phase == v1.PodFailed
}

func usesDefaultScheduler(pod *v1.Pod) bool {
	return pod.Spec.SchedulerName == "" || pod.Spec.SchedulerName == defaultSchedulerName
}

// schedule binds pod to the best node with room for it, or records why there is none.
func (s *podSimulator) schedule(ctx context.Context, pod *v1.Pod) error {
	nodes, err := s.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	requests := podRequests(pod)
	affinity := nodeaffinity.GetRequiredNodeAffinity(pod)
	usage := s.usage()
	reasons := map[string]int{}
	var fits []placement
	considered := 0
	for _, n := range nodes {
		if s.sim.retired(n) {
			continue
		}
		considered++
		why := unfitReasons(pod, requests, affinity, n, usage[n.Name])
		if len(why) == 0 {
			fits = append(fits, placement{node: n, used: usage[n.Name]})
			continue
		}
		for _, r := range why {
			reasons[r]++
		}
	}
	if len(fits) == 0 {
		return s.markUnschedulable(ctx, pod, unschedulableMessage(considered, reasons))
	}
	best := slices.MinFunc(fits, betterPlacement(controllerOf(pod), requests))

	binding := &v1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     v1.ObjectReference{Kind: "Node", Name: best.node.Name},
	}
	err = s.client.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{})
	switch {
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		// Deleted meanwhile, or bound by someone else: the next event tells.
		return nil
	case err != nil:
		return fmt.Errorf("bind pod %s to %s: %w", podKey(pod), best.node.Name, err)
	}
	s.mu.Lock()
	s.assumed[pod.UID] = assumedPod{node: best.node.Name, pod: pod, requests: requests}
	delete(s.unschedulable, podKey(pod))
	s.mu.Unlock()
	s.recorder.Eventf(pod, v1.EventTypeNormal, "Scheduled", "Successfully assigned %s to %s", podKey(pod), best.node.Name)
	return nil
}

// usage sums up, per node, what the pods placed there take.
func (s *podSimulator) usage() map[string]nodeUsage {
	usage := map[string]nodeUsage{}
	for _, node := range s.podIndex.ListIndexFuncValues(podsByNodeIndex) {
		objs, err := s.podIndex.ByIndex(podsByNodeIndex, node)
		if err != nil {
			continue
		}
		u := usage[node]
		for _, obj := range objs {
			if p, ok := obj.(*v1.Pod); ok && !terminal(p) {
				u.add(p, podRequests(p))
			}
		}
		usage[node] = u
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.assumed {
		u := usage[a.node]
		u.add(a.pod, a.requests)
		usage[a.node] = u
	}
	return usage
}

// markUnschedulable sets the pod's PodScheduled condition to False, reason
// Unschedulable, as kube-scheduler does, and remembers to try again.
func (s *podSimulator) markUnschedulable(ctx context.Context, pod *v1.Pod, message string) error {
	s.mu.Lock()
	s.unschedulable[podKey(pod)] = struct{}{}
	s.mu.Unlock()
	for _, c := range pod.Status.Conditions {
		if c.Type == v1.PodScheduled && c.Status == v1.ConditionFalse && c.Reason == v1.PodReasonUnschedulable && c.Message == message {
			return nil // already said
		}
	}
	updated := pod.DeepCopy()
	setPodCondition(&updated.Status, v1.PodCondition{
		Type:               v1.PodScheduled,
		Status:             v1.ConditionFalse,
		Reason:             v1.PodReasonUnschedulable,
		Message:            message,
		LastTransitionTime: metav1.NewTime(s.clock.Now()),
	})
	if _, err := s.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil // the next event brings the current pod
		}
		return fmt.Errorf("mark pod %s unschedulable: %w", podKey(pod), err)
	}
	s.recorder.Event(pod, v1.EventTypeWarning, "FailedScheduling", message)
	return nil
}

// setPodCondition replaces the condition of c's type, keeping its transition time when
// its status does not change, or adds c.
func setPodCondition(status *v1.PodStatus, c v1.PodCondition) {
	for i := range status.Conditions {
		if status.Conditions[i].Type == c.Type {
			if status.Conditions[i].Status == c.Status {
				c.LastTransitionTime = status.Conditions[i].LastTransitionTime
			}
			status.Conditions[i] = c
			return
		}
	}
	status.Conditions = append(status.Conditions, c)
}

// forceDelete removes a pod at once, as the kubelet does when the pod's containers have
// stopped (here there are none to stop) and the pod garbage collector does for pods of
// deleted nodes.
func (s *podSimulator) forceDelete(ctx context.Context, pod *v1.Pod) error {
	err := s.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      metav1.NewUIDPreconditions(string(pod.UID)),
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("delete pod %s: %w", podKey(pod), err)
	}
	return nil
}
