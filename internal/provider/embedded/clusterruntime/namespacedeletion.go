package clusterruntime

import (
	"context"
	"errors"
	"slices"
	"time"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/pkg/controller/namespace/deletion"
)

const (
	// namespaceGracePeriod is how long the upstream namespace controller waits after a
	// namespace's delete before it empties it (namespaceDeletionGracePeriod in
	// k8s.io/kubernetes/pkg/controller/namespace, not exported).
	namespaceGracePeriod = 5 * time.Second
	// namespaceSettle is how long the finisher lets a write that the apiserver admitted
	// into a namespace just before it began refusing new content reach storage. Such a
	// write takes milliseconds in an embedded cluster; the margin is a tenth of upstream's.
	namespaceSettle = 500 * time.Millisecond
	// namespaceProbeEvery is how often the finisher asks again whether the apiserver
	// refuses new content in a deleted namespace.
	namespaceProbeEvery = 50 * time.Millisecond
)

// namespaceFinisher empties and removes a deleted namespace as soon as the cluster's
// apiserver refuses new content in it, rather than namespaceGracePeriod after the delete.
// An attach that follows a detach waits for namespace azureml to be gone, and the grace
// period was most of that wait.
//
// The grace period is for control planes of several apiservers and etcd members: it gives
// the lifecycle admission of every apiserver time to see the namespace Terminating, and
// etcd members that are not the leader time to see the last creations in it. An embedded
// cluster has one apiserver, and the finisher asks it instead of waiting: a dry-run create
// in the namespace passes admission until the apiserver's own lifecycle admission sees the
// namespace Terminating, and is refused (NamespaceTerminatingCause) from then on. Its
// lists are consistent reads (at etcd's current revision), so no etcd member answers from
// behind. A write admitted just before the refusal gets namespaceSettle to land.
//
// The emptying is upstream's own (deletion.NamespacedResourcesDeleter), with its rules:
// pods still terminating and objects with finalizers hold the namespace
// (ResourcesRemainingError), and the finalizer is removed only when nothing is left. The
// finisher tries once per namespace. Whatever it leaves (content that remains, an error,
// an apiserver that does not refuse within the grace period) the upstream controller,
// which runs as before, finishes on its own schedule.
type namespaceFinisher struct {
	client     kubernetes.Interface
	namespaces corelisters.NamespaceLister
	deleter    deletion.NamespacedResourcesDeleterInterface
	queue      workqueue.TypedInterface[string]
	// tried is the UID of the namespace of each name that the finisher has worked on, so
	// that the status updates of its own deletion do not start it again. Only the worker
	// reads and writes it.
	tried map[string]types.UID
}

// newNamespaceFinisher returns a finisher that works on the namespaces of informer.
func newNamespaceFinisher(client kubernetes.Interface, informer coreinformers.NamespaceInformer, deleter deletion.NamespacedResourcesDeleterInterface) (*namespaceFinisher, error) {
	f := &namespaceFinisher{client: client, namespaces: informer.Lister(), deleter: deleter,
		queue: workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[string]{Name: "namespace-finisher"}), tried: map[string]types.UID{}}
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			f.queue.Add(key)
		}
	}
	_, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		// A namespace gone is forgotten (tried).
		DeleteFunc: enqueue,
	})
	return f, err
}

// run works on the queue until ctx ends.
func (f *namespaceFinisher) run(ctx context.Context) {
	go func() {
		<-ctx.Done()
		f.queue.ShutDown()
	}()
	for {
		name, quit := f.queue.Get()
		if quit {
			return
		}
		f.finish(ctx, name)
		f.queue.Done(name)
	}
}

// finish empties and removes namespace name if it is being deleted and the finisher has
// not tried it yet. It reports nothing: what it cannot do, the upstream controller does.
func (f *namespaceFinisher) finish(ctx context.Context, name string) {
	ns, err := f.namespaces.Get(name)
	if err != nil {
		delete(f.tried, name)
		return
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, v1.FinalizerKubernetes) || f.tried[name] == ns.UID {
		return
	}
	f.tried[name] = ns.UID
	log := klog.FromContext(ctx).WithValues("namespace", name)
	if err := f.waitRefused(ctx, name); err != nil {
		log.V(4).Info("Namespace left to the namespace controller", "reason", err)
		return
	}
	select {
	case <-ctx.Done():
		return
	case <-time.After(namespaceSettle):
	}
	err = f.deleter.Delete(ctx, name)
	var remaining *deletion.ResourcesRemainingError
	switch {
	case errors.As(err, &remaining):
		log.V(4).Info("Namespace content remains; left to the namespace controller", "estimateSeconds", remaining.Estimate)
	case err != nil:
		log.V(4).Info("Namespace left to the namespace controller", "reason", err)
	}
}

// waitRefused waits, up to namespaceGracePeriod, until the apiserver refuses new content
// in namespace name: a dry-run create of a ConfigMap there fails with
// NamespaceTerminatingCause. A namespace gone meanwhile is an error too: nothing is left to
// do.
func (f *namespaceFinisher) waitRefused(ctx context.Context, name string) error {
	probe := &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "namespace-deletion-probe-"}}
	return wait.PollUntilContextTimeout(ctx, namespaceProbeEvery, namespaceGracePeriod, true, func(ctx context.Context) (bool, error) {
		_, err := f.client.CoreV1().ConfigMaps(name).Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		switch {
		case err == nil:
			return false, nil // admission does not know yet
		case apierrors.HasStatusCause(err, v1.NamespaceTerminatingCause):
			return true, nil
		}
		return false, err
	})
}
