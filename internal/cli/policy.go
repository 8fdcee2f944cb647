package cli

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
	"github.com/spf13/cobra"
)

func newPolicyCommand(streams Streams, g *globals) *cobra.Command {
	return parent("policy", "Manage subscription policies",
		parent("assignment", "Manage policy assignments", newPolicyAssignmentCreate(streams, g), newPolicyAssignmentList(streams, g), newPolicyAssignmentDelete(streams, g)))
}

// newPolicyAssignmentCreate is `mlfleet policy assignment create`: how a subscription
// forbids public IPs (S16). --params is the assignment's parameters object as JSON, as az
// takes it; it is checked to be JSON here, and against the definition by the server.
func newPolicyAssignmentCreate(streams Streams, g *globals) *cobra.Command {
	var name, def, display, params string
	cmd := leaf("create -n NAME --policy DEFINITION --params JSON", "Assign a policy to the subscription", func(cmd *cobra.Command) error {
		if err := requiredAll(name, "--name/-n", def, "--policy"); err != nil {
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
	})
	cmd.Example = `  # forbid public IP addresses (clusters then need --outbound-type userDefinedRouting)
  mlfleet policy assignment create -n no-public-ip --policy not-allowed-resource-types \
    --params '{"listOfResourceTypesNotAllowed":{"value":["Microsoft.Network/publicIPAddresses"]}}'`
	cmd.Flags().StringVarP(&name, "name", "n", "", "Name of the assignment")
	cmd.Flags().StringVar(&def, "policy", "", "Policy definition id or name (not-allowed-resource-types)")
	cmd.Flags().StringVar(&display, "display-name", "", "Display name")
	cmd.Flags().StringVar(&params, "params", "", "Parameters as JSON")
	return cmd
}

func newPolicyAssignmentList(streams Streams, g *globals) *cobra.Command {
	return callCommand(streams, g, "list", "List policy assignments", nil, nil, nil, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.ListPolicyAssignments(ctx)
	})
}

func newPolicyAssignmentDelete(streams Streams, g *globals) *cobra.Command {
	var name string
	cmd := leaf("delete -n NAME", "Remove a policy assignment", func(cmd *cobra.Command) error {
		if err := required(name, "--name/-n"); err != nil {
			return err
		}
		c, err := g.client(streams)
		if err != nil {
			return err
		}
		if err := c.DeletePolicyAssignment(cmd.Context(), name); err != nil {
			return fmt.Errorf("delete policy assignment: %w", err)
		}
		return nil
	})
	cmd.Flags().StringVarP(&name, "name", "n", "", "Name of the assignment")
	return cmd
}
