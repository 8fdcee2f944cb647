// Package testutil holds what the test binaries of several packages share and that does not
// depend on what they test: the life of a test binary (a temporary root, quiet klog, things
// started once and stopped at the end), things started for one test, bounded polls, the
// racers of a concurrency test, a settable clock, a buffer that goroutines write to, file
// reads that fail the test, reads of a decoded JSON value by a dotted path and the check of
// a table case's expected error.
//
// It imports no mlfleet package, so that any package's in-package tests can use it: a
// package passes its own start and stop functions (kubeapiserver's tests start servers
// with kubeapiserver.Start, which testutil could not import without a cycle).
package testutil
