package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// The provider and resource commands are az's: what namespaces the server serves, and the
// resources of a group or subscription whatever their type.

func newProviderCommand(streams Streams, g *globals) *cobra.Command {
	return parent("provider", "Show the resource providers the server serves", newProviderShow(streams, g), newProviderList(streams, g))
}

func providerTable(v any) any {
	return rows(v, func(m map[string]any) row {
		return row{{"Namespace", m["namespace"]}, {"RegistrationPolicy", m["registrationPolicy"]}, {"RegistrationState", m["registrationState"]}}
	})
}

func newProviderShow(streams Streams, g *globals) *cobra.Command {
	var namespace string
	cmd := leaf("show -n NAMESPACE", "Show a resource provider and its resource types", func(cmd *cobra.Command) error {
		if err := required(namespace, "--namespace/-n"); err != nil {
			return err
		}
		return g.call(streams, providerTable, func(c *mlfleet.Client) (any, error) { return c.GetProvider(cmd.Context(), namespace) })
	})
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "Resource provider namespace, e.g. Microsoft.ContainerService")
	return cmd
}

func newProviderList(streams Streams, g *globals) *cobra.Command {
	return callCommand(streams, g, "list", "List the resource providers", nil, nil, providerTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.ListProviders(ctx)
	})
}

func newResourceCommand(streams Streams, g *globals) *cobra.Command {
	return parent("resource", "List resources whatever their type", newResourceList(streams, g))
}

// resourceTable is az's table of resource list; its Status column is a provisioning
// status that no resource mlfleet serves reports, so it stays empty, as with az on Azure
// for most types. It is kept so that the columns are az's.
func resourceTable(v any) any {
	return rows(v, func(m map[string]any) row {
		return row{{"Name", m["name"]}, {"ResourceGroup", m["resourceGroup"]}, {"Location", m["location"]}, {"Type", m["type"]}, {"Status", ""}}
	})
}

func newResourceList(streams Streams, g *globals) *cobra.Command {
	f := &groupScope{}
	return callCommand(streams, g, "list [-g GROUP]", "List the resources of a resource group, or of the subscription", f, azGenericResources, resourceTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.ListResources(ctx, f.group)
	})
}
