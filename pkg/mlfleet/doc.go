// Package mlfleet is the Go SDK of an mlfleet server: what the azureml-core Python SDK is
// to Azure Machine Learning, for the inference clusters of a workspace. The mlfleet CLI is
// built on it.
//
// # Connecting
//
// NewClient reads the configuration that `mlfleet serve` writes in $MLFLEET_HOME (server
// URL, CA, token, subscription), so on the machine that runs the server it needs no
// options; WithServer, WithToken, WithCAFile and WithSubscription (or MLFLEET_SERVER,
// MLFLEET_TOKEN, MLFLEET_SUBSCRIPTION) point it elsewhere. Client.GetWorkspace returns a
// *Workspace bound to the client, the starting point of everything below.
//
// # Inference clusters
//
// The seed's Python flow maps to Go this way:
//
//	AksCompute.provisioning_configuration(...)   AKSProvisioningConfig{...}
//	AksCompute.attach_configuration(...)         AKSAttachConfig{...}
//	ComputeTarget.create(ws, name, prov_config)  ws.CreateAKS(ctx, name, cfg)
//	ComputeTarget.attach(ws, name, attach_cfg)   ws.AttachAKS(ctx, name, cfg)
//	AksCompute(ws, name)                         ws.Compute(ctx, name)
//	aks_target.wait_for_completion(True)         aks.WaitForCompletion(ctx, os.Stdout)
//	aks_target.detach() / delete()               aks.Detach(ctx) / aks.Delete(ctx)
//	aks_target.update(AksUpdateConfiguration)    aks.Update(ctx, AKSUpdateConfig{...})
//	aks_target.get_credentials()                 aks.GetCredentials(ctx)
//	(Studio only in the seed)                    aks.Scale(ctx, n)
//
// CreateAKS, AttachAKS, Update, Scale, Detach and Delete start a long-running operation
// and return; the *AKSCompute keeps it, and WaitForCompletion follows it to its end,
// printing azureml-core's progress lines when given a writer:
//
//	Creating..
//	Succeeded
//	Provisioning operation finished, operation "Succeeded"
//
// A complete program, creating a dev/test cluster from a workspace, waiting for it, reading
// its kubeconfig and detaching it again (the cluster stays):
//
//	ctx := context.Background()
//	client, err := mlfleet.NewClient()
//	if err != nil {
//		log.Fatal(err)
//	}
//	ws, err := client.GetWorkspace(ctx, "myresourcegroup", "myworkspace")
//	if err != nil {
//		log.Fatal(err)
//	}
//	cfg := mlfleet.AKSProvisioningConfig{ClusterPurpose: mlfleet.PurposeDevTest, AgentCount: 1, VMSize: "Standard_D2_v2"}
//	aks, err := ws.CreateAKS(ctx, "myaks", cfg)
//	if err != nil {
//		log.Fatal(err) // a *ValidationError, or an *Error listing failed preconditions
//	}
//	if err := aks.WaitForCompletion(ctx, os.Stdout); err != nil {
//		log.Fatal(err)
//	}
//	fmt.Println(aks.Name(), aks.ProvisioningState(), aks.ClusterPurpose(), aks.AgentCount())
//	userKubeconfig, _, err := aks.GetCredentials(ctx)
//	if err != nil {
//		log.Fatal(err)
//	}
//	_ = userKubeconfig // for client-go's clientcmd.RESTConfigFromKubeConfig
//	if err := aks.Detach(ctx); err != nil {
//		log.Fatal(err)
//	}
//	if err := aks.WaitForCompletion(ctx, os.Stdout); err != nil {
//		log.Fatal(err)
//	}
//
// The examples/ directory of the repository holds one such program per snippet of the
// seed document (create with defaults, create for dev/test, attach by resource group and
// cluster name, attach by resource id, detach).
//
// # Errors
//
// Mistakes the configurations can tell alone (azureml-core's client-side checks) fail
// before anything is sent, as a *ValidationError listing every problem. Failures answered
// by the server are *Error values carrying ARM's code, message and details; the failed
// preconditions of a create or attach are all reported together, and FailedPreconditions
// lists them. IsNotFound tells a missing resource. The top-level code of most 400s is
// UserError, as in Azure ML; HasCode looks for a code in the error and all its details:
//
//	aks, err := ws.CreateAKS(ctx, "myaks", cfg)
//	switch {
//	case mlfleet.HasCode(err, "InsufficientCapacity"):
//		// a smaller purpose, or more nodes
//	case mlfleet.HasCode(err, "Conflict"):
//		aks, err = ws.Compute(ctx, "myaks") // it exists already
//	}
//
// # Lower level
//
// The Client's other methods are the wire API itself: resource groups, workspaces,
// computes (BeginCreateOrUpdateCompute, ValidateCompute, ...), managed clusters and their
// Kubernetes versions. Their long-running calls return a *Poller. The bodies they send and
// return (Compute, ManagedCluster, ResourceGroup, ...) are the types of package armapi,
// which the server serves from as well; this package names them under aliases.
package mlfleet
