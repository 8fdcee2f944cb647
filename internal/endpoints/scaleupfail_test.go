package endpoints

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/kube"
	"github.com/mlfleet/mlfleet/pkg/mlfleet/armapi"
)

// TestWaitReadyFailsOnFailedScaleUp: a deployment whose pending instance the cluster
// autoscaler could not make room for (FailedScaleUp: the subscription's vCPU quota) fails
// at once with the autoscaler's reason, quota and numbers included, instead of waiting
// out ReadyTimeout with "Insufficient cpu" (QA9 #8). The cluster is client-go's fake
// clientset (a fake, so named) holding the objects a real one shows then; the deadline
// of the context only stops a regression from hanging the test.
func TestWaitReadyFailsOnFailedScaleUp(t *testing.T) {
	t.Parallel()
	f := newMonitorFixture(t, "00000000-0000-0000-0000-0000000000fa")
	id := f.deployment(t, "qbig", "infa", armapi.StateCreating, 2, 0, "")
	labels := InstanceLabels("ep", "qbig")
	tpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "inference-server", Image: "python"}}}}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: DeploymentName("ep", "qbig"), Namespace: kube.Namespace, UID: types.UID("dep-uid")},
		Spec:   appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: tpl},
		Status: appsv1.DeploymentStatus{Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1}}
	rsTpl := *tpl.DeepCopy()
	rsTpl.Labels = map[string]string{appsv1.DefaultDeploymentUniqueLabelKey: "h1"}
	for k, v := range labels {
		rsTpl.Labels[k] = v
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: dep.Name + "-h1", Namespace: kube.Namespace, Labels: rsTpl.Labels,
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(dep, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: rsTpl.Labels}, Template: rsTpl}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: dep.Name + "-h1-b", Namespace: kube.Namespace, Labels: rsTpl.Labels},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: "Unschedulable", Message: "0/3 nodes are available: 3 Insufficient cpu."}}}}
	event := &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: pod.Name + ".1", Namespace: kube.Namespace}, Type: corev1.EventTypeWarning, Reason: kube.ReasonFailedScaleUp,
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: kube.Namespace, Name: pod.Name},
		Message:        "pool nodepool1 could not grow from 3 to 5 nodes, it has 3: (QuotaExceeded) Current Limit: 16, Current Usage: 16"}
	f.clusters["infa"] = fake.NewClientset(dep, rs, pod, event)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := f.eps.waitReady(ctx, "ep", id)
	var ae *arm.Error
	if !errors.As(err, &ae) || ae.Status != 400 {
		t.Fatalf("waitReady: %v; want a 400 at once", err)
	}
	for _, part := range []string{"Deployment 'qbig' has 1 of 2 instances Ready and cannot get room", "3 Insufficient cpu",
		"the cluster autoscaler could not add nodes", "(QuotaExceeded) Current Limit: 16, Current Usage: 16", "Lower the instance count"} {
		if !strings.Contains(ae.Message, part) {
			t.Errorf("%q; want it to hold %q", ae.Message, part)
		}
	}
}
