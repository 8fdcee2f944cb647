// Package workspaces manages Machine Learning workspaces
// (Microsoft.MachineLearningServices/workspaces, A6), the parents of inference computes.
//
// A PUT goes through WritableGroup (no workspace is created in a group being deleted),
// the name rule of A6, and a create-or-update loop on the row's version, so that a PUT
// sent twice, or by two clients at once, ends with one workspace (ARM's PUT is
// idempotent). A DELETE is the cascading delete of package resources: the workspace is
// marked Deleting and one operation removes its computes (through compute's Deleter,
// which detaches them) and then the workspace.
//
// What it must not do: know about computes or clusters. It keeps no child rows of its
// own and registers no Deleter; whatever lives under a workspace is deleted by the
// Deleter its own package registers.
package workspaces
