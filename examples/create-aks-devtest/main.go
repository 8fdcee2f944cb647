// Command create-aks-devtest creates a dev/test inference cluster from a workspace and
// waits for it: the Go rendering of the seed's
//
//	prov_config = AksCompute.provisioning_configuration(cluster_purpose = AksCompute.ClusterPurpose.DEV_TEST)
//	aks_target = ComputeTarget.create(workspace = ws, name = aks_name, provisioning_configuration = prov_config)
//	aks_target.wait_for_completion(show_output = True)
//
// A dev/test cluster needs no 12 vCPUs (2 are recommended), so it may be small:
//
//	go run ./examples/create-aks-devtest -g myresourcegroup -w myworkspace -n mydevaks -agent-count 1 -vm-size Standard_D2_v2
//
// Settings come from $MLFLEET_HOME, as `mlfleet serve` wrote them. The resource group and
// the workspace are created (in -l) when they do not exist.
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
	name := flag.String("n", "mydevaks", "name of the compute (and of the cluster created for it)")
	location := flag.String("l", "westus", "location of the workspace, when it has to be created")
	agentCount := flag.Int("agent-count", 0, "number of nodes (0: the server's default, 3)")
	vmSize := flag.String("vm-size", "", "VM size of the nodes (default: Standard_D3_v2)")
	flag.Parse()
	cfg := mlfleet.AKSProvisioningConfig{ClusterPurpose: mlfleet.PurposeDevTest, AgentCount: *agentCount, VMSize: *vmSize}
	if err := run(context.Background(), *group, *workspace, *name, *location, cfg); err != nil {
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

func run(ctx context.Context, group, workspace, name, location string, cfg mlfleet.AKSProvisioningConfig) error {
	// The configuration's own checks (azureml-core's) run before anything is sent.
	if err := cfg.Validate(); err != nil {
		return err
	}
	client, err := mlfleet.NewClient()
	if err != nil {
		return err
	}
	ws, err := getOrCreateWorkspace(ctx, client, group, workspace, location)
	if err != nil {
		return err
	}
	fmt.Printf("Creating dev/test compute %s from workspace %s (resource group %s)\n", name, ws.Name, group)
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
	fmt.Printf("Compute %s is %s: %d × %s, purpose %s, Kubernetes %s\n", aks.Name(), aks.ProvisioningState(),
		aks.AgentCount(), aks.VMSize(), aks.ClusterPurpose(), aks.KubernetesVersion())
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
