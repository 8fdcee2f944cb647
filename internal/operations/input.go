package operations

import "context"

// HandlerOf makes the Handler of a flow that takes the operation's input decoded into an In.
func HandlerOf[In any](flow func(context.Context, *Run, In) error) Handler {
	return func(ctx context.Context, run *Run) error {
		var in In
		if err := run.Input(&in); err != nil {
			return err
		}
		return flow(ctx, run, in)
	}
}

// CleanupOf makes the Cleanup of a failed operation from onFail, which takes the
// operation's input decoded into an In and the cause of the failure.
func CleanupOf[In any](onFail func(context.Context, In, error) error) Cleanup {
	return func(ctx context.Context, run *Run, cause error) error {
		var in In
		if err := run.Input(&in); err != nil {
			return err
		}
		return onFail(ctx, in, cause)
	}
}
