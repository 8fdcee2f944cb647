// Package operations runs mlfleet's durable long-running operations.
//
// An operation is a row in the store (see store.Operation): a kind, the resource it acts on,
// its input, and a checkpoint of the steps already done. The Engine claims runnable rows with
// a lease, runs the handler registered for the kind, renews the lease while it works, and
// saves the terminal status. Handlers are step pipelines (Run.Step): each step is idempotent
// and recorded when done, so an operation interrupted by a crash resumes from its last
// finished step on the next claim. An operation claimed too many times without finishing is
// failed with a clear error instead of staying InProgress forever.
//
// An operation that fails runs its kind's cleanup (OnFailure) before it ends Failed. A
// cleanup that returns an error is tried again after a growing backoff, on a later claim by
// any replica, the operation staying InProgress meanwhile; after MaxAttempts starts it is
// given up, the kind's GiveUp (OnGiveUp) records the resource's terminal state, and the
// operation ends Failed with its error and the cleanup's.
//
// An operation may carry an origin from the request that submitted it (WithOrigin): the
// EndHook set with OnEnd gets it back when the operation ends, which is how the activity
// log records an operation's result with its request's caller and correlation id.
//
// An ended operation stays readable at its status URL until the sweeper removes it, a
// retention after it ended (sweeper.Config.OperationRetention); the store keeps the newest
// operation, and the newest Failed one, of each resource that still exists.
package operations
