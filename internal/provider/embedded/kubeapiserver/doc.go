// Package kubeapiserver runs real Kubernetes API servers (k8s.io/kubernetes kube-apiserver)
// inside the mlfleet process, one per embedded cluster, all stored in one embedded etcd.
//
// The parts fit together like this:
//
//   - [StartEtcd] starts the single etcd member of the process. Its data lives in a directory
//     of the caller's choosing, it listens on loopback ports picked by the operating system,
//     and every cluster keeps its objects under its own key prefix (/clusters/<id> by default).
//   - [Start] builds one kube-apiserver from the same options and server chain as the
//     kube-apiserver binary (k8s.io/kubernetes/cmd/kube-apiserver/app: options,
//     NewConfig, CreateServerChain): aggregator, core Kubernetes APIs and apiextensions
//     (CRDs), authorization Node,RBAC, client certificate and service account
//     authentication. It returns when the server is ready for its users.
//   - One controller of kube-controller-manager runs next to each server (controllers.go):
//     ClusterRole aggregation, without which the built-in roles admin, edit and view grant
//     nothing, and with them the cluster user. Every other controller (namespace deletion,
//     garbage collection, workloads, service accounts) is left to the package that simulates
//     the rest of the cluster, through [Server.InClusterConfig].
//   - The PKI of a cluster (CA, serving certificate, service account signing key, admin and
//     user client certificates) is created by package internal/pki on the first start under
//     Config.DataDir/pki (pki.go says which files) and reused afterwards, so kubeconfigs handed out before a restart keep working after it.
//     Leaf certificates are renewed from the same CA when they come close to expiry.
//   - The secure port is served through a listener that enforces the authorized IP ranges of
//     the cluster (spec S15): connections from other sources are closed as soon as they are
//     accepted, and changing the ranges at run time also closes established connections that
//     are no longer allowed. The apiserver's own loopback client does not go through that
//     port: it talks to a second listener bound to 127.0.0.1 that is not filtered, because
//     the apiserver must keep reaching itself whatever the ranges say (an AKS control plane
//     is not subject to its own authorized ranges either). [Server.InClusterConfig] hands
//     that path to the in-process components that stand for the cluster's nodes.
//   - With Config.FrontDoor and Config.ServerName, the kubeconfigs name the front door (the
//     control plane's port) as server and ServerName as tls-server-name; the front door
//     passes such connections to [Server.Handoff], which filters and tracks them as it does
//     those of the secure port.
//
// # Identities
//
// The admin kubeconfig authenticates as CN=mlfleet-admin, O=system:masters (cluster-admin,
// the equivalent of AKS listClusterAdminCredential). The user kubeconfig authenticates as
// CN=clusterUser, O=mlfleet:cluster-users. That group is bound cluster-wide to the built-in
// ClusterRole "view" (read nearly everything, but not Secrets, and no RBAC changes) and to
// mlfleet:cluster-users:nodes (read nodes, which "view" leaves out: AKS's quickstart lists
// them with the user credential), and, in the "default" namespace only, to the built-in
// ClusterRole "edit" (create and change workloads, ConfigMaps, Secrets, Services there). A
// ClusterRoleBinding to "edit" was rejected because "edit" granted cluster-wide includes
// reading Secrets in kube-system.
//
// # Version
//
// GET /version reports the version of the k8s.io/kubernetes code compiled into the binary.
// Without -ldflags the kube-apiserver would say v0.0.0-master, and
// k8s.io/component-base/version.SetDynamicVersion cannot fix that (it only accepts versions
// with the stamped major.minor.patch). Instead [KubernetesVersion] finds the version from
// the -ldflags stamp, else the build information (runtime/debug.ReadBuildInfo), else the
// module-cache source path of the compiled kube-apiserver code (test binaries), and every
// server gets its own effective version (k8s.io/component-base/compatibility) whose binary
// version is that version and whose /version document carries it. See version.go.
//
// # What is left out
//
// To keep a cluster light: the watch cache (etcd serves lists and watches), API priority and
// fairness, profiling endpoints, the per-resource object count polling, the apiserver
// identity lease and the mixed-version peer proxy (for peers an embedded cluster never
// has), the admission plugins that need controllers or running pods (ServiceAccount,
// ResourceQuota, the two webhook plugins), and the API versions flowcontrol.apiserver.k8s.io/v1
// and storagemigration.k8s.io/v1. The kubernetes Service gets no endpoints (loopback
// addresses are not valid endpoints). All resources of a server share one etcd client
// (etcdclient.go) instead of one connection per resource. Mutating admission policies stay
// (an AKS cluster has them), although their plugin reads /openapi/v3 every 5 s. Service
// account tokens are validated with lookups instead of informers (tokengetter.go), so a
// cluster does not watch all its Secrets. The OpenAPI documents of the built-in APIs are
// built once per process, on first use, and shared, and so are the OpenAPI definitions
// every API group's server-side apply models are built from (openapi.go). Two feature gates
// whose cost is per watch or per peer are off for the process (gates.go).
//
// Measured on a shared 2-core machine (stop 22, load average about 1-3),
// BenchmarkServerStart: one more apiserver adds 47-51 MiB RSS and takes 0.86-0.93 s of
// process CPU to start (55 MiB before the definitions were shared). Of that CPU about a
// third is garbage collection and about 140 ms the two 2048-bit RSA keys of the loopback
// certificate, which kube-apiserver generates itself with no way to hand it one. With its
// cluster runtime, 3 nodes and 3 pods (go run ./hack/bench, 10 clusters): about 75 MB RSS
// and 1,770 goroutines per extra cluster, and 0.37-0.7 % of a core when idle (it varies
// that much between runs). Most of those goroutines belong to about 95 watches (some 30
// of the apiserver's informers, some 50 metadata informers of the garbage collector, the
// controllers' typed ones), 17-19 goroutines each between client, server and etcd. Idle
// CPU is mostly scheduler wake-ups: every named workqueue ticks twice a second for its
// metrics (about 40 per cluster), and the aggregator re-reads the local OpenAPI v3 index
// once a second.
//
// # Process-wide state
//
// kube-apiserver keeps some state in package variables: feature gates, the legacy metrics
// registry, klog, and klog's exit function. All servers of a process share them. This package
// leaves log routing to the caller (klog writes to stderr unless routed, e.g. with
// klog.SetSlogLogger). It changes two things, once, on the first Start: a failed post-start
// hook, which kube-apiserver turns into os.Exit, ends only its own goroutine instead of the
// process (see fatal.go), and two feature gates are turned off (gates.go). And it keeps
// two things itself: the OpenAPI documents of the built-in APIs, shared by all servers with
// the same routes, and the OpenAPI definitions behind them (openapi.go).
package kubeapiserver
