package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mlfleet/mlfleet/internal/clientconfig"
	"github.com/mlfleet/mlfleet/internal/output"
	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// Streams are the standard streams a command uses.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// UsageError is a command-line mistake (unknown flag, missing argument); it exits with 2,
// as az does for what argparse rejects, so that a script can tell a mistake in its own
// command line from a request the server refused (exit 1).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// usagef is fmt.Errorf for a *UsageError.
func usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ExitCode returns the process exit code for the error Run returned.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}

// Run runs the mlfleet command line with args (without the program name). Errors are
// printed to streams.Err as `ERROR: ...` before being returned.
func Run(ctx context.Context, streams Streams, args []string) error {
	root := NewRootCommand(streams)
	root.SetArgs(spreadWords(root, args))
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	err := root.ExecuteContext(ctx)
	if err != nil {
		// Flag parse errors are already *UsageError (SetFlagErrorFunc); cobra's own
		// argument and command errors are plain ones, recognised here by their text.
		if isCobraUsage(err) {
			err = &UsageError{Err: err}
		}
		err = adviseUnreachable(err)
		fmt.Fprintf(streams.Err, "ERROR: %s\n", message(err))
	}
	return err
}

// message renders an error the way az does: `(Code) message` plus each detail, then the
// advice of an *adviceError, a line each.
func message(err error) string {
	var adv *adviceError
	if errors.As(err, &adv) {
		return message(adv.err) + "\n" + strings.Join(adv.advice, "\n")
	}
	var ae *mlfleet.Error
	if errors.As(err, &ae) {
		var b strings.Builder
		fmt.Fprintf(&b, "(%s) %s", ae.Code, ae.Message)
		if !detailIsHeadline(ae) {
			for _, d := range ae.Details {
				fmt.Fprintf(&b, "\n  - (%s) %s", d.Code, d.Message)
			}
		}
		return b.String()
	}
	return err.Error()
}

// detailIsHeadline reports whether e's details are only its headline again: one problem
// reported in a list, as the server's validation reports every problem (arm.Problems),
// whatever its own code (a compute's checks head an InvalidResourceName with UserError).
// Printed, it would say the same thing twice.
func detailIsHeadline(e *mlfleet.Error) bool {
	return len(e.Details) == 1 && e.Details[0].Message == e.Message
}

// isCobraUsage reports whether err is one of the errors cobra and pflag return for a
// command line they cannot parse (unknown command, wrong number of arguments, a required
// flag missing). cobra returns them from fmt.Errorf, with no type or sentinel to test with
// errors.As, so their text is all there is to go by: the start of it, as they word it. An
// answer of the server is never one, whatever its message says ("accepts API server
// connections only from ..." is a refused attach, exit 1).
func isCobraUsage(err error) bool {
	var ae *mlfleet.Error
	if errors.As(err, &ae) {
		return false
	}
	s := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument",
		"invalid argument", "required flag", "accepts ", "requires at least", "bad flag syntax"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// adviceError is an error followed by what the user can do about it, in sentences that
// name the commands to run, as az ends some errors.
type adviceError struct {
	err    error
	advice []string
	// lost is set for an operation that the server accepted and whose end the command
	// could not wait for (lostOperation).
	lost bool
}

func (e *adviceError) Error() string { return message(e) }
func (e *adviceError) Unwrap() error { return e.err }

// advise returns err with one more sentence of advice.
func advise(err error, advice string) error {
	var adv *adviceError
	if errors.As(err, &adv) {
		return &adviceError{err: adv.err, advice: append(append([]string(nil), adv.advice...), advice), lost: adv.lost}
	}
	return &adviceError{err: err, advice: []string{advice}}
}

// lostOperation is the error of a wait for p's operation that ended with err before the
// operation did. The server had accepted the operation; operations are durable and go on
// (after a restart of the server too), and the activity log records their end under the
// correlation id of the request that started them.
func lostOperation(err error, p *mlfleet.Poller) error {
	advice := "The operation was accepted and goes on on the server; this command stopped following it."
	if id := p.CorrelationID(); id != "" {
		advice += " To see how it ends, run: mlfleet monitor activity-log list --correlation-id " + id
	}
	return &adviceError{err: err, advice: []string{advice}, lost: true}
}

// isLost reports whether err is a lostOperation error.
func isLost(err error) bool {
	var adv *adviceError
	return errors.As(err, &adv) && adv.lost
}

// globals are the flags every command has.
type globals struct {
	output       string
	query        string
	debug        bool
	subscription string
}

// hideKubernetesFlags: the flags Kubernetes libraries register on pflag.CommandLine when
// they are linked in (component-base's --version, which would set the reported version).
// cobra shows and parses every flag there as the root command's own; mlfleet's commands
// have only their own flags, so the root command takes them out once. Once per process,
// not per call: tests run cli.Run in parallel, and cobra reads pflag.CommandLine while a
// command executes.
var hideKubernetesFlags sync.Once

// NewRootCommand returns the `mlfleet` command with every subcommand.
func NewRootCommand(streams Streams) *cobra.Command {
	hideKubernetesFlags.Do(func() { pflag.CommandLine = pflag.NewFlagSet(os.Args[0], pflag.ContinueOnError) })
	g := &globals{}
	root := &cobra.Command{
		Use:   "mlfleet",
		Short: "Self-hosted control plane for ML inference clusters",
		Long:  "mlfleet creates, attaches and detaches Kubernetes inference clusters for Machine Learning workspaces.\nRun 'mlfleet serve' to start the control plane; the other commands are its CLI.",
		// Run prints errors itself, az's way (`ERROR: ...`), and a refused request is no
		// reason to print the usage.
		SilenceUsage:  true,
		SilenceErrors: true,
		// -o and --query are checked before the command runs, so that a typo in them is a
		// usage error at once rather than after a create has started.
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := output.ValidFormat(g.output); err != nil {
				return &UsageError{Err: err}
			}
			if err := output.ValidQuery(g.query); err != nil {
				return &UsageError{Err: err}
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return &UsageError{Err: err} })
	// Command groups run (parent, runGroup) only to refuse a word that is none of their
	// commands; their usage shows "mlfleet aks [command]" alone, not "mlfleet aks [flags]"
	// as if the group did something by itself.
	root.SetUsageTemplate(strings.Replace(root.UsageTemplate(), "Usage:{{if .Runnable}}", "Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}", 1))
	pf := root.PersistentFlags()
	pf.StringVarP(&g.output, "output", "o", "json", "Output format: json, jsonc, table, tsv, yaml, none")
	pf.StringVar(&g.query, "query", "", "JMESPath query string, see http://jmespath.org/")
	pf.BoolVar(&g.debug, "debug", false, "Log every request and response to stderr")
	pf.StringVar(&g.subscription, "subscription", "", "Subscription id (default: the configured one)")

	root.AddCommand(
		newServeCommand(streams),
		newGroupCommand(streams, g),
		newTagCommand(streams, g),
		newResourceCommand(streams, g),
		newProviderCommand(streams, g),
		newMLCommand(streams, g),
		newAKSCommand(streams, g),
		newVMCommand(streams, g),
		newPolicyCommand(streams, g),
		newMonitorCommand(streams, g),
		newConfigureCommand(streams, g),
		newAccountCommand(streams, g),
		newLoginCommand(streams, g),
		newLogoutCommand(streams),
		newADCommand(streams, g),
		newRoleCommand(streams, g),
		newReplicaCommand(streams, g),
		newVersionCommand(streams, g),
	)
	return root
}

// client returns an SDK client configured from the home directory and the global flags.
// Every command that talks to the server gets its client here, so a signed-in service
// principal's expired token is renewed before any request (renewLogin).
func (g *globals) client(streams Streams) (*mlfleet.Client, error) {
	opts := []mlfleet.Option{}
	if g.subscription != "" {
		opts = append(opts, mlfleet.WithSubscription(g.subscription))
	}
	if g.debug {
		opts = append(opts, mlfleet.WithDebug(streams.Err))
	}
	if err := renewLogin(); err != nil {
		return nil, err
	}
	return mlfleet.NewClient(opts...)
}

// renewLogin gets a new token for a signed-in service principal whose token expired, as
// az does with the secret it keeps. A user signs in again: a user's password is never
// kept, so NewClient then fails with the advice to run `mlfleet login`.
func renewLogin() error {
	// A token from the environment wins over the configuration's (NewClient): the
	// sign-in in the configuration is not used, so there is nothing to renew.
	if os.Getenv("MLFLEET_TOKEN") != "" {
		return nil
	}
	home, cfg, err := loadConfig()
	if err != nil || cfg.Login == nil || !cfg.Login.ServicePrincipal || cfg.Login.Secret == "" || !cfg.Login.Expired(time.Now()) {
		return nil // NewClient reports a missing config or an expired user sign-in
	}
	hc, err := mlfleet.NewHTTPClient(cfg.CAFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	token, expires, err := mlfleet.SignIn(ctx, hc, cfg.Server, true, cfg.Login.Username, cfg.Login.Secret)
	if err != nil {
		return fmt.Errorf("renew the sign-in of %s: %w", cfg.Login.Username, err)
	}
	// Saved so that the next commands reuse the token until it expires in turn.
	cfg.Login.AccessToken, cfg.Login.ExpiresOn = token, expires
	return clientconfig.Save(home, cfg)
}

// print writes a result with the global output options. jsonc is coloured only when
// stdout and stderr are both terminals, as az decides: piped into a file or another
// program, jsonc is plain json, with no escape codes in the way.
func (g *globals) print(streams Streams, v any, table func(any) any) error {
	color := g.output == "jsonc" && isTerminalWriter(streams.Out) && isTerminalWriter(streams.Err)
	return output.Print(streams.Out, v, output.Options{Format: g.output, Query: g.query, Table: table, Color: color, Extensions: azExtensions})
}

// isTerminalWriter reports whether w is a file that is a terminal (isTerminal).
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// defaults returns the values set by `mlfleet configure --defaults` (empty when none). A
// configuration that cannot be read has no defaults here; the command then fails on the
// flag it misses, or on the configuration when it builds its client.
func defaults() map[string]string {
	_, c, err := loadConfig()
	if err != nil || c.Defaults == nil {
		return map[string]string{}
	}
	return c.Defaults
}

// loadConfig returns the home directory and the client configuration in it.
func loadConfig() (string, *clientconfig.Config, error) {
	home, err := clientconfig.Home()
	if err != nil {
		return "", nil, err
	}
	cfg, err := clientconfig.Load(home)
	return home, cfg, err
}

// withDefault returns v, else the configured default for key, else a usage error naming
// the flag to pass.
func withDefault(v, key, flag string) (string, error) {
	if v != "" {
		return v, nil
	}
	if d := defaults()[key]; d != "" {
		return d, nil
	}
	return "", usagef("the following arguments are required: %s (or set a default with 'mlfleet configure --defaults %s=NAME')", flag, key)
}

// required returns a usage error naming flag when v is empty. The wording is argparse's,
// which az prints for a missing required argument.
func required(v, flag string) error {
	if v == "" {
		return usagef("the following arguments are required: %s", flag)
	}
	return nil
}

// requiredAll is required for several flags, given as value, flag name, value, flag name…;
// it reports the first missing one.
func requiredAll(valueFlagPairs ...string) error {
	for i := 0; i+1 < len(valueFlagPairs); i += 2 {
		if err := required(valueFlagPairs[i], valueFlagPairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// call is the body of most commands: build the client, make the call, print its result
// (with table for -o table) unless it is nil. A nil result is how a command that answers
// nothing (a delete) prints nothing, even with -o json, as az prints nothing for it.
func (g *globals) call(streams Streams, table func(any) any, fn func(c *mlfleet.Client) (any, error)) error {
	c, err := g.client(streams)
	if err != nil {
		return err
	}
	v, err := fn(c)
	if err != nil || v == nil {
		return err
	}
	return g.print(streams, v, table)
}

// callAs is call for the commands whose answer az prints reshaped (see azShape): shape
// turns the answer into what az prints.
func (g *globals) callAs(streams Streams, shape func(any) (any, error), table func(any) any, fn func(c *mlfleet.Client) (any, error)) error {
	return g.call(streams, table, func(c *mlfleet.Client) (any, error) {
		v, err := fn(c)
		if err != nil {
			return nil, err
		}
		return shape(v)
	})
}

// printAs is print for an answer az prints reshaped: shape turns v into what az prints.
func (g *globals) printAs(streams Streams, v any, shape func(any) (any, error), table func(any) any) error {
	shaped, err := shape(v)
	if err != nil {
		return err
	}
	return g.print(streams, shaped, table)
}

// confirm asks a yes/no question on streams; yes skips it. Anything but y or yes is a no,
// which ends the command with an error.
func confirm(streams Streams, yes bool, question string) error {
	if yes {
		return nil
	}
	// Without a terminal nobody can answer: refuse and point to --yes, as az does, rather
	// than read whatever a script pipes into stdin as the answer.
	if f, ok := streams.In.(*os.File); !ok || !isTerminal(f) {
		return usagef("the command requires confirmation and stdin is not a terminal; pass --yes to run it without a prompt")
	}
	fmt.Fprintf(streams.Err, "%s (y/n): ", question)
	var answer string
	if _, err := fmt.Fscanln(streams.In, &answer); err != nil {
		return usagef("the command requires confirmation; pass --yes to run it without a prompt")
	}
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return errors.New("operation cancelled")
	}
	return nil
}

// Main is the body of the mlfleet binary's main function.
func Main() int {
	ctx, stop := signalContext()
	defer stop()
	err := Run(ctx, Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Args[1:])
	return ExitCode(err)
}

// isTerminal reports whether f is a character device, which a terminal is, without an
// ioctl or golang.org/x/term. /dev/null is one too; confirm then reads EOF, no answer.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
