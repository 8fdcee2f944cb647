package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

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

// parent is a command that only groups subcommands. Alone, it prints its help; followed
// by a word that is none of its commands, it is a usage error (runGroup). Flags it does
// not know are let through to that check: `aks nodepool add --cluster-name c1` is a
// command mlfleet lacks, not a flag the user got wrong.
func parent(use, short string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Args: cobra.ArbitraryArgs, RunE: runGroup,
		FParseErrWhitelist: cobra.FParseErrWhitelist{UnknownFlags: true}}
	cmd.AddCommand(subs...)
	return cmd
}

// runGroup runs a command that only groups subcommands: with no word after it, it prints
// its help, as az does for a command group; with a word that names none of its commands
// (cobra stops there), it refuses it with exit 2, lists the commands it has, and says so
// when the word is an az command that mlfleet does not support.
func runGroup(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	msg := fmt.Sprintf("'%s' is not a command of '%s'.", args[0], cmd.CommandPath())
	if why := unsupportedCommand(cmd.CommandPath() + " " + args[0]); why != "" {
		msg += " " + why
	}
	return usagef("%s\nThe commands of '%s' are: %s. Run '%s --help' for what each does.", msg, cmd.CommandPath(), strings.Join(names, ", "), cmd.CommandPath())
}

// unsupportedCommand returns why mlfleet has no command of az's that a user may type
// (path, with mlfleet for az), or "" for a word that is no such command.
func unsupportedCommand(path string) string {
	switch path {
	case "mlfleet aks nodepool add":
		return "Adding node pools is not supported by mlfleet: a cluster has the pools it was created with. Scale or update one of them ('mlfleet aks nodepool scale' or 'update'), or create a cluster with the pool you need."
	case "mlfleet aks nodepool delete":
		return "Removing node pools is not supported by mlfleet: a cluster keeps the pools it was created with. Scale a pool down ('mlfleet aks nodepool scale', to 1 node at least), or delete the cluster."
	}
	return ""
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

// callCommand is the shape of most commands, resolve → call → print: once ref's flags are
// resolved (a nil ref names no resource: there is nothing to resolve), it builds the client,
// makes the one call and prints its answer, reshaped by shape when az prints it another way
// (nil: printed as it is) and with table for -o table. A nil answer prints nothing (call).
func callCommand(streams Streams, g *globals, use, short string, ref resolver, shape func(any) (any, error), table func(any) any,
	call func(ctx context.Context, c *mlfleet.Client) (any, error)) *cobra.Command {
	run := func(cmd *cobra.Command) error {
		fn := func(c *mlfleet.Client) (any, error) { return call(cmd.Context(), c) }
		if shape == nil {
			return g.call(streams, table, fn)
		}
		return g.callAs(streams, shape, table, fn)
	}
	if ref == nil {
		return leaf(use, short, run)
	}
	return command(use, short, ref, run)
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

// groupScope is -g of a list that covers one resource group or, without -g, the whole
// subscription. When defaulted (the workspace commands), the configured default group
// narrows the list first; with none configured, every group is listed.
type groupScope struct {
	group     string
	defaulted bool
}

func (f *groupScope) bind(cmd *cobra.Command) {
	usage := "Resource group (default: every group)"
	if f.defaulted {
		usage = "Resource group (default: the configured one, else all)"
	}
	cmd.Flags().StringVarP(&f.group, "resource-group", "g", "", usage)
}

func (f *groupScope) resolve() error {
	if f.group == "" && f.defaulted {
		f.group = defaults()["group"]
	}
	return nil
}

// deletion holds the flags of a delete: --yes and --no-wait.
type deletion struct{ yes, noWait bool }

func (d *deletion) bind(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&d.yes, "yes", "y", false, "Do not prompt for confirmation")
	noWaitFlag(cmd, &d.noWait)
}

// deleteCommand is a delete of the resource ref names: once ref is resolved, it asks
// question unless --yes, then starts the delete with begin and waits for it unless
// --no-wait. question is a function because it names the resource, known only then.
func deleteCommand(streams Streams, g *globals, use, short string, ref resolver, question func() string,
	begin func(ctx context.Context, c *mlfleet.Client) (*mlfleet.Poller, error)) *cobra.Command {
	var d deletion
	cmd := command(use, short, ref, func(cmd *cobra.Command) error {
		if err := confirm(streams, d.yes, question()); err != nil {
			return err
		}
		return g.start(cmd, streams, d.noWait, func(c *mlfleet.Client) (*mlfleet.Poller, error) { return begin(cmd.Context(), c) })
	})
	d.bind(cmd)
	return cmd
}

// noWaitFlag binds --no-wait.
func noWaitFlag(cmd *cobra.Command, noWait *bool) {
	cmd.Flags().BoolVar(noWait, "no-wait", false, "Do not wait for the long-running operation to finish")
}

// severalWordsAnnotation marks a flag that, as az's flags of nargs '*' or '+' do, takes
// every word that follows it on the command line up to the next flag: --tags a=b c=d.
const severalWordsAnnotation = "mlfleet/several-words"

// severalWords marks the flag name of fl as taking several words. The flag must be a
// slice or array flag: spreadWords turns each further word into one more use of the flag.
func severalWords(fl *pflag.FlagSet, name string) {
	if err := fl.SetAnnotation(name, severalWordsAnnotation, []string{"true"}); err != nil {
		panic(err) // a flag not bound first: a mistake in the command's constructor
	}
}

// spreadWords rewrites args so that pflag, which gives a flag one word, reads az's
// grammar: after a flag marked by severalWords and its value, each further word up to the
// next flag (or "--") becomes the flag repeated, --tags a=b c=d → --tags a=b --tags c=d.
// A flag given as --tags=a=b takes only that value, as in az. Words before such a flag,
// and after "--", are left to the command as they are.
func spreadWords(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil {
		return args // cobra reports the unknown command when it executes
	}
	out := make([]string, 0, len(args))
	var several string // the flag whose further words are being read, as written
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i:]...)
		case several != "" && !strings.HasPrefix(a, "-"):
			out = append(out, several, a)
			continue
		}
		out = append(out, a)
		several = ""
		if f := flagOf(cmd, a); f != nil && f.Annotations[severalWordsAnnotation] != nil && i+1 < len(args) {
			// The first word is the flag's own value, whatever it looks like ("" clears).
			i++
			out = append(out, args[i])
			several = a
		}
	}
	return out
}

// flagOf returns the flag of cmd that the word a names without a value (--tags, -t), or
// nil for a word that is no flag or carries its value (--tags=a=b).
func flagOf(cmd *cobra.Command, a string) *pflag.Flag {
	switch {
	case strings.HasPrefix(a, "--") && !strings.Contains(a, "="):
		return cmd.Flags().Lookup(a[2:])
	case len(a) == 2 && a[0] == '-' && a[1] != '-':
		return cmd.Flags().ShorthandLookup(a[1:])
	}
	return nil
}
