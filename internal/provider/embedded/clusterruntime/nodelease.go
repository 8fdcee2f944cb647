package clusterruntime

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// nodeLeaseDuration is the leaseDurationSeconds of node Leases, the kubelet default.
const nodeLeaseDuration = 40

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
