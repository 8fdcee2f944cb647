// Package frontdoor serves every embedded cluster's API server through the control plane's
// own HTTPS port. It reads the server name (SNI) of each connection's TLS ClientHello
// without terminating TLS: a name a Resolver knows (a cluster's fqdn) sends the connection,
// bytes untouched, to that cluster's API server, so client certificates keep working end
// to end; anything else (no SNI, another name, not TLS at all) goes to the control plane's
// own HTTPS server as before. The cluster's authorized IP ranges are checked here, on the
// real client address, before a byte reaches the cluster. A connection for a cluster that
// exists but is not serving yet (starting after a restart of its server, or moving to
// another replica) waits for it, bounded (HoldStarting), rather than reaching the control
// plane's server, whose certificate the cluster's kubeconfig would refuse.
//
// Kubeconfigs therefore name the control plane's address as `server` and the cluster's
// fqdn as `tls-server-name`, and stay valid for as long as that address does.
package frontdoor
