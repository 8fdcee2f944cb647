package kube

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

// TestInferenceStatusFailedScaleUp: a pod of the current template that the scheduler
// cannot place and whose scale-up the cluster autoscaler failed (its FailedScaleUp
// event: the quota) has the autoscaler's reason in ScaleUpFailed and at the end of
// Pending (QA9 #8); another pod's event, or none, leaves them as the scheduler says. The
// objects are written into client-go's fake clientset (a fake, so named).
func TestInferenceStatusFailedScaleUp(t *testing.T) {
	ctx := context.Background()
	labels := map[string]string{"ml.mlfleet.io/endpoint": "ep", "ml.mlfleet.io/deployment": "qbig"}
	tpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "inference-server", Image: "python"}}}}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "ep-qbig", Namespace: Namespace, UID: types.UID("dep-uid")},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tpl}}
	rsTpl := *tpl.DeepCopy()
	rsTpl.Labels = with(labels, appsv1.DefaultDeploymentUniqueLabelKey, "h1")
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "ep-qbig-h1", Namespace: Namespace, Labels: rsTpl.Labels,
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(dep, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: rsTpl.Labels}, Template: rsTpl}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "ep-qbig-h1-a", Namespace: Namespace, UID: types.UID("pod-a"), Labels: rsTpl.Labels},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: "Unschedulable", Message: "0/3 nodes are available: 3 Insufficient cpu."}}}}
	event := func(podName string) *corev1.Event {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: podName + ".1", Namespace: Namespace}, Type: corev1.EventTypeWarning, Reason: ReasonFailedScaleUp,
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: Namespace, Name: podName},
			Message:        "pool nodepool1 could not grow from 3 to 5 nodes, it has 3: (QuotaExceeded) Current Limit: 16, Current Usage: 16"}
	}
	const sched = "pod ep-qbig-h1-a is Pending: 0/3 nodes are available: 3 Insufficient cpu."
	for _, tc := range []struct {
		name        string
		event       runtime.Object
		wantPending string
		wantFailed  bool
	}{
		{"no event", nil, sched, false},
		{"another pod's event", event("ep-other-h1-b"), sched, false},
		{"the pod's event", event("ep-qbig-h1-a"), "pod ep-qbig-h1-a is Pending: 0/3 nodes are available: 3 Insufficient cpu; the cluster autoscaler could not add nodes for pod ep-qbig-h1-a: pool nodepool1 could not grow from 3 to 5 nodes, it has 3: (QuotaExceeded) Current Limit: 16, Current Usage: 16", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs := []runtime.Object{dep.DeepCopy(), rs.DeepCopy(), pod.DeepCopy()}
			if tc.event != nil {
				objs = append(objs, tc.event)
			}
			c := &Cluster{Client: fake.NewClientset(objs...)}
			st, err := c.InferenceDeploymentStatus(ctx, "ep-qbig", labels)
			if err != nil {
				t.Fatal(err)
			}
			if st.Pending != tc.wantPending {
				t.Errorf("Pending = %q, want %q", st.Pending, tc.wantPending)
			}
			if (st.ScaleUpFailed != "") != tc.wantFailed || tc.wantFailed && !strings.Contains(st.ScaleUpFailed, "QuotaExceeded") {
				t.Errorf("ScaleUpFailed = %q, want set %v", st.ScaleUpFailed, tc.wantFailed)
			}
		})
	}
}
