package compute

import (
	"github.com/mlfleet/mlfleet/internal/arm"
	"github.com/mlfleet/mlfleet/internal/store"
)

// Namespace is the ARM provider namespace of computes.
const Namespace = "Microsoft.MachineLearningServices"

// ARM types stored by this package.
const (
	TypeCompute = Namespace + "/workspaces/computes"
	// typeNameClaim rows reserve a compute name in a region (S4).
	typeNameClaim = Namespace + "/locations/computeNames"
	// typeAttachment rows, under a managed cluster, record the compute attached to it (S11).
	typeAttachment = "Microsoft.ContainerService/managedClusters/mlfleetAttachments"
	// typeSecret rows, under a compute, hold its sealed TLS key.
	typeSecret = TypeCompute + "/mlfleetSecrets"
)

// Options change how a PUT is handled.
type Options struct {
	// Force lets an attach take a cluster attached elsewhere, detaching that first (S11).
	Force bool
	// ValidateOnly runs the checks and changes nothing (B1).
	ValidateOnly bool
	// Preconditions are the request's If-Match and If-None-Match headers: If-None-Match: *
	// (what clients send to create or attach) refuses to change an existing compute.
	Preconditions arm.Preconditions

	// replace is the failed compute of the same name a create or attach replaces.
	replace *store.Resource
}
