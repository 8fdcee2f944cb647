package kubeapiserver

import (
	"fmt"
	"sync"

	genericfeatures "k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// Feature gates are process-wide: kube-apiserver reads them from the one DefaultFeatureGate.
// The embedded clusters turn off, once per process, the gates whose cost is paid per watch
// while their benefit needs clusters far larger than an embedded one.
//
// ConcurrentWatchObjectDecode (on by default since Kubernetes 1.37) decodes the events of
// each watch served from etcd on a pool instead of in order on one goroutine, which pays
// off for watches of thousands of objects. With the watch cache off (see newOptions) every
// watch of a cluster is served from etcd, about 95 per idle cluster, and each would cost
// two goroutines instead of one.
//
// UnknownVersionInteroperabilityProxy (on by default since 1.36) lets the apiservers of a
// control plane being upgraded proxy requests to a peer that serves a version they do not;
// each server renews a lease announcing its peer address every 10 s for that. An embedded
// cluster has exactly one apiserver, like the identity lease that disabledPostStartHooks
// turns off.
var processGates = map[string]bool{
	string(genericfeatures.ConcurrentWatchObjectDecode):         false,
	string(genericfeatures.UnknownVersionInteroperabilityProxy): false,
}

// setProcessGates applies processGates to the process's feature gates, once.
var setProcessGates = sync.OnceValue(func() error {
	if err := utilfeature.DefaultMutableFeatureGate.SetFromMap(processGates); err != nil {
		return fmt.Errorf("set feature gates %v: %w", processGates, err)
	}
	return nil
})

// prepareProcess does, once per process, what every server of the process relies on: the
// guard against Kubernetes' fatal exits (fatal.go) and the feature gates above.
func prepareProcess() error {
	installFatalGuard()
	return setProcessGates()
}
