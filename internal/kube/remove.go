package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/metadata"
	"k8s.io/utils/ptr"
)

// Remove deletes every object labelled LabelAttachment=attachmentID: the namespaced ones
// in azureml and kube-system, the ClusterRole and ClusterRoleBinding, then the namespace
// azureml if it carries the label and holds nothing of anyone else's (see foreignKinds),
// and the marker last. A namespace that holds foreign objects stays, without mlfleet's
// labels. Remove does not wait for the namespace controller to finish a deleted
// namespace (upstream's waits 5 s before it starts, for HA API servers; an embedded
// cluster's finishes an emptied one within a second): everything of mlfleet's in it is
// gone already, and an Apply that follows waits for the namespace itself. It is
// idempotent: nil when nothing is there.
func (c *Cluster) Remove(ctx context.Context, attachmentID string) error {
	if msgs := validation.IsDNS1123Label(attachmentID); len(msgs) > 0 {
		return fmt.Errorf("remove: attachment id %q: %s", attachmentID, strings.Join(msgs, "; "))
	}
	md, err := metadata.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("remove: metadata client: %w", err)
	}
	ours := labels.SelectorFromSet(labels.Set{LabelAttachment: attachmentID}).String()

	ns, nsFound, err := getIfExists(ctx, c.Client.CoreV1().Namespaces().Get, Namespace, "get namespace %s", Namespace)
	if err != nil {
		return err
	}
	if nsFound {
		if err := deleteLabelled(ctx, md, Namespace, ours, removedNamespaced, ""); err != nil {
			return err
		}
		if err := waitPodsGone(ctx, md, ours); err != nil {
			return err
		}
	}
	if err := deleteLabelled(ctx, md, kubeSystem, ours, removedNamespaced, MarkerName); err != nil {
		return err
	}
	if err := deleteLabelled(ctx, md, "", ours, removedCluster, ""); err != nil {
		return err
	}

	if nsFound && ns.Labels[LabelAttachment] == attachmentID {
		foreign, err := foreignObjects(ctx, md, attachmentID)
		if err != nil {
			return err
		}
		if len(foreign) > 0 {
			if err := c.disown(ctx, ns.UID); err != nil {
				return err
			}
		} else if err := c.deleteNamespace(ctx, ns.UID); err != nil {
			return err
		}
	}

	// The marker goes last: while anything of the attachment is left, the marker keeps
	// another attach away, and a detach interrupted before this line finds the marker
	// still there and runs again from the start.
	marker, found, err := getIfExists(ctx, c.Client.CoreV1().ConfigMaps(kubeSystem).Get, MarkerName, "get configmap %s/%s", kubeSystem, MarkerName)
	switch {
	case !found:
		return err
	case markerFrom(marker).AttachmentID != attachmentID:
		return nil // another attachment's
	}
	// The UID precondition makes sure the marker deleted is the one read: if another
	// attachment claimed the cluster in between, its marker stays (Conflict, ignored).
	err = c.Client.CoreV1().ConfigMaps(kubeSystem).Delete(ctx, MarkerName, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &marker.UID}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return translate(err, "delete configmap %s/%s", kubeSystem, MarkerName)
	}
	return nil
}

// deleteLabelled deletes the objects of kinds in namespace ns ("" = cluster-scoped) that
// selector selects, except the one named except. Pods go at once (grace period 0): they
// are the front-end's, whose router has nothing to drain, and a pod still terminating
// would make the namespace controller wait for its grace period.
func deleteLabelled(ctx context.Context, md metadata.Interface, ns, selector string, kinds []schema.GroupVersionResource, except string) error {
	for _, gvr := range kinds {
		var client metadata.ResourceInterface = md.Resource(gvr)
		where := " (cluster-wide)"
		if ns != "" {
			client = md.Resource(gvr).Namespace(ns)
			where = " in namespace " + ns
		}
		list, err := client.List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return translate(err, "list %s%s", resourceName(gvr), where)
		}
		opts := metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}
		if gvr == gvrPods {
			opts.GracePeriodSeconds = ptr.To(int64(0))
		}
		for _, obj := range list.Items {
			if obj.Name == except {
				continue
			}
			uid := obj.UID
			opts.Preconditions = &metav1.Preconditions{UID: &uid}
			err := client.Delete(ctx, obj.Name, opts)
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return translate(err, "delete %s %s%s", resourceName(gvr), obj.Name, where)
			}
		}
	}
	return nil
}

// pollEvery is how often the waits of this package look again.
const pollEvery = 100 * time.Millisecond

// waitPodsGone deletes again, for up to two seconds, front-end pods that a ReplicaSet
// created while it was being deleted, so that the namespace controller finds none. Pods
// still there after that are the namespace controller's to delete.
func waitPodsGone(ctx context.Context, md metadata.Interface, selector string) error {
	err := wait.PollUntilContextTimeout(ctx, pollEvery, 2*time.Second, true, func(ctx context.Context) (bool, error) {
		list, err := md.Resource(gvrPods).Namespace(Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, translate(err, "list pods in namespace %s", Namespace)
		}
		if len(list.Items) == 0 {
			return true, nil
		}
		return false, deleteLabelled(ctx, md, Namespace, selector, []schema.GroupVersionResource{gvrPods}, "")
	})
	switch {
	case wait.Interrupted(err) && ctx.Err() != nil:
		return fmt.Errorf("wait for the front-end's pods to go: %w", err)
	case wait.Interrupted(err):
		return nil // two seconds are up
	}
	return err
}

// foreignObjects lists, as "configmaps/name", objects in azureml that are not the
// attachment's, leaving out what Kubernetes puts into every namespace.
func foreignObjects(ctx context.Context, md metadata.Interface, attachmentID string) ([]string, error) {
	notOurs, err := labels.NewRequirement(LabelAttachment, selection.NotEquals, []string{attachmentID})
	if err != nil {
		return nil, fmt.Errorf("remove: %w", err)
	}
	selector := labels.NewSelector().Add(*notOurs).String()
	var out []string
	for _, gvr := range foreignKinds {
		list, err := md.Resource(gvr).Namespace(Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector, Limit: 20})
		if err != nil {
			return nil, translate(err, "list %s in namespace %s", resourceName(gvr), Namespace)
		}
		for _, obj := range list.Items {
			switch {
			case gvr == gvrConfigMaps && obj.Name == rootCAConfigMap:
				continue
			case gvr == gvrSecrets && isServiceAccountToken(obj.Annotations):
				continue
			}
			out = append(out, gvr.Resource+"/"+obj.Name)
		}
	}
	return out, nil
}

// isServiceAccountToken tells a token Secret that older clusters generate for the
// namespace's own ServiceAccounts.
func isServiceAccountToken(annotations map[string]string) bool {
	sa := annotations[corev1.ServiceAccountNameKey]
	return sa == "default" || sa == FrontEndName
}

// disown removes mlfleet's labels and annotation from a namespace that stays.
func (c *Cluster) disown(ctx context.Context, uid types.UID) error {
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"uid":         uid, // fails if the namespace was replaced meanwhile
		"labels":      map[string]any{LabelAttachment: nil, LabelManagedBy: nil, LabelPartOf: nil},
		"annotations": map[string]any{AnnotationComputeID: nil},
	}})
	_, err := c.Client.CoreV1().Namespaces().Patch(ctx, Namespace, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: FieldManager})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return translate(err, "remove labels from namespace %s", Namespace)
	}
	return nil
}

// deleteNamespace deletes the namespace of that uid and waits until it is gone.
func (c *Cluster) deleteNamespace(ctx context.Context, uid types.UID) error {
	err := c.Client.CoreV1().Namespaces().Delete(ctx, Namespace, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	if err != nil {
		return translate(err, "delete namespace %s", Namespace)
	}
	return nil
}

// waitNamespaceNotTerminating waits until namespace azureml is either live or gone.
func (c *Cluster) waitNamespaceNotTerminating(ctx context.Context) error {
	ns, found, err := getIfExists(ctx, c.Client.CoreV1().Namespaces().Get, Namespace, "get namespace %s", Namespace)
	if !found || ns.DeletionTimestamp == nil {
		return err
	}
	return c.waitNamespaceGone(ctx, ns.UID)
}

// waitNamespaceGone polls until the namespace of that uid no longer exists. The namespace
// controller empties a deleted namespace and removes it. Upstream's starts 5 seconds after
// the delete (namespaceDeletionGracePeriod, for HA API servers), which makes most of the
// time on real clusters; an embedded cluster's starts once its one apiserver refuses new
// content in the namespace (clusterruntime's namespaceFinisher).
func (c *Cluster) waitNamespaceGone(ctx context.Context, uid types.UID) error {
	var last *corev1.Namespace
	err := wait.PollUntilContextCancel(ctx, pollEvery, true, func(ctx context.Context) (bool, error) {
		ns, err := c.Client.CoreV1().Namespaces().Get(ctx, Namespace, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return true, nil
		case err != nil:
			return false, translate(err, "wait for namespace %s to be deleted", Namespace)
		}
		last = ns
		return ns.UID != uid, nil
	})
	if wait.Interrupted(err) {
		msg := "namespace " + Namespace + " is still being deleted"
		if last != nil {
			if cond := namespaceCondition(last); cond != "" {
				msg += " (" + cond + ")"
			}
		}
		return fmt.Errorf("%s: %w", msg, err)
	}
	return err
}

// namespaceCondition returns what the namespace controller reports as holding a
// terminating namespace, "" when nothing.
func namespaceCondition(ns *corev1.Namespace) string {
	var parts []string
	for _, c := range ns.Status.Conditions {
		if c.Status == corev1.ConditionTrue && c.Message != "" {
			parts = append(parts, c.Message)
		}
	}
	return strings.Join(parts, "; ")
}
