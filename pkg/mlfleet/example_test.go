package mlfleet_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/mlfleet/mlfleet/pkg/mlfleet"
)

// These examples run against the server TestMain starts. They start from the fixtures
// TestMain makes: workspace myworkspace in resource group myresourcegroup, the cluster
// myexistingcluster (3 × Standard_D3_v2) and the dev/test compute mydevaks.

// The seed's flow: connect to a workspace, create a cluster from it, wait for it, read
// its kubeconfig and detach it (the cluster stays).
func Example() {
	ctx := context.Background()
	client, err := mlfleet.NewClient() // server, token and CA from $MLFLEET_HOME
	if err != nil {
		log.Fatal(err)
	}
	ws, err := client.GetWorkspace(ctx, "myresourcegroup", "myworkspace")
	if err != nil {
		log.Fatal(err)
	}
	// AksCompute.provisioning_configuration(cluster_purpose=AksCompute.ClusterPurpose.DEV_TEST),
	// on one small node.
	cfg := mlfleet.AKSProvisioningConfig{ClusterPurpose: mlfleet.PurposeDevTest, AgentCount: 1, VMSize: "Standard_D2_v2"}
	aks, err := ws.CreateAKS(ctx, "myaks", cfg)
	if err != nil {
		log.Fatal(err)
	}
	var progress strings.Builder // os.Stdout in a program
	if err := aks.WaitForCompletion(ctx, &progress); err != nil {
		log.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(progress.String()), "\n")
	fmt.Println(strings.TrimRight(lines[0], ".")) // a dot per poll: their number depends on time
	fmt.Println(lines[len(lines)-1])
	fmt.Println(aks.Name(), aks.ProvisioningState(), aks.ClusterPurpose(), aks.AgentCount(), aks.VMSize(), aks.IsAttached())

	userKubeconfig, _, err := aks.GetCredentials(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("kubeconfig:", strings.Contains(string(userKubeconfig), "kind: Config"))

	if err := aks.Detach(ctx); err != nil {
		log.Fatal(err)
	}
	if err := aks.WaitForCompletion(ctx, nil); err != nil {
		log.Fatal(err)
	}
	_, err = ws.Compute(ctx, "myaks")
	fmt.Println("compute after detach found:", !mlfleet.IsNotFound(err))
	_, err = client.GetManagedCluster(ctx, "myresourcegroup", "myaks")
	fmt.Println("cluster after detach found:", err == nil)
	// Output:
	// Creating
	// Provisioning operation finished, operation "Succeeded"
	// myaks Succeeded DevTest 1 Standard_D2_v2 false
	// kubeconfig: true
	// compute after detach found: false
	// cluster after detach found: true
}

// The seed's variant that puts the new cluster in an existing virtual network; the
// compute is then deleted with its cluster.
func ExampleWorkspace_CreateAKS() {
	ctx := context.Background()
	client, ws := myWorkspace(ctx)
	cfg := mlfleet.AKSProvisioningConfig{
		ClusterPurpose:    mlfleet.PurposeDevTest,
		AgentCount:        1,
		VMSize:            "Standard_D2_v2",
		VnetName:          "mynetwork",
		VnetResourceGroup: "mygroup",
		SubnetName:        "default",
		ServiceCIDR:       "10.0.0.0/16",
		DNSServiceIP:      "10.0.0.10",
		DockerBridgeCIDR:  "172.17.0.1/16",
	}
	aks, err := ws.CreateAKS(ctx, "myvnetaks", cfg)
	if err != nil {
		log.Fatal(err)
	}
	wait(ctx, aks)
	fmt.Println(aks.ProvisioningState(), aks.ClusterPurpose())
	mc, err := client.GetManagedCluster(ctx, "myresourcegroup", "myvnetaks")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(mc.Properties.NetworkProfile.ServiceCidr, mc.Properties.NetworkProfile.DNSServiceIP)

	if err := aks.Delete(ctx); err != nil {
		log.Fatal(err)
	}
	wait(ctx, aks)
	_, err = client.GetManagedCluster(ctx, "myresourcegroup", "myvnetaks")
	fmt.Println("cluster after delete found:", !mlfleet.IsNotFound(err))
	// Output:
	// Succeeded DevTest
	// 10.0.0.0/16 10.0.0.10
	// cluster after delete found: false
}

// The seed's attach: AksCompute.attach_configuration(resource_group=..., cluster_name=...)
// and ComputeTarget.attach(ws, 'myaks', attach_config).
func ExampleWorkspace_AttachAKS() {
	ctx := context.Background()
	_, ws := myWorkspace(ctx)
	cfg := mlfleet.AKSAttachConfig{ResourceGroup: "myresourcegroup", ClusterName: "myexistingcluster"}
	aks, err := ws.AttachAKS(ctx, "myattachedaks", cfg)
	if err != nil {
		log.Fatal(err)
	}
	wait(ctx, aks)
	// The node count and size are the live cluster's.
	fmt.Println(aks.ProvisioningState(), aks.IsAttached(), aks.AgentCount(), aks.VMSize(), aks.ClusterPurpose())

	detach(ctx, aks)
	// Output:
	// Succeeded true 3 Standard_D3_v2 FastProd
}

// Attach by resource id, as `mlfleet aks show --query id` prints it, as a dev/test cluster.
func ExampleWorkspace_AttachAKS_resourceID() {
	ctx := context.Background()
	client, ws := myWorkspace(ctx)
	mc, err := client.GetManagedCluster(ctx, "myresourcegroup", "myexistingcluster")
	if err != nil {
		log.Fatal(err)
	}
	cfg := mlfleet.AKSAttachConfig{ResourceID: mc.ID, ClusterPurpose: mlfleet.PurposeDevTest}
	aks, err := ws.AttachAKS(ctx, "myaksbyid", cfg)
	if err != nil {
		log.Fatal(err)
	}
	wait(ctx, aks)
	fmt.Println(aks.ProvisioningState(), aks.IsAttached(), aks.ClusterPurpose(), strings.EqualFold(aks.ClusterResourceID(), mc.ID))

	detach(ctx, aks)
	// Output:
	// Succeeded true DevTest true
}

func ExampleWorkspace_Compute() {
	ctx := context.Background()
	_, ws := myWorkspace(ctx)
	aks, err := ws.Compute(ctx, "mydevaks")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(aks.Name(), aks.ProvisioningState(), aks.ClusterPurpose(), aks.AgentCount(), aks.Location())

	_, err = ws.Compute(ctx, "nosuchaks")
	fmt.Println("nosuchaks found:", !mlfleet.IsNotFound(err))
	// Output:
	// mydevaks Succeeded DevTest 1 westus
	// nosuchaks found: false
}

func ExampleWorkspace_KubernetesVersions() {
	ctx := context.Background()
	_, ws := myWorkspace(ctx)
	versions, err := ws.KubernetesVersions(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// A cluster created from the workspace runs the default version.
	def := versions.DefaultVersion()
	aks, err := ws.Compute(ctx, "mydevaks")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(def != "", strings.HasPrefix(aks.KubernetesVersion(), "v"+def) || strings.HasPrefix(aks.KubernetesVersion(), def))
	// Output:
	// true true
}

// Scaling from the workspace (S20); the SDK of the seed could not.
func ExampleAKSCompute_Scale() {
	ctx := context.Background()
	aks := myDevAKS(ctx)
	for _, n := range []int{2, 1} {
		if err := aks.Scale(ctx, n); err != nil {
			log.Fatal(err)
		}
		wait(ctx, aks)
		fmt.Println(aks.AgentCount(), aks.ProvisioningState())
	}
	// Output:
	// 2 Succeeded
	// 1 Succeeded
}

// Changing settings in place, without a detach (S12).
func ExampleAKSCompute_Update() {
	ctx := context.Background()
	aks := myDevAKS(ctx)
	for _, cfg := range []mlfleet.AKSUpdateConfig{
		{LoadBalancerType: mlfleet.LoadBalancerInternal, LoadBalancerSubnet: "mysubnet"},
		{LoadBalancerType: mlfleet.LoadBalancerPublicIP},
	} {
		if err := aks.Update(ctx, cfg); err != nil {
			log.Fatal(err)
		}
		wait(ctx, aks)
		fmt.Printf("%s %q\n", aks.LoadBalancerType(), aks.LoadBalancerSubnet())
	}
	// Output:
	// InternalLoadBalancer "mysubnet"
	// PublicIp ""
}

func ExampleAKSCompute_GetCredentials() {
	ctx := context.Background()
	aks := myDevAKS(ctx)
	user, admin, err := aks.GetCredentials(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// Kubeconfigs, for client-go's clientcmd.RESTConfigFromKubeConfig.
	fmt.Println(strings.Contains(string(user), "kind: Config"), strings.Contains(string(admin), "kind: Config"))
	// Output:
	// true true
}

// The server checks every precondition before it creates anything and reports the
// failed ones together.
func ExampleFailedPreconditions() {
	ctx := context.Background()
	_, ws := myWorkspace(ctx)
	// Production (the default purpose) on one node of 2 vCPUs.
	_, err := ws.CreateAKS(ctx, "toosmall", mlfleet.AKSProvisioningConfig{AgentCount: 1, VMSize: "Standard_D2_v2"})
	var e *mlfleet.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Code)
	}
	for _, p := range mlfleet.FailedPreconditions(err) {
		fmt.Println(p.Code, p.Target)
	}
	// Output:
	// 400 UserError
	// InsufficientCapacity properties.properties.agentCount
	// InsufficientCapacity properties.properties.agentCount
}

// Client-side checks fail before anything is sent, all problems together.
func ExampleAKSProvisioningConfig_Validate() {
	cfg := mlfleet.AKSProvisioningConfig{
		AgentCount: -1,
		SSL:        mlfleet.SSLOptions{Cname: "www.contoso.com"},
		VnetName:   "mynetwork",
	}
	err := cfg.Validate()
	var ve *mlfleet.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p.Fields[0]+":", p.Message)
		}
	}
	// Output:
	// AgentCount: AgentCount must be a positive integer
	// SSL.Cname: TLS with your own certificate needs SSL.Cname, SSL.Cert and SSL.Key together (or SSL.LeafDomainLabel alone for a certificate issued by mlfleet)
	// VnetName: a custom virtual network needs VnetName, VnetResourceGroup, SubnetName, ServiceCIDR, DNSServiceIP and DockerBridgeCIDR together (missing: VnetResourceGroup, SubnetName, ServiceCIDR, DNSServiceIP and DockerBridgeCIDR)
}

func ExampleAKSAttachConfig_Validate() {
	for _, cfg := range []mlfleet.AKSAttachConfig{
		{ResourceGroup: "myresourcegroup", ClusterName: "myexistingcluster"},
		{ResourceID: "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/myresourcegroup/providers/Microsoft.ContainerService/managedClusters/myexistingcluster"},
		{ResourceGroup: "myresourcegroup"},
		{ResourceID: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myresourcegroup/providers/Microsoft.Compute/virtualMachines/myvm"},
	} {
		fmt.Println(cfg.Validate())
	}
	// Output:
	// <nil>
	// <nil>
	// invalid AKS attach configuration: name the cluster with ResourceGroup and ClusterName, or with ResourceID
	// invalid AKS attach configuration: invalid ResourceID "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myresourcegroup/providers/Microsoft.Compute/virtualMachines/myvm": provider Microsoft.Compute is not Microsoft.ContainerService; attach takes the id of a managed cluster (/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.ContainerService/managedClusters/{name})
}

// The quotas of a region with their use, as `mlfleet vm list-usage -l westus` prints them.
func ExampleClient_ListUsages() {
	ctx := context.Background()
	client, err := mlfleet.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	usages, err := client.ListUsages(ctx, "westus")
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range usages {
		switch u.Name.Value {
		case "cores", "managedClusters":
			// The fixtures use some of each; the limits are the server's built-in ones.
			fmt.Printf("%s: some used %v, limit %d\n", u.Name.LocalizedValue, u.CurrentValue > 0, u.Limit)
		}
	}
	// The location is checked before anything is sent.
	_, err = client.ListUsages(ctx, "")
	fmt.Println(err)
	// Output:
	// Total Regional vCPUs: some used true, limit 100
	// Managed Clusters: some used true, limit 10
	// invalid request: the location is empty; give one
}

// myWorkspace connects as Example does and returns the client and the fixtures' workspace
// myworkspace.
func myWorkspace(ctx context.Context) (*mlfleet.Client, *mlfleet.Workspace) {
	client, err := mlfleet.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	ws, err := client.GetWorkspace(ctx, "myresourcegroup", "myworkspace")
	if err != nil {
		log.Fatal(err)
	}
	return client, ws
}

// myDevAKS returns the fixtures' dev/test compute mydevaks.
func myDevAKS(ctx context.Context) *mlfleet.AKSCompute {
	_, ws := myWorkspace(ctx)
	aks, err := ws.Compute(ctx, "mydevaks")
	if err != nil {
		log.Fatal(err)
	}
	return aks
}

// wait waits for the operation aks runs, as Example does without progress output.
func wait(ctx context.Context, aks *mlfleet.AKSCompute) {
	if err := aks.WaitForCompletion(ctx, nil); err != nil {
		log.Fatal(err)
	}
}

// detach detaches aks and waits until it is done; the cluster stays.
func detach(ctx context.Context, aks *mlfleet.AKSCompute) {
	if err := aks.Detach(ctx); err != nil {
		log.Fatal(err)
	}
	wait(ctx, aks)
}
