package server

import (
	"fmt"
	"io"
	"log/slog"
)

// warnPublicAddress warns, in the log and on out, when a replica of a PostgreSQL store
// (sqlite false) starts without --public-address (public ""): it hands out kubeconfigs
// that name its own address (kubeAddress), so when another replica takes a cluster over
// (this one stopped or lost), the cluster's users' kubectl is refused at that address with
// no hint of why. It warns rather than refuses: one replica alone, or replicas that only
// serve registered clusters, work without it. A SQLite server is the only replica.
func warnPublicAddress(out io.Writer, log *slog.Logger, sqlite bool, public, kubeAddress string) {
	if sqlite || public != "" {
		return
	}
	msg := fmt.Sprintf("with a PostgreSQL store and no --public-address, the kubeconfigs of embedded clusters fetched through this replica name its address (https://%s) "+
		"and stop working when another replica takes the cluster over (kubectl: connection refused). Pass --public-address ADDR, an address every replica answers at "+
		"(a load balancer or DNS name in front of them), to avoid it.", kubeAddress)
	log.Warn(msg)
	fmt.Fprintf(out, "WARNING: %s\n", msg)
}
