// Command attach-aks-by-id attaches an existing cluster, named by its resource id, to a
// workspace and waits for it: the Go rendering of the seed's
//
//	az aks show -n myexistingcluster -g myresourcegroup --query id
//	az ml computetarget attach aks -n myaks -i aksresourceid -g myresourcegroup -w myworkspace
//
// through AksCompute.attach_configuration(resource_id = ...). Without -id, the id is read
// as `aks show --query id` does, from -cluster-group and -cluster. Settings come from
// $MLFLEET_HOME, as `mlfleet serve` wrote them:
//
//	go run ./examples/attach-aks-by-id -g myresourcegroup -w myworkspace -n myaks \
//		-id /subscriptions/…/resourceGroups/myresourcegroup/providers/Microsoft.ContainerService/managedClusters/myexistingcluster
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
	id := flag.String("id", "", "resource id of the cluster (default: the id of -cluster in -cluster-group)")
	clusterGroup := flag.String("cluster-group", "myresourcegroup", "resource group of the cluster, to find its id")
	cluster := flag.String("cluster", "myexistingcluster", "name of the cluster, to find its id")
	purpose := flag.String("cluster-purpose", "", "FastProd (default), DenseProd or DevTest")
	flag.Parse()
	if err := run(context.Background(), *group, *workspace, *name, *id, *clusterGroup, *cluster, *purpose); err != nil {
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

func run(ctx context.Context, group, workspace, name, id, clusterGroup, cluster, purpose string) error {
	client, err := mlfleet.NewClient()
	if err != nil {
		return err
	}
	if id == "" {
		mc, err := client.GetManagedCluster(ctx, clusterGroup, cluster)
		if err != nil {
			return err
		}
		id = mc.ID
		fmt.Printf("Cluster %s of resource group %s has the id %s\n", cluster, clusterGroup, id)
	}
	cfg := mlfleet.AKSAttachConfig{ResourceID: id, ClusterPurpose: purpose}
	// The id's shape is checked before anything is sent (azureml-core's rule).
	if err := cfg.Validate(); err != nil {
		return err
	}
	ws, err := client.GetWorkspace(ctx, group, workspace)
	if err != nil {
		return err
	}
	fmt.Printf("Attaching %s to workspace %s as compute %s\n", id, ws.Name, name)
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
	fmt.Printf("Compute %s is %s: %d × %s, purpose %s, Kubernetes %s\n", aks.Name(), aks.ProvisioningState(),
		aks.AgentCount(), aks.VMSize(), aks.ClusterPurpose(), aks.KubernetesVersion())
	return nil
}
