// Command detach-aks detaches an inference cluster from its workspace and waits for it:
// the Go rendering of the seed's
//
//	aks_target.detach()
//
// Detaching removes the compute and what mlfleet installed in the cluster; the cluster
// itself stays (delete it with `mlfleet aks delete`). Settings come from $MLFLEET_HOME, as
// `mlfleet serve` wrote them:
//
//	go run ./examples/detach-aks -g myresourcegroup -w myworkspace -n myaks
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func main() {
	group := flag.String("g", "myresourcegroup", "resource group of the workspace")
	workspace := flag.String("w", "myworkspace", "workspace")
	name := flag.String("n", "myaks", "name of the compute")
	flag.Parse()
	if err := run(context.Background(), *group, *workspace, *name); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, group, workspace, name string) error {
	client, err := mlfleet.NewClient()
	if err != nil {
		return err
	}
	ws, err := client.GetWorkspace(ctx, group, workspace)
	if err != nil {
		return err
	}
	// AksCompute(ws, name): the compute must exist.
	aks, err := ws.Compute(ctx, name)
	if err != nil {
		return err
	}
	cluster := aks.ClusterResourceID()
	fmt.Printf("Detaching compute %s (cluster %s) from workspace %s\n", name, cluster, ws.Name)
	if err := aks.Detach(ctx); err != nil {
		return err
	}
	if err := aks.WaitForCompletion(ctx, os.Stdout); err != nil {
		return err
	}
	fmt.Printf("Compute %s is detached; the cluster %s stays\n", name, cluster)
	return nil
}
