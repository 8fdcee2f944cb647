package clusterruntime

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/scale"
	"k8s.io/controller-manager/pkg/informerfactory"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/deployment"
	"k8s.io/kubernetes/pkg/controller/disruption"
	"k8s.io/kubernetes/pkg/controller/endpointslice"
	"k8s.io/kubernetes/pkg/controller/garbagecollector"
	"k8s.io/kubernetes/pkg/controller/namespace"
	"k8s.io/kubernetes/pkg/controller/namespace/deletion"
	"k8s.io/kubernetes/pkg/controller/replicaset"
	"k8s.io/kubernetes/pkg/controller/serviceaccount"
)

// Settings of the upstream controllers. Workers are fewer than kube-controller-manager's
// defaults (5 to 20 per controller), which are sized for clusters of thousands of objects.
const (
	deploymentWorkers     = 2
	replicaSetWorkers     = 2
	namespaceWorkers      = 2
	garbageWorkers        = 4
	endpointSliceWorkers  = 2
	serviceAccountWorkers = 1
	disruptionWorkers     = 1

	// replicaSetBurst caps the pods a ReplicaSet creates or deletes in one sync, the
	// kube-controller-manager default.
	replicaSetBurst = 500
	// namespaceResync is how often terminating namespaces are looked at again without an
	// event, kube-controller-manager's --namespace-sync-period.
	namespaceResync = 5 * time.Minute
	// garbageSyncPeriod is how often the garbage collector rereads discovery for new
	// resource types (CRDs), as kube-controller-manager does.
	garbageSyncPeriod = 30 * time.Second
	// maxEndpointsPerSlice is kube-controller-manager's --max-endpoints-per-slice.
	maxEndpointsPerSlice = 100
)

// controllerLoop is one upstream controller, ready to run until the context it was
// built with ends.
type controllerLoop struct {
	name string
	run  func()
}

// typedResource tells whether the runtime already watches gvr with a typed informer (full
// objects). The garbage collector reuses those and watches everything else with
// metadata-only informers: typed informers of Secrets and ConfigMaps would keep every byte
// of them in memory for nothing.
func typedResource(gvr schema.GroupVersionResource) bool {
	switch gvr.GroupVersion() {
	case schema.GroupVersion{Version: "v1"}:
		switch gvr.Resource {
		case "pods", "nodes", "services", "namespaces", "serviceaccounts":
			return true
		}
	case schema.GroupVersion{Group: "apps", Version: "v1"}:
		return gvr.Resource == "deployments" || gvr.Resource == "replicasets"
	case schema.GroupVersion{Group: "discovery.k8s.io", Version: "v1"}:
		return gvr.Resource == "endpointslices"
	}
	return false
}

// garbageInformers is the informer factory of the garbage collector: the typed informers
// of typedResource, metadata-only ones for the rest.
type garbageInformers struct {
	ctx      context.Context
	typed    informers.SharedInformerFactory
	metadata metadatainformer.SharedInformerFactory
}

var _ informerfactory.InformerFactory = (*garbageInformers)(nil)

func (f *garbageInformers) ForResource(gvr schema.GroupVersionResource) (informers.GenericInformer, error) {
	if typedResource(gvr) {
		return f.typed.ForResource(gvr)
	}
	return f.metadata.ForResource(gvr), nil
}

// Start starts informers created since the last call. The garbage collector passes the
// stop channel of the context it runs with, which is f.ctx's; starting with f.ctx gives
// the informers the runtime's logger.
func (f *garbageInformers) Start(<-chan struct{}) {
	f.typed.StartWithContext(f.ctx)
	startMetadataInformers(f.ctx, f.metadata)
}

// startMetadataInformers starts the informers of f with ctx. The interface has only
// Start(stopCh), and a context made from a bare channel costs every informer a goroutine
// that waits on the channel (context.WithCancel cannot hook into it): some 60 per cluster
// for the garbage collector's informers. The factory behind the interface can do better.
func startMetadataInformers(ctx context.Context, f metadatainformer.SharedInformerFactory) {
	if withContext, ok := f.(interface{ StartWithContext(context.Context) }); ok {
		withContext.StartWithContext(ctx)
		return
	}
	f.Start(ctx.Done())
}

// newControllers builds the upstream controllers of kube-controller-manager that a bare
// apiserver needs to behave like a cluster. They register their informers with the
// factories, which the caller starts afterwards and then closes informersStarted.
func newControllers(ctx context.Context, c *clients, typed informers.SharedInformerFactory, metadataOnly metadatainformer.SharedInformerFactory,
	informersStarted <-chan struct{}) ([]controllerLoop, error) {
	logger := klog.FromContext(ctx)
	named := func(name string) context.Context {
		return klog.NewContext(ctx, klog.LoggerWithName(logger, name))
	}
	var loops []controllerLoop

	// The controllers that need no more than a client of their own, each built with a
	// context that logs under its name.
	for _, cc := range []struct {
		name  string
		build func(ctx context.Context, client kubernetes.Interface) (run func(), err error)
	}{
		// Deployments own ReplicaSets own Pods.
		{"deployment-controller", func(ctx context.Context, client kubernetes.Interface) (func(), error) {
			dc, err := deployment.NewDeploymentController(ctx, typed.Apps().V1().Deployments(), typed.Apps().V1().ReplicaSets(), typed.Core().V1().Pods(), client)
			return func() { dc.Run(ctx, deploymentWorkers) }, err
		}},
		{"replicaset-controller", func(ctx context.Context, client kubernetes.Interface) (func(), error) {
			rc := replicaset.NewReplicaSetController(ctx, typed.Apps().V1().ReplicaSets(), typed.Core().V1().Pods(), client, replicaSetBurst)
			return func() { rc.Run(ctx, replicaSetWorkers) }, nil
		}},
		// EndpointSlices of Services with selectors, from the ready pods.
		{"endpointslice-controller", func(ctx context.Context, client kubernetes.Interface) (func(), error) {
			ec := endpointslice.NewController(ctx, typed.Core().V1().Pods(), typed.Core().V1().Services(), typed.Core().V1().Nodes(),
				typed.Discovery().V1().EndpointSlices(), maxEndpointsPerSlice, client, 0)
			return func() { ec.Run(ctx, endpointSliceWorkers) }, nil
		}},
		// The "default" ServiceAccount of every namespace.
		{"service-account-controller", func(ctx context.Context, client kubernetes.Interface) (func(), error) {
			sc, err := serviceaccount.NewServiceAccountsController(klog.FromContext(ctx), typed.Core().V1().ServiceAccounts(), typed.Core().V1().Namespaces(),
				client, serviceaccount.DefaultServiceAccountsControllerOptions())
			return func() { sc.Run(ctx, serviceAccountWorkers) }, err
		}},
	} {
		client, err := c.kube(cc.name)
		if err != nil {
			return nil, err
		}
		run, err := cc.build(named(cc.name), client)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", cc.name, err)
		}
		loops = append(loops, controllerLoop{cc.name, run})
	}

	// Namespace deletion: empties a terminating namespace of every namespaced resource
	// that discovery lists, then removes the kubernetes finalizer.
	{
		const name = "namespace-controller"
		// As in kube-controller-manager: the controller makes a burst of discovery and
		// delete calls per namespace, and the rate limit would slow it to a crawl.
		client, err := c.kubeScaled(name, 20)
		if err != nil {
			return nil, err
		}
		metadataClient, err := c.metadata(name, 20)
		if err != nil {
			return nil, err
		}
		discover, err := firstDiscoveryPrefetched(client.Discovery().ServerPreferredNamespacedResources)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
		ctx := named(name)
		nc := namespace.NewNamespaceController(ctx, client, metadataClient, discover,
			typed.Core().V1().Namespaces(), namespaceResync, v1.FinalizerKubernetes)
		loops = append(loops, controllerLoop{name, func() { nc.Run(ctx, namespaceWorkers) }})

		// Its work without its grace period, as soon as the apiserver allows: see
		// namespaceFinisher. The deleter's constructor calls discovery as the
		// controller's does, hence a result of its own.
		const finisherName = "namespace-finisher"
		discoverFinisher, err := firstDiscoveryPrefetched(client.Discovery().ServerPreferredNamespacedResources)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", finisherName, err)
		}
		finisherCtx := named(finisherName)
		deleter := deletion.NewNamespacedResourcesDeleter(finisherCtx, client.CoreV1().Namespaces(), metadataClient, client.CoreV1(),
			discoverFinisher, v1.FinalizerKubernetes)
		finisher, err := newNamespaceFinisher(client, typed.Core().V1().Namespaces(), deleter)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", finisherName, err)
		}
		loops = append(loops, controllerLoop{finisherName, func() { finisher.run(finisherCtx) }})
	}

	// Garbage collection: cascading deletion through ownerReferences, for every resource
	// that discovery lists, CRDs included.
	{
		const name = "generic-garbage-collector"
		client, err := c.kube(name)
		if err != nil {
			return nil, err
		}
		// Each deletion takes two calls; kube-controller-manager doubles the rate too.
		metadataClient, err := c.metadata(name, 2)
		if err != nil {
			return nil, err
		}
		mapper, err := c.restMapper(name)
		if err != nil {
			return nil, err
		}
		// The collector resets the mapper when discovery changes; its Sync must use a
		// discovery client of its own, not the one behind the mapper.
		syncDiscovery, err := c.discovery(name)
		if err != nil {
			return nil, err
		}
		ctx := named(name)
		factory := &garbageInformers{ctx: ctx, typed: typed, metadata: metadataOnly}
		gc, err := garbagecollector.NewGarbageCollector(ctx, client, metadataClient, mapper,
			garbagecollector.DefaultIgnoredResources(), factory, informersStarted)
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
		loops = append(loops,
			controllerLoop{name, func() { gc.Run(ctx, garbageWorkers, garbageSyncPeriod) }},
			controllerLoop{name + "-sync", func() { gc.Sync(ctx, syncDiscovery, garbageSyncPeriod) }},
		)
	}

	// The disruption controller keeps the status of PodDisruptionBudgets, which the
	// apiserver's eviction subresource reads: without it, every eviction of a pod under a
	// budget is refused, and the autoscaler's drains could not proceed.
	{
		const name = "disruption-controller"
		client, err := c.kube(name)
		if err != nil {
			return nil, err
		}
		mapper, err := c.restMapper(name)
		if err != nil {
			return nil, err
		}
		scales, err := scale.NewForConfig(c.configFor(name, 1), mapper, dynamic.LegacyAPIPathResolverFunc,
			scale.NewDiscoveryScaleKindResolver(client.Discovery()))
		if err != nil {
			return nil, fmt.Errorf("create %s: %w", name, err)
		}
		ctx := named(name)
		dc := disruption.NewDisruptionController(ctx, typed.Core().V1().Pods(), typed.Policy().V1().PodDisruptionBudgets(),
			typed.Core().V1().ReplicationControllers(), typed.Apps().V1().ReplicaSets(), typed.Apps().V1().Deployments(),
			typed.Apps().V1().StatefulSets(), client, mapper, scales, client.Discovery())
		loops = append(loops, controllerLoop{name, func() { dc.Run(ctx, disruptionWorkers) }})
	}
	return loops, nil
}

// firstDiscoveryPrefetched calls discover once now and returns a function that hands out
// that result on its first call and calls discover afterwards. The namespace controller's
// constructor calls discovery once and exits the process (klog.FlushAndExit) if it finds
// nothing; with the prefetched result, an apiserver that fails at that moment fails Start
// instead of killing mlfleet.
func firstDiscoveryPrefetched(discover func() ([]*metav1.APIResourceList, error)) (func() ([]*metav1.APIResourceList, error), error) {
	resources, err := discover()
	if len(resources) == 0 {
		return nil, fmt.Errorf("discover namespaced resources: none found (%v)", err)
	}
	var used atomic.Bool
	return func() ([]*metav1.APIResourceList, error) {
		if used.CompareAndSwap(false, true) {
			return resources, err
		}
		return discover()
	}, nil
}
