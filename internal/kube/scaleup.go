package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// ReasonFailedScaleUp is the reason of the Warning event the cluster autoscaler (AKS's,
// and the embedded clusters') records on a pod whose scale-up it could not make: a quota,
// say. The pod then stays Pending until something else frees room.
const ReasonFailedScaleUp = "FailedScaleUp"

// failedScaleUp returns the message of the newest FailedScaleUp event recorded on pod p,
// "" when there is none. The field selector narrows the list on a real API server; the
// filter below keeps the answer right where it is not applied (client-go's fake).
func (c *Cluster) failedScaleUp(ctx context.Context, p *corev1.Pod) (string, error) {
	sel := fields.Set{"involvedObject.name": p.Name, "reason": ReasonFailedScaleUp}.AsSelector().String()
	events, err := c.Client.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return "", translate(err, "list events of pod %s/%s", p.Namespace, p.Name)
	}
	var newest *corev1.Event
	for i, e := range events.Items {
		if e.Reason != ReasonFailedScaleUp || e.InvolvedObject.Name != p.Name || (e.InvolvedObject.UID != "" && e.InvolvedObject.UID != p.UID) {
			continue
		}
		if newest == nil || newest.LastTimestamp.Before(&e.LastTimestamp) {
			newest = &events.Items[i]
		}
	}
	if newest == nil {
		return "", nil
	}
	return fmt.Sprintf("the cluster autoscaler could not add nodes for pod %s: %s", p.Name, newest.Message), nil
}
