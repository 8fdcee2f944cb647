// Package armapi holds the bodies of mlfleet's ARM-shaped REST API: the resources as the
// server serves them (resource groups, workspaces, computes, managed clusters, online
// endpoints, model/code/environment assets), the bodies of PUTs, the list page (List), the
// operation status and the error envelope. It has types and the values of their fields only, no HTTP: the
// server (internal/...) serves these types, and the Go SDK (package mlfleet) and the CLI
// read them, so that both sides agree by construction.
//
// The JSON of these types is a contract with clients mlfleet does not control (the Azure
// CLI, the official Azure SDKs), so a change here must keep it byte-compatible: add fields,
// never rename or retype one.
//
// What the server stores is not bound to these types: each domain package encodes its rows
// as its own record (with a schema version), and a golden test there fails when a change
// here would change what is written to the database.
package armapi
