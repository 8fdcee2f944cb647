package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// newVMCommand is `mlfleet vm`, which has only list-usage: az shows compute quotas under
// `az vm list-usage`, so the quotas of N8 are read where an az user looks for them.
func newVMCommand(streams Streams, g *globals) *cobra.Command {
	return parent("vm", "Virtual machine quotas (Microsoft.Compute)", newVMListUsage(streams, g))
}

// usageTable is az's table of `vm list-usage`: the localized name, the use and the limit.
func usageTable(v any) any {
	return rows(v, func(m map[string]any) row {
		return row{{"Name", dig(m, "name", "localizedValue")}, {"CurrentValue", fmt.Sprint(m["currentValue"])}, {"Limit", fmt.Sprint(m["limit"])}}
	})
}

func newVMListUsage(streams Streams, g *globals) *cobra.Command {
	var l locationFlag
	short := "List the quotas of a location with their use: vCPUs in total and per VM family, managed clusters"
	cmd := callCommand(streams, g, "list-usage -l LOCATION", short, &l, nil, usageTable, func(ctx context.Context, c *mlfleet.Client) (any, error) {
		return c.ListUsages(ctx, l.location)
	})
	cmd.Long = `List the quotas of the subscription in a location with what its clusters use of them.

A create or scale past a quota fails with QuotaExceeded. The server's limits come from
'mlfleet serve --quota-file'.`
	return cmd
}
