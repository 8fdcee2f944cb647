package cli

import (
	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// Most commands name one resource by flags, then make one call: resolve the flags, call,
// print or wait. The helpers here are that shape, so that a command states only its words,
// its flags and its call.

// resolver is the flags that name a resource: bind adds them to a command, resolve checks
// the required ones and fills the others from the configured defaults.
type resolver interface {
	bind(cmd *cobra.Command)
	resolve() error
}

// parent is a command that only groups subcommands.
func parent(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short}
	cmd.AddCommand(subs...)
	return cmd
}

// leaf is a command without arguments whose body is run; command is a leaf that resolves
// a resource's flags first.
func leaf(use, short string, run func(cmd *cobra.Command) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return run(cmd) },
	}
}

// command is a command without arguments whose flags ref names a resource: run runs once
// they are resolved. Resolving first means a missing name or group is a usage error before
// a client is built or any request is sent.
func command(use, short string, ref resolver, run func(cmd *cobra.Command) error) *cobra.Command {
	cmd := leaf(use, short, func(cmd *cobra.Command) error {
		if err := ref.resolve(); err != nil {
			return err
		}
		return run(cmd)
	})
	ref.bind(cmd)
	return cmd
}

// resolveBy is a resolver of two functions, for a command that binds or resolves a
// reference's flags another way than the reference does (a list needs only -g and -w).
type resolveBy struct {
	binder func(*cobra.Command)
	check  func() error
}

func (r resolveBy) bind(cmd *cobra.Command) { r.binder(cmd) }
func (r resolveBy) resolve() error          { return r.check() }

// start is the body of a command that starts a long-running operation: build the client,
// start the operation, and wait for it unless noWait. It prints no result, only progress
// on stderr: the operations it starts (deletes, key regeneration) have none to print.
func (g *globals) start(cmd *cobra.Command, streams Streams, noWait bool, begin func(c *mlfleet.Client) (*mlfleet.Poller, error)) error {
	c, err := g.client(streams)
	if err != nil {
		return err
	}
	p, err := begin(c)
	if err != nil {
		return err
	}
	return wait(cmd, streams, p, noWait)
}

// locationFlag is -l of a command on one location, defaulting to the configured one.
type locationFlag struct{ location string }

func (f *locationFlag) bind(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.location, "location", "l", "", "Location, e.g. westus")
}

func (f *locationFlag) resolve() (err error) {
	f.location, err = withDefault(f.location, "location", "--location/-l")
	return err
}

// deletion holds the flags of a delete: --yes and --no-wait.
type deletion struct{ yes, noWait bool }

func (d *deletion) bind(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&d.yes, "yes", "y", false, "Do not prompt for confirmation")
	noWaitFlag(cmd, &d.noWait)
}

// run asks question unless --yes, then starts the delete and waits for it unless --no-wait.
func (d *deletion) run(cmd *cobra.Command, streams Streams, g *globals, question string, begin func(c *mlfleet.Client) (*mlfleet.Poller, error)) error {
	if err := confirm(streams, d.yes, question); err != nil {
		return err
	}
	return g.start(cmd, streams, d.noWait, begin)
}

// noWaitFlag binds --no-wait.
func noWaitFlag(cmd *cobra.Command, noWait *bool) {
	cmd.Flags().BoolVar(noWait, "no-wait", false, "Do not wait for the long-running operation to finish")
}
