package kubeapiserver

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/kubernetes/pkg/controller/clusterroleaggregation"
	"k8s.io/kubernetes/pkg/controller/namespace"
)

// Controllers of kube-controller-manager without which an apiserver does not behave like a
// cluster at all. The rest of kube-controller-manager (deployments, garbage collection,
// service accounts, ...) is not run: in an embedded cluster no pod really runs, and what
// mlfleet needs of it is simulated elsewhere.
const (
	// The built-in ClusterRoles admin, edit and view are empty shells aggregated from
	// labelled roles; without this controller they grant nothing.
	aggregationWorkers = 1
	// Deleting a namespace only marks it Terminating; this controller empties and removes
	// it (detach deletes the azureml namespace).
	namespaceWorkers = 2
	// namespaceResync is kube-controller-manager's default --namespace-sync-period.
	namespaceResync = 5 * time.Minute
)

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
	metadataClient, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create controller metadata client: %w", err)
	}

	// The namespace controller reads discovery once when it is created and exits the
	// process (klog.FlushAndExit) if that finds nothing; make sure it will find something.
	if resources, err := client.Discovery().ServerPreferredNamespacedResources(); len(resources) == 0 {
		return nil, fmt.Errorf("discover namespaced resources: none found (%v)", err)
	}

	ctx, cancel := context.WithCancel(ctx)
	c := &controllers{cancel: cancel}
	factory := informers.NewSharedInformerFactory(client, 0)

	aggregation := clusterroleaggregation.NewClusterRoleAggregation(factory.Rbac().V1().ClusterRoles(), client.RbacV1())
	namespaces := namespace.NewNamespaceController(ctx, client, metadataClient,
		client.Discovery().ServerPreferredNamespacedResources,
		factory.Core().V1().Namespaces(), namespaceResync, corev1.FinalizerKubernetes)

	factory.Start(ctx.Done())
	c.wg.Go(func() { aggregation.Run(ctx, aggregationWorkers) })
	c.wg.Go(func() { namespaces.Run(ctx, namespaceWorkers) })
	// Shutdown waits for the informers, which stop with ctx.
	c.wg.Go(func() { <-ctx.Done(); factory.Shutdown() })
	return c, nil
}

// stop stops the controllers and waits until they have. It is idempotent.
func (c *controllers) stop() {
	c.cancel()
	c.wg.Wait()
}
