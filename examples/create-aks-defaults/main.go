// Command create-aks-defaults creates an inference cluster from a workspace with the
// default configuration and waits for it: the Go rendering of the seed's
//
//	prov_config = AksCompute.provisioning_configuration()
//	aks_target = ComputeTarget.create(workspace = ws, name = aks_name, provisioning_configuration = prov_config)
//	aks_target.wait_for_completion(show_output = True)
//
// Run it against `mlfleet serve` (server, token and CA from $MLFLEET_HOME):
//
//	go run ./examples/create-aks-defaults -g myresourcegroup -w myworkspace -n myaks
//
// The resource group and the workspace are created (in -l) when they do not exist.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

func main() {
	group := flag.String("g", "myresourcegroup", "resource group of the workspace")
	workspace := flag.String("w", "myworkspace", "workspace")
	name := flag.String("n", "myaks", "name of the compute (and of the cluster created for it)")
	location := flag.String("l", "westus", "location of the workspace, when it has to be created")
	flag.Parse()
	if err := run(context.Background(), *group, *workspace, *name, *location); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		var e *mlfleet.Error
		if errors.As(err, &e) {
			for _, d := range e.Details {
				fmt.Fprintf(os.Stderr, "  - (%s) %s\n", d.Code, d.Message)
			}
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, group, workspace, name, location string) error {
	client, err := mlfleet.NewClient()
	if err != nil {
		return err
	}
	ws, err := getOrCreateWorkspace(ctx, client, group, workspace, location)
	if err != nil {
		return err
	}

	// Use the default configuration: the server applies 3 nodes of Standard_D3_v2,
	// purpose FastProd, a public load balancer, the workspace's location and the
	// location's default Kubernetes version.
	cfg := mlfleet.AKSProvisioningConfig{}
	fmt.Printf("Creating compute %s from workspace %s (resource group %s) with the default configuration\n", name, ws.Name, group)
	aks, err := ws.CreateAKS(ctx, name, cfg)
	if err != nil {
		return err
	}
	for _, w := range aks.Warnings() {
		fmt.Println("Warning:", w)
	}
	if err := aks.WaitForCompletion(ctx, os.Stdout); err != nil {
		return err
	}
	fmt.Printf("Compute %s is %s: %d × %s, purpose %s, load balancer %s, Kubernetes %s, in %s\n", aks.Name(), aks.ProvisioningState(),
		aks.AgentCount(), aks.VMSize(), aks.ClusterPurpose(), aks.LoadBalancerType(), aks.KubernetesVersion(), aks.Location())
	return nil
}

// getOrCreateWorkspace returns the workspace, creating it and its resource group in
// location when they do not exist.
func getOrCreateWorkspace(ctx context.Context, c *mlfleet.Client, group, name, location string) (*mlfleet.Workspace, error) {
	ws, err := c.GetWorkspace(ctx, group, name)
	if !mlfleet.IsNotFound(err) {
		return ws, err
	}
	if _, err := c.GetResourceGroup(ctx, group); mlfleet.IsNotFound(err) {
		fmt.Printf("Creating resource group %s in %s\n", group, location)
		if _, err := c.CreateResourceGroup(ctx, group, location, nil); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	fmt.Printf("Creating workspace %s in resource group %s\n", name, group)
	return c.CreateWorkspace(ctx, group, name, location)
}
