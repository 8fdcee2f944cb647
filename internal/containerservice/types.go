package containerservice

// Namespace is the ARM provider namespace of managed clusters.
const Namespace = "Microsoft.ContainerService"

// TypeManagedCluster is the ARM type of a managed cluster.
const TypeManagedCluster = Namespace + "/managedClusters"
