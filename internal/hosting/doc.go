// Package hosting decides which replica hosts each embedded cluster: the holder of the
// cluster's lease in the store. A Keeper acquires leases for this replica, renews them on
// the database's clock, and fences itself: when it cannot renew a lease in time (the
// database unreachable, the process paused) or finds it taken, it calls the cluster's stop
// function before the lease can be granted to another replica, so two replicas never host
// one cluster at once. Each grant carries a fencing token that grows at every change of
// holder. PickHost places a new cluster on the least-loaded live replica.
package hosting
