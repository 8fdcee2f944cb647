package server

import (
	"context"
	"log/slog"
	"time"
)

// shutdownPart is one part of the server that shutdown closes.
type shutdownPart struct {
	name  string
	close func(context.Context) error
}

// partShutdown bounds how long each part may take to close.
const partShutdown = 15 * time.Second

// shutdown closes the server's parts in order, each within partShutdown of its own, so that
// a part that is slow to close does not leave the next one no time. With several replicas
// it first stops taking peer calls and cuts short those in flight (a drain another
// replica's operation is waiting on, say), whose callers then wait for the cluster's next
// host, and stops the background work (taking clusters over among it). After the HTTP
// server the replica's row is removed (deregistered: no new cluster is placed here), then
// the monitors and the operations engine stop (operations running here are freed for
// another replica); Run's deferred calls then stop the clusters and free their hosting
// leases, which the other replicas take at once, as the kill of a replica would let them
// do only once the leases lapsed.
func shutdown(log *slog.Logger, peers *peerCalls, stopBackground context.CancelFunc, parts []shutdownPart) {
	if peers != nil {
		peers.Close()
	}
	stopBackground()
	for _, part := range parts {
		ctx, cancel := context.WithTimeout(context.Background(), partShutdown)
		if err := part.close(ctx); err != nil {
			log.Warn(part.name+" shutdown", "err", err)
		}
		cancel()
	}
}
