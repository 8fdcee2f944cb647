// Package activity is mlfleet's activity log, ARM's record of every write: who (the
// principal), what (ARM's operation name, e.g.
// Microsoft.ContainerService/managedClusters/write), where (the resource id, its group and
// subscription), the outcome (Accepted, Succeeded, Failed, with the HTTP status and the ARM
// error code) and the correlation id that ties a client call's events together.
//
// The API calls Begin for every request that passed authentication and End once it is
// answered; reads are not recorded. A write that starts a long-running operation is
// recorded Accepted, and the operation's end is a second event, recorded by OperationEnded
// (the operations engine's EndHook) with the request's caller and correlation id, which
// Begin left in the context the operation was submitted with. Only headers and status
// codes are read, never a request or response body, so secrets (credentials in a compute,
// keys in a listKeys answer) cannot reach the log; error messages are left out too, as they
// may repeat what the request carried.
//
// List serves GET /subscriptions/{sub}/providers/Microsoft.Insights/eventtypes/management/values
// (ParseFilter reads its $filter, ParseSelect its $select), newest first, paged with a
// $skiptoken. Prune keeps the table bounded: the sweeper runs it to drop events older than
// the retention (90 days by default).
package activity
