package mlfleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// progress prints an operation the way azureml-core's wait_for_completion(show_output=True)
// does: the first state, a dot per poll, the new state on a new line when it changes, and
// a closing line with the operation's status. A nil writer prints nothing.
type progress struct {
	w     io.Writer
	shown string
}

func (p *progress) update(state string) {
	if p.w != nil {
		if p.shown == "" {
			fmt.Fprint(p.w, state)
		} else {
			fmt.Fprint(p.w, ".")
			if state != p.shown {
				fmt.Fprintf(p.w, "\n%s", state)
			}
		}
	}
	p.shown = state
}

// finish ends the progress: the closing line when the operation ended (status not ""),
// then the operation's error when it did not succeed.
func (p *progress) finish(status string, err error) {
	if p.w == nil {
		return
	}
	if p.shown != "" {
		fmt.Fprintln(p.w)
	}
	if status == "" {
		return
	}
	fmt.Fprintf(p.w, "Provisioning operation finished, operation \"%s\"\n", status)
	if status != StatusSucceeded && err != nil {
		fmt.Fprintf(p.w, "Provisioning operation error:\n%s\n", describeError(err))
	}
}

// describeError renders an error as `(Code) message` with one line per detail.
func describeError(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	s := fmt.Sprintf("(%s) %s", e.Code, e.Message)
	for _, d := range e.Details {
		s += fmt.Sprintf("\n  - (%s) %s", d.Code, d.Message)
	}
	return s
}

// WaitForCompletion waits for the operation last started through a (create, attach,
// update, scale, detach, delete) to end, printing its progress on showOutput the way
// azureml-core's wait_for_completion(show_output=True) does (S21): the compute's state, a
// dot per poll, each new state on a new line, then
//
//	Provisioning operation finished, operation "Succeeded"
//
// A nil showOutput prints nothing. When the operation fails or is canceled, the closing
// line says so, "Provisioning operation error:" and the error follow, and the error is
// returned (an *Error with the operation's code, message and details). After anything
// but a detach or delete the compute is read again, so its accessors are current; after a
// detach or delete that succeeded, ProvisioningState is Succeeded.
//
// A handle without an operation of its own (from Workspace.Compute or Computes) waits
// until the compute's state is no longer Creating, Updating or Deleting, printing the same
// way. Canceling ctx stops the wait, not the operation.
func (a *AKSCompute) WaitForCompletion(ctx context.Context, showOutput io.Writer) error {
	pr := &progress{w: showOutput}
	if a.op == nil {
		return a.waitForState(ctx, pr)
	}
	st, err := a.op.Wait(ctx, func(st *OperationStatus) {
		state := st.Status
		if !st.Done() {
			if comp, err := a.c.GetCompute(ctx, a.group, a.workspace, a.name); err == nil && comp.Properties.ProvisioningState != "" {
				a.comp, state = comp, comp.Properties.ProvisioningState
			} else if pr.shown != "" {
				// Gone already (a detach near its end) or a hiccup: keep what was shown.
				state = pr.shown
			}
		}
		pr.update(state)
	})
	if st == nil || !st.Done() {
		pr.finish("", nil)
		return err
	}
	removes := a.opRemoves
	a.op, a.opRemoves = nil, false
	pr.finish(st.Status, err)
	switch {
	case err != nil:
		if !removes {
			_ = a.Refresh(ctx) // best effort: a failed create may have been cleaned up
		}
		return err
	case removes:
		// The compute is gone: nothing to read again, and Deleting would no longer be true.
		if a.comp != nil {
			a.comp.Properties.ProvisioningState = st.Status
		}
		return nil
	}
	return a.Refresh(ctx)
}

// waitForState polls the compute until its state is not transitional.
func (a *AKSCompute) waitForState(ctx context.Context, pr *progress) error {
	interval := a.c.pollInterval
	if interval <= 0 {
		interval = time.Second
	}
	for {
		if err := a.Refresh(ctx); err != nil {
			pr.finish("", nil)
			return err
		}
		state := a.ProvisioningState()
		pr.update(state)
		switch state {
		case "Creating", "Updating", "Deleting", "":
		default:
			var err error
			if state == StatusFailed || state == StatusCanceled {
				err = &Error{Code: state, Message: fmt.Sprintf("compute '%s' is in state %s", a.name, state)}
				if errs := a.ProvisioningErrors(); len(errs) > 0 {
					err = errs[0]
				}
			}
			pr.finish(state, err)
			return err
		}
		select {
		case <-ctx.Done():
			pr.finish("", nil)
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
