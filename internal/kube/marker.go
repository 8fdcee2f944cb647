package kube

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Keys of the marker ConfigMap's data.
const (
	markerAttachmentID = "attachmentId"
	markerComputeID    = "computeId"
	markerComputeName  = "computeName"
	markerWorkspaceID  = "workspaceId"
	markerClusterUID   = "clusterUid"
	markerAttachedAt   = "attachedAt"
)

// Marker records inside the cluster which compute it is attached to (S11).
//
// The marker lives in the cluster, not only in the store, because the same cluster may be
// known to mlfleet under two ids (registered twice, or also attached by another mlfleet):
// the store's attachment claim cannot see that, the cluster can.
type Marker struct {
	// AttachmentID is the DNS label that also labels every installed object.
	AttachmentID string
	ComputeID    string // ARM id of the compute
	// ComputeName is the compute's name, for the message of an AttachedError.
	ComputeName string
	WorkspaceID string // ARM id of the workspace
	// ClusterUID is the UID of kube-system when the marker was made: the cluster's
	// identity (S11), the same under whichever id mlfleet knows the cluster.
	ClusterUID string
	// AttachedAt is when the marker was claimed, to the second.
	AttachedAt time.Time
}

// AttachedError is the error of a claim on a cluster that another attachment holds. It
// wraps ErrAttached.
type AttachedError struct {
	Marker Marker // the attachment that holds the cluster
}

// Error names the attachment that holds the cluster and says to detach it first, since
// the message reaches the user as the 409 of S11.
func (e *AttachedError) Error() string {
	m := e.Marker
	msg := fmt.Sprintf("%v: attachment %s", ErrAttached, m.AttachmentID)
	if m.ComputeName != "" {
		msg += " (compute " + m.ComputeName
		if m.WorkspaceID != "" {
			msg += " of workspace " + m.WorkspaceID
		}
		msg += ")"
	} else if m.ComputeID != "" {
		msg += " (compute " + m.ComputeID + ")"
	}
	if !m.AttachedAt.IsZero() {
		msg += " since " + m.AttachedAt.UTC().Format(time.RFC3339)
	}
	return msg + "; detach it first"
}

// Unwrap returns ErrAttached, so that callers test for it with errors.Is.
func (e *AttachedError) Unwrap() error { return ErrAttached }

// UID returns the uid of the kube-system namespace: the cluster's identity, which stays
// the same for the cluster's lifetime and differs between clusters.
func (c *Cluster) UID(ctx context.Context) (string, error) {
	ns, err := c.Client.CoreV1().Namespaces().Get(ctx, kubeSystem, metav1.GetOptions{})
	if err != nil {
		return "", translate(err, "get namespace %s", kubeSystem)
	}
	return string(ns.UID), nil
}

// Marker returns the attachment marker, or nil, nil when there is none.
func (c *Cluster) Marker(ctx context.Context) (*Marker, error) {
	cm, found, err := getIfExists(ctx, c.Client.CoreV1().ConfigMaps(kubeSystem).Get, MarkerName, "get configmap %s/%s", kubeSystem, MarkerName)
	if !found {
		return nil, err
	}
	return markerFrom(cm), nil
}

// ClaimMarker creates the marker m, atomically: of concurrent claims exactly one
// succeeds. A missing ClusterUID is filled in with UID, a zero AttachedAt with the
// current time. If the cluster already carries a marker of the same AttachmentID, that
// marker is returned with no error (idempotent); if it carries one of another attachment,
// that one is returned with an *AttachedError. The marker carries the labels of Apply's
// objects, so that Remove deletes it.
func (c *Cluster) ClaimMarker(ctx context.Context, m Marker) (*Marker, error) {
	if msgs := validation.IsDNS1123Label(m.AttachmentID); len(msgs) > 0 {
		return nil, fmt.Errorf("claim marker: attachment id %q: %v", m.AttachmentID, msgs)
	}
	if m.ClusterUID == "" {
		uid, err := c.UID(ctx)
		if err != nil {
			return nil, err
		}
		m.ClusterUID = uid
	}
	if m.AttachedAt.IsZero() {
		m.AttachedAt = time.Now()
	}
	m.AttachedAt = m.AttachedAt.UTC().Truncate(time.Second)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name:        MarkerName,
			Namespace:   kubeSystem,
			Labels:      ownedLabels(m.AttachmentID),
			Annotations: map[string]string{AnnotationComputeID: m.ComputeID},
		},
		Data: map[string]string{
			markerAttachmentID: m.AttachmentID,
			markerComputeID:    m.ComputeID,
			markerComputeName:  m.ComputeName,
			markerWorkspaceID:  m.WorkspaceID,
			markerClusterUID:   m.ClusterUID,
			markerAttachedAt:   m.AttachedAt.Format(time.RFC3339),
		},
	}
	// Create, not Apply: server-side apply would let a second attach overwrite the first
	// one's marker, while Create fails with AlreadyExists for all but one of concurrent
	// claims, which is what makes S11 hold inside the cluster.
	// A marker found and then deleted before it could be read is tried again.
	for attempt := 0; ; attempt++ {
		created, err := c.Client.CoreV1().ConfigMaps(kubeSystem).Create(ctx, cm, metav1.CreateOptions{FieldManager: FieldManager})
		if err == nil {
			return markerFrom(created), nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, translate(err, "create configmap %s/%s", kubeSystem, MarkerName)
		}
		existing, err := c.Marker(ctx)
		if err != nil {
			return nil, err
		}
		if existing == nil {
			if attempt < 3 {
				continue
			}
			return nil, fmt.Errorf("claim marker: configmap %s/%s keeps appearing and disappearing", kubeSystem, MarkerName)
		}
		if existing.AttachmentID == m.AttachmentID {
			return existing, nil
		}
		return existing, &AttachedError{Marker: *existing}
	}
}

func markerFrom(cm *corev1.ConfigMap) *Marker {
	m := &Marker{
		AttachmentID: cm.Data[markerAttachmentID],
		ComputeID:    cm.Data[markerComputeID],
		ComputeName:  cm.Data[markerComputeName],
		WorkspaceID:  cm.Data[markerWorkspaceID],
		ClusterUID:   cm.Data[markerClusterUID],
	}
	if m.AttachmentID == "" {
		m.AttachmentID = cm.Labels[LabelAttachment]
	}
	if m.ComputeID == "" {
		m.ComputeID = cm.Annotations[AnnotationComputeID]
	}
	if t, err := time.Parse(time.RFC3339, cm.Data[markerAttachedAt]); err == nil {
		m.AttachedAt = t
	} else {
		m.AttachedAt = cm.CreationTimestamp.UTC()
	}
	return m
}
