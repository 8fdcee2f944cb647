package kubeapiserver

import (
	"context"
	"fmt"
	"sync"

	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubernetes/pkg/controller/clusterroleaggregation"
)

// The ClusterRole aggregation controller of kube-controller-manager runs next to every
// apiserver: the built-in ClusterRoles admin, edit and view are empty shells that it fills
// from labelled roles, and the cluster user's rights come from "view" and "edit", so Start
// cannot return before it ran. Every other controller (namespaces, garbage collection,
// deployments, service accounts, ...) belongs to whoever simulates the rest of the cluster.
const aggregationWorkers = 1

// controllers are the in-process controllers of one cluster.
type controllers struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startControllers starts the controllers against the apiserver at loopback. They run until
// stop.
func startControllers(ctx context.Context, loopback *rest.Config) (*controllers, error) {
	cfg := rest.CopyConfig(loopback)
	cfg.UserAgent = "mlfleet-embedded-controllers"
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create controller client: %w", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	c := &controllers{cancel: cancel}
	factory := informers.NewSharedInformerFactory(client, 0)
	aggregation := clusterroleaggregation.NewClusterRoleAggregation(factory.Rbac().V1().ClusterRoles(), client.RbacV1())
	factory.StartWithContext(ctx)
	c.wg.Go(func() { aggregation.Run(ctx, aggregationWorkers) })
	// Shutdown waits for the informers, which stop with ctx.
	c.wg.Go(func() { <-ctx.Done(); factory.Shutdown() })
	return c, nil
}

// stop stops the controllers and waits until they have. It is idempotent.
func (c *controllers) stop() {
	c.cancel()
	c.wg.Wait()
}
