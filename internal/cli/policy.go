package cli

import (
	"encoding/json"
	"fmt"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	"github.com/spf13/cobra"
)

func newPolicyCommand(streams Streams, g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "policy", Short: "Manage subscription policies"}
	assignment := &cobra.Command{Use: "assignment", Short: "Manage policy assignments"}
	cmd.AddCommand(assignment)

	var name, def, display, params string
	create := &cobra.Command{
		Use:   "create -n NAME --policy DEFINITION --params JSON",
		Short: "Assign a policy to the subscription",
		Example: `  # forbid public IP addresses (clusters then need --outbound-type userDefinedRouting)
  mlfleet policy assignment create -n no-public-ip --policy not-allowed-resource-types \
    --params '{"listOfResourceTypesNotAllowed":{"value":["Microsoft.Network/publicIPAddresses"]}}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required(name, "--name/-n"); err != nil {
				return err
			}
			if err := required(def, "--policy"); err != nil {
				return err
			}
			var p map[string]any
			if params != "" {
				if err := json.Unmarshal([]byte(params), &p); err != nil {
					return usagef("--params is not a JSON object: %v", err)
				}
			}
			return g.call(streams, nil, func(c *mlfleet.Client) (any, error) {
				return c.CreatePolicyAssignment(cmd.Context(), name, def, display, p)
			})
		},
	}
	create.Flags().StringVarP(&name, "name", "n", "", "Name of the assignment")
	create.Flags().StringVar(&def, "policy", "", "Policy definition id or name (not-allowed-resource-types)")
	create.Flags().StringVar(&display, "display-name", "", "Display name")
	create.Flags().StringVar(&params, "params", "", "Parameters as JSON")

	list := &cobra.Command{
		Use:   "list",
		Short: "List policy assignments",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.call(streams, nil, func(c *mlfleet.Client) (any, error) { return c.ListPolicyAssignments(cmd.Context()) })
		},
	}
	var delName string
	del := &cobra.Command{
		Use:   "delete -n NAME",
		Short: "Remove a policy assignment",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := required(delName, "--name/-n"); err != nil {
				return err
			}
			c, err := g.client(streams)
			if err != nil {
				return err
			}
			if err := c.DeletePolicyAssignment(cmd.Context(), delName); err != nil {
				return fmt.Errorf("delete policy assignment: %w", err)
			}
			return nil
		},
	}
	del.Flags().StringVarP(&delName, "name", "n", "", "Name of the assignment")
	assignment.AddCommand(create, list, del)
	return cmd
}
