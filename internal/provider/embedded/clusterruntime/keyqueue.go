package clusterruntime

import (
	"context"
	"log/slog"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// keyQueue is the work queue of a simulator: namespace/name keys of the objects to sync,
// failed ones retried with the upstream controllers' back-off.
type keyQueue struct {
	workqueue.TypedRateLimitingInterface[string]
	// what the keys name ("pod", "service"), for the log.
	what string
}

// newKeyQueue returns a queue called name in metrics of keys of what.
func newKeyQueue(name, what string) keyQueue {
	return keyQueue{
		TypedRateLimitingInterface: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: name},
		),
		what: what,
	}
}

// enqueue adds the key of obj, an informer's object.
func (q keyQueue) enqueue(obj any) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		q.Add(key)
	}
}

// run syncs keys until ctx ends, then shuts the queue down and waits for the sync under
// way.
func (q keyQueue) run(ctx context.Context, log *slog.Logger, sync func(ctx context.Context, key string) error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.work(ctx, log, sync)
	}()
	<-ctx.Done()
	q.ShutDown()
	<-done
}

// work syncs the keys one at a time until the queue shuts down.
func (q keyQueue) work(ctx context.Context, log *slog.Logger, sync func(ctx context.Context, key string) error) {
	for q.processNext(ctx, log, sync) {
	}
}

// processNext syncs the next key; false when the queue has shut down.
func (q keyQueue) processNext(ctx context.Context, log *slog.Logger, sync func(ctx context.Context, key string) error) bool {
	key, quit := q.Get()
	if quit {
		return false
	}
	defer q.Done(key)
	if err := sync(ctx, key); err != nil {
		if ctx.Err() == nil {
			log.Debug(q.what+" not synced, will retry", q.what, key, "error", err)
		}
		q.AddRateLimited(key)
		return true
	}
	q.Forget(key)
	return true
}
