package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// newMLCommand is `mlfleet ml`. It joins az ml's two grammars: the v1 one of the seed
// (workspace, computetarget: S22) and the v2 one of models and online endpoints (B7).
func newMLCommand(streams Streams, g *globals) *cobra.Command {
	return parent("ml", "Manage Machine Learning workspaces, compute targets, models and online endpoints", newWorkspaceCommand(streams, g), newComputeTargetCommand(streams, g),
		newAssetCommand(streams, g, mlfleet.AssetModels, "model", "Register and manage model versions"),
		newAssetCommand(streams, g, mlfleet.AssetCodes, "code", "Register and manage code versions"),
		newAssetCommand(streams, g, mlfleet.AssetEnvironments, "environment", "Register and manage environment versions (container images)"),
		newOnlineEndpointCommand(streams, g), newOnlineDeploymentCommand(streams, g))
}

func newWorkspaceCommand(streams Streams, g *globals) *cobra.Command {
	return parent("workspace", "Manage Machine Learning workspaces", newWorkspaceCreate(streams, g), newWorkspaceShow(streams, g), newWorkspaceList(streams, g), newWorkspaceDelete(streams, g))
}

func workspaceTable(v any) any {
	return rows(v, func(m map[string]any) row {
		id, _ := m["id"].(string)
		return row{{"Name", m["name"]}, {"Location", m["location"]}, {"ResourceGroup", groupOf(id)}, {"State", dig(m, "properties", "provisioningState")}}
	})
}

// newWorkspaceCreate is `mlfleet ml workspace create`: a PUT, so an existing workspace is
// updated rather than refused, as az ml does.
func newWorkspaceCreate(streams Streams, g *globals) *cobra.Command {
	var name, group, location string
	cmd := leaf("create -n NAME -g GROUP [-l LOCATION]", "Create or update a workspace (location defaults to the group's)", func(cmd *cobra.Command) error {
		if err := required(name, "--name/-n"); err != nil {
			return err
		}
		group, err := withDefault(group, "group", "--resource-group/-g")
		if err != nil {
			return err
		}
		return g.call(streams, workspaceTable, func(c *mlfleet.Client) (any, error) { return c.CreateWorkspace(cmd.Context(), group, name, location) })
	})
	cmd.Flags().StringVarP(&name, "name", "n", "", "Name of the workspace")
	cmd.Flags().StringVarP(&group, "resource-group", "g", "", "Resource group (default: 'mlfleet configure --defaults group=')")
	cmd.Flags().StringVarP(&location, "location", "l", "", "Location (default: the resource group's)")
	return cmd
}

// workspaceFlags name one workspace: -n (or -w) and -g, both defaulting to `mlfleet
// configure --defaults`.
type workspaceFlags struct{ name, group string }

func (f *workspaceFlags) bind(cmd *cobra.Command) {
	workspaceNameFlags(cmd, &f.name)
	cmd.Flags().StringVarP(&f.group, "resource-group", "g", "", "Resource group (default: 'mlfleet configure --defaults group=')")
}

// resolve fills -n from the default workspace and -g from the default group: a command on
// a workspace may name none, as after `mlfleet configure --defaults`.
func (f *workspaceFlags) resolve() (err error) {
	if f.name, err = withDefault(f.name, "workspace", "--workspace-name/-w"); err == nil {
		f.group, err = withDefault(f.group, "group", "--resource-group/-g")
	}
	return err
}

func newWorkspaceShow(streams Streams, g *globals) *cobra.Command {
	ws := &workspaceFlags{}
	return callCommand(streams, g, "show [-n NAME] [-g GROUP]", "Show a workspace", ws, nil, workspaceTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.GetWorkspace(ctx, ws.group, ws.name)
	})
}

func newWorkspaceList(streams Streams, g *globals) *cobra.Command {
	// The default group narrows the list, as for the other workspace commands.
	f := &groupScope{defaulted: true}
	return callCommand(streams, g, "list [-g GROUP]", "List workspaces of a resource group (or of the subscription)", f, nil, workspaceTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.ListWorkspaces(ctx, f.group)
	})
}

func newWorkspaceDelete(streams Streams, g *globals) *cobra.Command {
	ws := &workspaceFlags{}
	return deleteCommand(streams, g, "delete [-n NAME] [-g GROUP]", "Delete a workspace, its computes (detached) and its endpoints and assets", ws,
		func() string {
			return fmt.Sprintf("Are you sure you want to delete workspace '%s', its endpoints, assets and computes? The computes are detached: clusters they created keep running (delete them with 'mlfleet aks delete').", ws.name)
		},
		func(ctx context.Context, c *mlfleet.Client) (*mlfleet.Poller, error) {
			return c.BeginDeleteWorkspace(ctx, ws.group, ws.name)
		})
}

// workspaceNameFlags binds -n/--name and its az alias -w/--workspace-name to one variable.
func workspaceNameFlags(cmd *cobra.Command, name *string) {
	cmd.Flags().StringVarP(name, "name", "n", "", "Name of the workspace (default: 'mlfleet configure --defaults workspace=')")
	cmd.Flags().StringVarP(name, "workspace-name", "w", "", "Alias of --name")
}

// groupOf returns the resource group name in an ARM id. The segment name is compared
// case-insensitively (A1): ids keep the case a client first gave, and some spell it
// resourcegroups.
func groupOf(id string) string {
	parts := splitID(id)
	for i := 0; i+1 < len(parts); i++ {
		if equalFold(parts[i], "resourceGroups") {
			return parts[i+1]
		}
	}
	return ""
}
