// Package mlfleet is the Go client of an mlfleet server: the SDK that the mlfleet CLI is
// built on and that Go programs use to manage resource groups, Machine Learning workspaces
// and their inference clusters.
//
// A client reads the configuration that `mlfleet serve` writes in $MLFLEET_HOME (server URL,
// CA, token, subscription), so on the machine that runs the server it needs no options:
//
//	c, err := mlfleet.NewClient()
//	if err != nil { ... }
//	rg, err := c.CreateResourceGroup(ctx, "rg1", "westus", nil)
//
// Long-running calls return a *Poller; Wait follows the operation to its end. Failures
// answered by the server are *Error values carrying ARM's code, message and details.
package mlfleet
