package clusterruntime

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/mlfleet/mlfleet/internal/kube"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// start reports pod as running on its node, as the node's kubelet would once its
// containers run: phase Running, every container running and ready, a pod IP.
func (s *podSimulator) start(ctx context.Context, pod *v1.Pod) error {
	if pod.Status.Phase == v1.PodRunning && pod.Status.PodIP != "" && kube.PodReady(pod) {
		return nil
	}
	updated := pod.DeepCopy()
	if ok, err := s.setNetworkStatus(updated); !ok || err != nil {
		return err
	}
	now := metav1.NewTime(s.clock.Now())
	st := &updated.Status
	st.Phase = v1.PodRunning
	st.ObservedGeneration = pod.Generation
	if st.StartTime == nil {
		st.StartTime = &now
	}
	for _, t := range []v1.PodConditionType{v1.PodReadyToStartContainers, v1.PodInitialized, v1.PodReady, v1.ContainersReady, v1.PodScheduled} {
		setPodCondition(st, v1.PodCondition{Type: t, Status: v1.ConditionTrue, LastTransitionTime: now, ObservedGeneration: pod.Generation})
	}
	st.InitContainerStatuses = nil
	for _, c := range pod.Spec.InitContainers {
		cs := containerStatus(pod, c, now)
		if c.RestartPolicy == nil || *c.RestartPolicy != v1.ContainerRestartPolicyAlways {
			// A plain init container has run to completion; sidecars keep running.
			cs.State = v1.ContainerState{Terminated: &v1.ContainerStateTerminated{
				ExitCode: 0, Reason: "Completed", StartedAt: now, FinishedAt: now, ContainerID: cs.ContainerID,
			}}
			cs.Ready = false
			cs.Started = ptr.To(false)
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
	}
	st.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, containerStatus(pod, c, now))
	}
	if _, err := s.client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil // the next event brings the current pod
		}
		return fmt.Errorf("start pod %s: %w", podKey(pod), err)
	}
	return nil
}

// setNetworkStatus sets the host and pod IPs of pod (a copy) on its node. It returns
// false when the node's network is not known (yet).
func (s *podSimulator) setNetworkStatus(pod *v1.Pod) (bool, error) {
	hostIP, _, ok := s.sim.network(pod.Spec.NodeName)
	if !ok {
		return false, nil
	}
	podIP := hostIP
	if !pod.Spec.HostNetwork {
		pool := s.podIPPool(pod.Spec.NodeName)
		if pool == nil {
			return false, nil
		}
		var err error
		if podIP, err = pool.assign(string(pod.UID)); err != nil {
			return false, fmt.Errorf("address for pod %s: %w", podKey(pod), err)
		}
	}

	st := &pod.Status
	st.HostIP = hostIP.String()
	st.HostIPs = []v1.HostIP{{IP: hostIP.String()}}
	st.PodIP = podIP.String()
	st.PodIPs = []v1.PodIP{{IP: podIP.String()}}
	return true, nil
}

// containerStatus is the status of a running container of pod; its container ID is
// derived from the pod UID and the container name, so it does not change between writes.
func containerStatus(pod *v1.Pod, c v1.Container, now metav1.Time) v1.ContainerStatus {
	id := sha256.Sum256([]byte(string(pod.UID) + "/" + c.Name))
	return v1.ContainerStatus{
		Name:         c.Name,
		Image:        c.Image,
		ImageID:      "",
		ContainerID:  "containerd://" + hex.EncodeToString(id[:]),
		Ready:        true,
		Started:      ptr.To(true),
		RestartCount: 0,
		State:        v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: now}},
	}
}
