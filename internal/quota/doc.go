// Package quota holds the limits on what each subscription may run in each region, as Azure
// has them: the number of managed clusters, the total regional vCPUs ("cores") and the vCPUs
// of each VM family ("standardDv2Family"...), named as Microsoft.Compute's usages name them.
//
// The parts:
//   - Quotas: the limits, kept as data. Built-in defaults fit one machine (every embedded
//     cluster is a real kube-apiserver); a JSON file (`mlfleet serve --quota-file`) changes
//     them for every subscription, one subscription, or one subscription in one region.
//   - Amount: a use of the quotas, or a request for more.
//   - Check: the arithmetic, and the 400 QuotaExceeded that names the quota, the current
//     use, the request and the limit (AKS's InsufficientVCPUQuota message).
//   - Usages: the list GET …/locations/{loc}/usages serves.
//
// Counting what is in use belongs to the service that owns the clusters
// (containerservice), which counts and writes in one store transaction under Store.Lock so
// that concurrent creates cannot overshoot.
package quota
