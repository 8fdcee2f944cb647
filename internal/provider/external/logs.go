package external

import (
	"context"
	"fmt"
	"io"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"

	"github.com/mlfleet/mlfleet/internal/provider"
)

var _ provider.PodLogReader = (*Provider)(nil)

// maxLogBytes caps what PodLogs reads of a container's log.
const maxLogBytes = 1 << 20

// PodLogs implements provider.PodLogReader through the cluster's pods/log API.
func (p *Provider) PodLogs(ctx context.Context, clusterID, namespace, pod, container string, tailLines int) (string, error) {
	r, err := p.get(clusterID)
	if err != nil {
		return "", err
	}
	opts := &v1.PodLogOptions{Container: container, LimitBytes: ptr.To[int64](maxLogBytes)}
	if tailLines > 0 {
		opts.TailLines = ptr.To(int64(tailLines))
	}
	stream, err := r.cluster.Client.CoreV1().Pods(namespace).GetLogs(pod, opts).Stream(ctx)
	if apierrors.IsNotFound(err) || apierrors.IsBadRequest(err) {
		// BadRequest: the container has not started, or does not exist.
		return "", fmt.Errorf("%w: pod %s/%s: %v", provider.ErrNoLogs, namespace, pod, err)
	}
	if err != nil {
		return "", fmt.Errorf("logs of pod %s/%s: %w", namespace, pod, err)
	}
	defer stream.Close()
	b, err := io.ReadAll(io.LimitReader(stream, maxLogBytes))
	if err != nil {
		return "", fmt.Errorf("logs of pod %s/%s: %w", namespace, pod, err)
	}
	return string(b), nil
}
