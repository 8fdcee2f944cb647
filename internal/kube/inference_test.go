package kube

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

// TestInferenceStatusJudgesCurrentTemplate: during a rollout the Deployment's old
// ReplicaSet keeps its pods until the new ones are Ready, so an update of a deployment
// whose old instances crash-loop sees both. Only the pods of the current template tell
// whether the update fails: an old pod that keeps failing is not the new template's
// fault, a new one that does is. Until the controller has made the ReplicaSet of the
// current template, no pod is judged and the status is not current.
//
// The objects are written into client-go's fake clientset (a fake, so named): the
// rollout states it needs are those a real deployment controller passes through too
// briefly to catch.
func TestInferenceStatusJudgesCurrentTemplate(t *testing.T) {
	ctx := context.Background()
	labels := map[string]string{"ml.mlfleet.io/endpoint": "ep", "ml.mlfleet.io/deployment": "red"}
	template := func(script string) corev1.PodTemplateSpec {
		return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{"ml.mlfleet.io/scoring-script": script}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "inference-server", Image: "python"}}}}
	}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "ep-red", Namespace: Namespace, UID: types.UID("dep-uid"), Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template("good.py")},
		Status:     appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 1},
	}
	replicaSet := func(hash, script string) *appsv1.ReplicaSet {
		tpl := template(script)
		tpl.Labels = with(labels, appsv1.DefaultDeploymentUniqueLabelKey, hash)
		return &appsv1.ReplicaSet{
			ObjectMeta: metav1.ObjectMeta{Name: "ep-red-" + hash, Namespace: Namespace, Labels: tpl.Labels,
				OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(dep, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
			Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: tpl.Labels}, Template: tpl},
		}
	}
	pod := func(hash string, created int, status corev1.ContainerStatus) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "ep-red-" + hash + "-x", Namespace: Namespace, Labels: with(labels, appsv1.DefaultDeploymentUniqueLabelKey, hash),
				CreationTimestamp: metav1.Unix(int64(created), 0)},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{status}},
		}
	}
	crashing := corev1.ContainerStatus{Name: "inference-server", RestartCount: 5,
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: "init failed"}}}
	backingOff := *crashing.DeepCopy()
	backingOff.RestartCount = 1
	backingOff.State.Waiting.Message = "back-off 10s restarting failed container=inference-server; next attempt at 2026-11-30T22:31:05Z"
	starting := corev1.ContainerStatus{Name: "inference-server", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}

	for _, tc := range []struct {
		name        string
		objects     []runtime.Object
		wantCurrent bool
		// wantCrashing is a part of Crashing; "" means none.
		wantCrashing string
	}{
		{name: "old pods crash, new one starts",
			objects:     []runtime.Object{replicaSet("old", "bad.py"), replicaSet("new", "good.py"), pod("old", 1, crashing), pod("new", 2, starting)},
			wantCurrent: false},
		{name: "new template not rolled out yet",
			objects:     []runtime.Object{replicaSet("old", "bad.py"), pod("old", 1, crashing)},
			wantCurrent: false},
		{name: "new pods crash",
			objects:      []runtime.Object{replicaSet("old", "bad.py"), replicaSet("new", "good.py"), pod("old", 1, starting), pod("new", 2, crashing)},
			wantCrashing: "pod ep-red-new-x keeps failing (restarted 5 times): exit code 1"},
		{name: "new pods crash, the kubelet backs off",
			objects: []runtime.Object{replicaSet("new", "good.py"), pod("new", 2, backingOff)},
			wantCrashing: "pod ep-red-new-x keeps failing (restarted once; back-off 10s restarting failed container=inference-server; " +
				"next attempt at 2026-11-30T22:31:05Z): exit code 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Cluster{Client: fake.NewClientset(append([]runtime.Object{dep.DeepCopy()}, tc.objects...)...)}
			st, err := c.InferenceDeploymentStatus(ctx, "ep-red", labels)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantCrashing == "" && st.Crashing != "" || tc.wantCrashing != "" && !strings.Contains(st.Crashing, tc.wantCrashing) {
				t.Errorf("Crashing = %q, want %q", st.Crashing, tc.wantCrashing)
			}
			if st.Current != tc.wantCurrent {
				t.Errorf("Current = %v, want %v", st.Current, tc.wantCurrent)
			}
			if len(st.Pods) != len(tc.objects)-countReplicaSets(tc.objects) {
				t.Errorf("Pods = %v, want every pod of the Deployment (getLogs reads them all)", st.Pods)
			}
		})
	}
}

func countReplicaSets(objects []runtime.Object) int {
	n := 0
	for _, o := range objects {
		if _, ok := o.(*appsv1.ReplicaSet); ok {
			n++
		}
	}
	return n
}

// TestApplyReplacesSelector: a Deployment's selector cannot change, and an older server
// labelled an inference Deployment with a request's spelling of the names ("CaseEp"), so
// its next apply with the stored names was refused as invalid for good (QA9 #1). The apply
// replaces a Deployment mlfleet made with another selector; one it did not make is refused
// with ErrInvalid and left alone.
//
// The objects are in client-go's fake clientset (a fake, so named), scripted to refuse a
// selector change the way the apiserver's validation does (field is immutable).
func TestApplyReplacesSelector(t *testing.T) {
	ctx := context.Background()
	old := map[string]string{"ml.mlfleet.io/endpoint": "CaseEp", "ml.mlfleet.io/deployment": "BLUE"}
	stored := map[string]string{"ml.mlfleet.io/endpoint": "caseep", "ml.mlfleet.io/deployment": "blue"}
	for _, tc := range []struct {
		name    string
		labels  map[string]string
		wantErr error
	}{
		{name: "made by mlfleet", labels: with(old, LabelManagedBy, ManagedBy)},
		{name: "made by someone else", labels: old, wantErr: ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset(
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Namespace}},
				&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "caseep-blue", Namespace: Namespace, Labels: tc.labels},
					Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: old},
						Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: old}}}})
			client.PrependReactor("patch", "deployments", func(action k8stesting.Action) (bool, runtime.Object, error) {
				cur, err := client.Tracker().Get(appsv1.SchemeGroupVersion.WithResource("deployments"), Namespace, action.(k8stesting.PatchAction).GetName())
				if err != nil || maps.Equal(cur.(*appsv1.Deployment).Spec.Selector.MatchLabels, stored) {
					return false, nil, nil
				}
				return true, nil, apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "caseep-blue",
					field.ErrorList{field.Invalid(field.NewPath("spec", "selector"), stored, "field is immutable")})
			})
			kc := &Cluster{Client: client}
			err := kc.ApplyInferenceDeployment(ctx, InferenceDeployment{Name: "caseep-blue", Labels: stored, Replicas: 1,
				Container: "inference-server", Image: "python", Port: 5001, MilliCPU: 250, MemoryMiB: 512})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("apply: %v, want %v", err, tc.wantErr)
			}
			got, err := client.AppsV1().Deployments(Namespace).Get(ctx, "caseep-blue", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			want := stored
			if tc.wantErr != nil {
				want = old
			}
			if !maps.Equal(got.Spec.Selector.MatchLabels, want) {
				t.Errorf("selector %v, want %v", got.Spec.Selector.MatchLabels, want)
			}
		})
	}
}
