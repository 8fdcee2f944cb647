package kubeapiserver

import (
	"net"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/kubernetes/cmd/kube-apiserver/app/options"
	"k8s.io/kubernetes/pkg/controlplane/reconcilers"
)

// quietOptions sets the options whose upstream defaults make kube-apiserver log, at ERROR,
// things that are not errors on every start of an embedded cluster; an operator grepping
// mlfleet's log for ERROR would chase them. The config built from o needs noEndpoints too.
func quietOptions(o *options.ServerRunOptions) {
	// No endpoints for the kubernetes Service: noEndpoints, set on the config, replaces
	// upstream's none reconciler.
	o.EndpointReconcilerType = string(reconcilers.NoneEndpointReconcilerType)
	// The metrics options change process-wide state (hidden and disabled metrics, label
	// allow-lists), which mlfleet leaves at its defaults. Applied unset, as flags leave them,
	// they logged "The manifest file is empty, ignoring." (no allow-list manifest) on every
	// start; nil options are not applied.
	o.Metrics = nil
}

// noEndpoints is the endpoint reconciler of the kubernetes Service: none, as
// reconcilers.NoneEndpointReconcilerType would give, because the lease reconciler would
// publish 127.0.0.1, which endpoint validation rejects, and there are no pods to use it.
//
// It differs from upstream's none in what RemoveEndpoints answers. The kubernetes service
// controller calls it when it starts, to remove what an apiserver that did not exit cleanly
// left behind, and logs "Found stale data, removed previous endpoints on kubernetes service,
// apiserver didn't exit successfully previously" at ERROR when it succeeds, which upstream's
// none always does: every cluster create and every restart logged it. Here it says that
// there was nothing to remove (storage's not-found, which the controller takes quietly),
// until StopReconciling; on shutdown the controller calls it after StopReconciling and logs
// any error, so it succeeds then.
type noEndpoints struct {
	stopped atomic.Bool
}

var _ reconcilers.EndpointReconciler = (*noEndpoints)(nil)

// ValidateIP accepts any address: nothing is published.
func (r *noEndpoints) ValidateIP(net.IP) error { return nil }

// ReconcileEndpoints does nothing: the kubernetes Service has no endpoints.
func (r *noEndpoints) ReconcileEndpoints(string, net.IP, []corev1.EndpointPort, bool) error {
	return nil
}

// RemoveEndpoints removes nothing; before StopReconciling it says so with a not-found error.
func (r *noEndpoints) RemoveEndpoints(serviceName string, ip net.IP, _ []corev1.EndpointPort) error {
	if r.stopped.Load() {
		return nil
	}
	return storage.NewKeyNotFoundError("endpoints of service "+serviceName+" for "+ip.String(), 0)
}

// StopReconciling marks the shutdown, after which RemoveEndpoints succeeds.
func (r *noEndpoints) StopReconciling() { r.stopped.Store(true) }

// Destroy does nothing: there is nothing to release.
func (r *noEndpoints) Destroy() {}
