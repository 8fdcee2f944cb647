// Package cli is the mlfleet command line: `mlfleet serve`, which starts the control plane
// (internal/server), and the az-style client commands (`group`, `aks`, `ml workspace`,
// `ml computetarget`, `ml online-endpoint`, `configure`, `login`, `account`, ...), which
// talk to a server over its ARM REST API (S22).
//
// What it owns: the grammar (commands, flags, their defaults and aliases as az spells
// them); the checks a command line can make before anything is sent (a missing flag, flags
// that go together or exclude each other, a file that cannot be read); the defaults of
// `mlfleet configure` and the sign-in of `mlfleet login`, kept in the client configuration
// (internal/clientconfig); and the reshaping of answers into what az prints (azshape.go and
// the table transformers), so that scripts and --query expressions written for az work
// unchanged. A usage mistake is a *UsageError and exits 2, as argparse makes az do;
// anything else exits 1.
//
// What it must not do: the client commands reach the server only through the public SDK
// (pkg/mlfleet), never through the store, a domain package or a provider, so the CLI sees
// what every other client sees and works the same against a remote server. Domain rules
// (names, capacity, versions, certificates, quotas) are the server's, and the client-side
// checks of a create or attach are the SDK's, as azureml-core's are in Python; the CLI
// only maps their problems to its flags. Printing, the output formats and --query are
// internal/output's: a command hands output.Print a value and, for -o table, a transformer.
// Only serve.go imports server-side packages, to read serve's flags and start the server.
//
// How the parts fit: cli.go has Run, the root command, the global flags and the calls most
// commands make (client, call, print); command.go the shapes commands share (a resolver of
// the flags that name a resource, leaf and command, callCommand for the commands that
// resolve, make one call and print its answer, start and wait for long-running operations,
// deletion with its confirmation); table.go and azshape.go what az prints; then
// one file per command group (aks*.go, computetarget*.go, ml*.go, group.go, identity.go, ...).
package cli
