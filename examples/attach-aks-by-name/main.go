// Command attach-aks-by-name attaches an existing cluster, named by its resource group and
// name, to a workspace and waits for it: the Go rendering of the seed's
//
//	attach_config = AksCompute.attach_configuration(resource_group = resource_group,
//	                                                cluster_name = cluster_name)
//	aks_target = ComputeTarget.attach(ws, 'myaks', attach_config)
//	aks_target.wait_for_completion(show_output = True)
//
// The cluster must exist, e.g. `mlfleet aks create -n myexistingcluster -g myresourcegroup
// --node-count 3`. A cluster of fewer than 12 vCPUs is attached with -cluster-purpose
// DevTest. Settings come from $MLFLEET_HOME, as `mlfleet serve` wrote them:
//
//	go run ./examples/attach-aks-by-name -g myresourcegroup -w myworkspace -n myaks \
//		-cluster-group myresourcegroup -cluster myexistingcluster
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
	name := flag.String("n", "myaks", "name of the compute")
	cfg := mlfleet.AKSAttachConfig{}
	flag.StringVar(&cfg.ResourceGroup, "cluster-group", "myresourcegroup", "resource group of the cluster")
	flag.StringVar(&cfg.ClusterName, "cluster", "myexistingcluster", "name of the cluster")
	flag.StringVar(&cfg.ClusterPurpose, "cluster-purpose", "", "FastProd (default), DenseProd or DevTest")
	flag.Parse()
	if err := run(context.Background(), *group, *workspace, *name, cfg); err != nil {
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

func run(ctx context.Context, group, workspace, name string, cfg mlfleet.AKSAttachConfig) error {
	client, err := mlfleet.NewClient()
	if err != nil {
		return err
	}
	ws, err := client.GetWorkspace(ctx, group, workspace)
	if err != nil {
		return err
	}
	fmt.Printf("Attaching cluster %s of resource group %s to workspace %s as compute %s\n", cfg.ClusterName, cfg.ResourceGroup, ws.Name, name)
	aks, err := ws.AttachAKS(ctx, name, cfg)
	if err != nil {
		return err
	}
	for _, w := range aks.Warnings() {
		fmt.Println("Warning:", w)
	}
	if err := aks.WaitForCompletion(ctx, os.Stdout); err != nil {
		return err
	}
	fmt.Printf("Compute %s is %s: cluster %s, %d × %s, purpose %s, Kubernetes %s\n", aks.Name(), aks.ProvisioningState(),
		aks.ClusterResourceID(), aks.AgentCount(), aks.VMSize(), aks.ClusterPurpose(), aks.KubernetesVersion())
	return nil
}
