// Package resources owns the ARM resource hierarchy above the providers: subscriptions,
// resource groups, and the cascading delete that removes a resource with everything under it
// (a resource group with its workspaces, a workspace with its computes) as one durable
// operation. Types with work to do on delete (a compute detaching from its cluster, a
// cluster stopping its apiserver) plug in a Deleter. ListGeneric is ARM's generic resource
// list (GET …/resources) over whatever types its caller says users see, with the $filter
// clauses of Filter.
package resources
