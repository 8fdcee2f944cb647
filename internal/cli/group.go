package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func newGroupCommand(streams Streams, g *globals) *cobra.Command {
	return parent("group", "Manage resource groups", newGroupCreate(streams, g), newGroupShow(streams, g), newGroupExists(streams, g), newGroupList(streams, g), newGroupDelete(streams, g))
}

// groupNameFlag is -n of a command on one resource group: required, or when defaulted
// (group show) filled from the configured default group.
type groupNameFlag struct {
	name      string
	defaulted bool
}

func (f *groupNameFlag) bind(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.name, "name", "n", "", "Name of the resource group")
}

func (f *groupNameFlag) resolve() (err error) {
	if f.defaulted {
		f.name, err = withDefault(f.name, "group", "--name/-n")
		return err
	}
	return required(f.name, "--name/-n")
}

// newGroupCreate is `mlfleet group create`: a plain PUT, as az group create sends, so an
// existing group gets the tags given rather than a refusal; only a change of location is
// refused (409).
func newGroupCreate(streams Streams, g *globals) *cobra.Command {
	f := &groupNameFlag{}
	var location string
	var tags []string
	cmd := command("create -n NAME -l LOCATION", "Create or update a resource group", f, func(cmd *cobra.Command) error {
		location, err := withDefault(location, "location", "--location/-l")
		if err != nil {
			return err
		}
		t, err := parseTags(tags)
		if err != nil {
			return err
		}
		return g.call(streams, groupTable, func(c *mlfleet.Client) (any, error) { return c.CreateResourceGroup(cmd.Context(), f.name, location, t) })
	})
	cmd.Flags().StringVarP(&location, "location", "l", "", "Location, e.g. westus")
	cmd.Flags().StringSliceVar(&tags, "tags", nil, "Tags, one key[=value] a word (or comma-separated)")
	severalWords(cmd.Flags(), "tags")
	return cmd
}

func newGroupShow(streams Streams, g *globals) *cobra.Command {
	f := &groupNameFlag{defaulted: true}
	return callCommand(streams, g, "show -n NAME", "Show a resource group", f, nil, groupTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.GetResourceGroup(ctx, f.name)
	})
}

// newGroupExists prints true or false, as az group exists does, and fails only when the
// answer cannot be known.
func newGroupExists(streams Streams, g *globals) *cobra.Command {
	f := &groupNameFlag{}
	return callCommand(streams, g, "exists -n NAME", "Tell whether a resource group exists (true or false)", f, nil, nil, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		_, err := c.GetResourceGroup(ctx, f.name)
		if mlfleet.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
}

// newGroupList is `mlfleet group list [--tag key[=value]]`. As in az, --tag is one tag,
// split at its first "=", and a tag without a value matches any value.
func newGroupList(streams Streams, g *globals) *cobra.Command {
	var tag string
	cmd := callCommand(streams, g, "list [--tag KEY[=VALUE]]", "List resource groups", nil, nil, groupTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		if tag == "" {
			return c.ListResourceGroups(ctx)
		}
		name, value, _ := strings.Cut(tag, "=")
		return c.ListResourceGroupsByTag(ctx, name, value)
	})
	cmd.Flags().StringVar(&tag, "tag", "", "A single tag in 'key[=value]' format: list only the groups that have it")
	return cmd
}

func newGroupDelete(streams Streams, g *globals) *cobra.Command {
	f := &groupNameFlag{}
	return deleteCommand(streams, g, "delete -n NAME", "Delete a resource group and everything in it", f,
		func() string {
			return fmt.Sprintf("Are you sure you want to delete resource group '%s' and everything in it?", f.name)
		},
		func(ctx context.Context, c *mlfleet.Client) (*mlfleet.Poller, error) {
			return c.BeginDeleteResourceGroup(ctx, f.name)
		})
}

// wait follows a long-running operation, showing progress on stderr, unless noWait: a dot
// per poll, then the time it took. stdout stays for the result, so that -o tsv and
// --query output can be captured by a script. A nil poller means the server finished
// synchronously (nothing to delete, nothing to change).
//
// When the operation's status cannot be read to its end (the server stopped answering,
// the command was interrupted), the error is a lost one (lostOperation): the server had
// accepted the operation, which goes on there, and the error says where to see its end.
func wait(cmd *cobra.Command, streams Streams, p *mlfleet.Poller, noWait bool) error {
	if p == nil || noWait {
		return nil
	}
	start := time.Now()
	fmt.Fprint(streams.Err, " - Running ")
	st, err := p.Wait(cmd.Context(), func(*mlfleet.OperationStatus) { fmt.Fprint(streams.Err, ".") })
	took := time.Since(start).Round(100 * time.Millisecond)
	if err != nil && (st == nil || !st.Done()) {
		fmt.Fprintf(streams.Err, " stopped following after %s\n", took)
		return lostOperation(err, p)
	}
	fmt.Fprintf(streams.Err, " done in %s\n", took)
	return err
}

// groupTable is az's table shape for resource groups: Name, Location, Status.
func groupTable(v any) any {
	return rows(v, func(m map[string]any) row {
		return row{{"Name", m["name"]}, {"Location", m["location"]}, {"Status", dig(m, "properties", "provisioningState")}}
	})
}
