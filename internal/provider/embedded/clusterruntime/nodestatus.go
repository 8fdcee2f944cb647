package clusterruntime

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/netip"
	"slices"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// What a simulated node looks like: the labels, annotation and taints the simulation
// keeps on it and the status a healthy AKS node reports. nodes.go decides when to write it.

// Node facts that a real node would report and that the simulation makes up.
const (
	simulatedOSImage          = "Ubuntu 22.04.5 LTS"
	simulatedKernelVersion    = "5.15.0-1079-azure"
	simulatedContainerRuntime = "containerd://1.7.27-1"
	kubeletPort               = 10250
)

// desiredNodeMeta returns a copy of node with the labels, annotation and taints the
// simulation wants, or nil when node already has them. Labels and taints that others
// added stay; those the pool had when the node was last written (its annotation says) and
// no longer has go.
func (s *nodeSimulator) desiredNodeMeta(node *v1.Node, pool NodePool) *v1.Node {
	spec, err := json.Marshal(poolSpec(pool))
	if err != nil {
		panic(err) // a struct of strings and numbers always marshals
	}
	want := node.DeepCopy()
	if want.Labels == nil {
		want.Labels = map[string]string{}
	}
	labels := nodeLabels(pool, node.Name)
	var before NodePool
	if raw, ok := node.Annotations[annotationNodePool]; ok {
		_ = json.Unmarshal([]byte(raw), &before) // unreadable: nothing of the pool's to take off
	}
	for k := range before.Labels {
		if _, keep := labels[k]; !keep {
			delete(want.Labels, k)
		}
	}
	maps.Copy(want.Labels, labels)
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
		return t.Key == v1.TaintNodeNotReady || t.Key == v1.TaintNodeUnreachable ||
			slices.ContainsFunc(before.Taints, sameTaint(t)) && !slices.ContainsFunc(pool.Taints, sameTaint(t))
	})
	for _, t := range pool.Taints {
		if i := slices.IndexFunc(want.Spec.Taints, sameTaint(t)); i >= 0 {
			want.Spec.Taints[i] = t
		} else {
			want.Spec.Taints = append(want.Spec.Taints, t)
		}
	}
	if len(want.Spec.Taints) == 0 {
		want.Spec.Taints = nil
	}
	if equality.Semantic.DeepEqual(want.ObjectMeta, node.ObjectMeta) && equality.Semantic.DeepEqual(want.Spec, node.Spec) {
		return nil
	}
	return want
}

// sameTaint matches the taints of t's key and effect: a node has one of each.
func sameTaint(t v1.Taint) func(v1.Taint) bool {
	return func(u v1.Taint) bool { return t.MatchTaint(&u) }
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
