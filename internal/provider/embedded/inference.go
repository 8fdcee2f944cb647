package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/mlfleet/mlfleet/internal/inference/router"
	"github.com/mlfleet/mlfleet/internal/provider"
	"github.com/mlfleet/mlfleet/internal/provider/embedded/clusterruntime"
)

var _ provider.PodLogReader = (*Provider)(nil)

// startRouter starts the in-process inference router of the cluster config reaches.
func startRouter(ctx context.Context, config *rest.Config, log *slog.Logger) (*router.Server, error) {
	cfg := rest.CopyConfig(config)
	cfg.UserAgent = "mlfleet-inference-router"
	cfg.Timeout = 0 // watches
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 20, 40
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return router.StartServer(ctx, client, router.ServerOptions{Logger: log})
}

// PodLogs implements provider.PodLogReader: the tail of the log file of a pod the
// cluster runtime runs as a local process.
func (p *Provider) PodLogs(ctx context.Context, clusterID, namespace, pod, container string, tailLines int) (string, error) {
	c, err := p.running(clusterID)
	if errors.Is(err, provider.ErrNotFound) && p.remote != nil {
		var out string
		err := p.onHost(ctx, clusterID, callLogs, logsCall{ID: clusterID, Namespace: namespace, Pod: pod, Container: container, TailLines: tailLines}, &out, false)
		if errors.Is(err, errRunsHere) {
			return p.PodLogs(ctx, clusterID, namespace, pod, container, tailLines)
		}
		return out, err
	}
	if err != nil {
		return "", err
	}
	live := c.live.Load()
	if live == nil {
		return "", provider.ErrNotFound
	}
	out, err := live.runtime.PodLogs(namespace, pod, container, tailLines)
	if apierrors.IsNotFound(err) || errors.Is(err, clusterruntime.ErrNoProcess) {
		return "", fmt.Errorf("%w: %v", provider.ErrNoLogs, err)
	}
	return out, err
}
