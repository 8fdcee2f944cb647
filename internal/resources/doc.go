// Package resources owns the ARM resource hierarchy above the providers: subscriptions,
// resource groups, and the cascading delete that removes a resource with everything under it
// (a resource group with its workspaces, a workspace with its computes) as one durable
// operation. Types with work to do on delete (a compute detaching from its cluster, a
// cluster stopping its apiserver) plug in a Deleter. ListGeneric is ARM's generic resource
// list (GET …/resources) over whatever types its caller says users see, with the $filter
// clauses of Filter.
//
// A delete flows so: DeleteGroup (or another package's Delete, through StartDeleteIn in
// its own transaction) marks the target Deleting and submits one resources.delete
// operation together; while the target is Deleting, WritableGroup refuses new children
// (409 ResourceGroupBeingDeleted), so the delete never races a create under it. The
// operation then lists everything under the target and deletes it deepest first, one
// resumable step per resource, each through its type's Deleter.
//
// What it must not do: know what the types under a group are or need (no import of
// compute, containerservice or providers; they register Deleters), or hold the rows
// another package owns beyond deleting them through that Deleter. ListPage is the paging
// helper every domain list shares (A5): a page continues after the id of the previous
// page's last item (Page.After), so deletes before it do not shift it. DecodeRows turns
// its rows into resources, and Upsert is the bounded create-or-update of a PUT that
// resource groups, workspaces and policy assignments share.
package resources
