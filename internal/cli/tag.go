package cli

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// newTagCommand is `mlfleet tag`, az tag's commands on one resource's tags (--resource-id):
// the id of a resource group or of a resource mlfleet keeps tags on.
func newTagCommand(streams Streams, g *globals) *cobra.Command {
	return parent("tag", "Manage the tags of a resource or resource group",
		newTagCreate(streams, g), newTagUpdate(streams, g), newTagList(streams, g), newTagDelete(streams, g))
}

// tagTarget is --resource-id and --tags of a tag command.
type tagTarget struct {
	id   string
	tags []string
	// withTags binds --tags too, required.
	withTags bool
}

func (f *tagTarget) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.id, "resource-id", "", "The id of the resource or resource group, e.g. /subscriptions/{id}/resourceGroups/{name}")
	if f.withTags {
		cmd.Flags().StringSliceVar(&f.tags, "tags", nil, "Tags, one key[=value] a word (or comma-separated)")
		severalWords(cmd.Flags(), "tags")
	}
}

func (f *tagTarget) resolve() error {
	if err := required(f.id, "--resource-id"); err != nil {
		return err
	}
	if f.withTags && len(f.tags) == 0 {
		return usagef("the following arguments are required: --tags")
	}
	return nil
}

// newTagCreate is `mlfleet tag create --resource-id ID --tags k=v ...`: the resource's tags
// become exactly those given, as az tag create --resource-id does.
func newTagCreate(streams Streams, g *globals) *cobra.Command {
	f := &tagTarget{withTags: true}
	return command("create --resource-id ID --tags KEY[=VALUE] ...", "Set the tags of a resource or resource group", f, func(cmd *cobra.Command) error {
		tags, err := parseTags(f.tags)
		if err != nil {
			return err
		}
		return g.call(streams, nil, func(c *mlfleet.Client) (any, error) { return c.SetTags(cmd.Context(), f.id, tags) })
	})
}

// newTagUpdate is `mlfleet tag update --resource-id ID --operation Merge|Replace|Delete
// --tags k=v ...`, as az tag update.
func newTagUpdate(streams Streams, g *globals) *cobra.Command {
	f := &tagTarget{withTags: true}
	var operation string
	cmd := command("update --resource-id ID --operation Merge|Replace|Delete --tags KEY[=VALUE] ...", "Merge, replace or delete tags of a resource or resource group", f, func(cmd *cobra.Command) error {
		op := ""
		for _, o := range []string{"Merge", "Replace", "Delete"} {
			if strings.EqualFold(operation, o) {
				op = o
			}
		}
		if op == "" {
			return usagef("argument --operation: invalid choice: '%s' (choose from 'Merge', 'Replace', 'Delete')", operation)
		}
		tags, err := parseTags(f.tags)
		if err != nil {
			return err
		}
		return g.call(streams, nil, func(c *mlfleet.Client) (any, error) { return c.UpdateTags(cmd.Context(), f.id, op, tags) })
	})
	cmd.Flags().StringVar(&operation, "operation", "", "Merge adds or replaces the tags given, Replace sets exactly them, Delete removes them")
	return cmd
}

// newTagList is `mlfleet tag list --resource-id ID`: the resource's tags.
func newTagList(streams Streams, g *globals) *cobra.Command {
	f := &tagTarget{}
	return callCommand(streams, g, "list --resource-id ID", "Show the tags of a resource or resource group", f, nil, nil, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.GetTags(ctx, f.id)
	})
}

// newTagDelete is `mlfleet tag delete --resource-id ID`: every tag of the resource goes.
func newTagDelete(streams Streams, g *globals) *cobra.Command {
	f := &tagTarget{}
	var yes bool
	cmd := command("delete --resource-id ID [--yes]", "Remove every tag of a resource or resource group", f, func(cmd *cobra.Command) error {
		if err := confirm(streams, yes, "Are you sure you want to delete every tag of '"+f.id+"'?"); err != nil {
			return err
		}
		return g.call(streams, nil, func(c *mlfleet.Client) (any, error) { return nil, c.DeleteTags(cmd.Context(), f.id) })
	})
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "Do not prompt for confirmation")
	return cmd
}
