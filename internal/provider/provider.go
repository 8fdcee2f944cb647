// Package provider defines where Kubernetes clusters come from. A Provider brings a cluster
// up (or reaches an existing one), reports its live state, scales it, hands out credentials
// and deletes it. Implementations: embedded (a real kube-apiserver per cluster, run by
// mlfleet, with simulated nodes) and external (an existing cluster reached by kubeconfig).
// What an implementation can do is data (Info), not a type switch.
package provider

import (
	"context"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrNotFound means the provider has no cluster with that id.
	ErrNotFound = errors.New("cluster not found")
	// ErrUnsupported means the provider cannot do this (see Info).
	ErrUnsupported = errors.New("not supported by this provider")
	// ErrHostedElsewhere means another replica hosts the cluster (it holds its lease).
	ErrHostedElsewhere = errors.New("the cluster is hosted by another replica")
	// ErrNoLogs means a pod has no log to read: it does not exist, or runs nothing whose
	// output the provider keeps.
	ErrNoLogs = errors.New("no logs for this pod")
)

// DrainError means a scale-down could not drain a node it was to remove: an eviction was
// refused (a PodDisruptionBudget) or the evicted pods outlasted the drain's timeout. The
// pool keeps its nodes, uncordoned.
type DrainError struct {
	// Node is the node whose drain failed.
	Node string
	// Pod is the namespace/name of the pod whose eviction was refused, or of one that
	// outlasted the timeout.
	Pod string
	// Budget is the namespace/name of the PodDisruptionBudget that refused the eviction;
	// empty when none was named.
	Budget string
	// Err is the eviction's error, or the timeout.
	Err error
}

func (e *DrainError) Error() string {
	msg := fmt.Sprintf("drain node %s: pod %s: %v", e.Node, e.Pod, e.Err)
	if e.Budget != "" {
		msg += fmt.Sprintf(" (PodDisruptionBudget %s)", e.Budget)
	}
	return msg
}

func (e *DrainError) Unwrap() error { return e.Err }

// resumeKey marks the context of a resume (ResumeOnly).
type resumeKey struct{}

// ResumeOnly marks ctx as a resume's: Ensure brings the cluster up here if it may, and
// never sends the call to another replica that hosts it (it answers ErrHostedElsewhere):
// a resume applies the stored spec, which must not override an update in flight there.
func ResumeOnly(ctx context.Context) context.Context {
	return context.WithValue(ctx, resumeKey{}, true)
}

// IsResumeOnly says whether ctx is a resume's (ResumeOnly).
func IsResumeOnly(ctx context.Context) bool {
	v, _ := ctx.Value(resumeKey{}).(bool)
	return v
}

// Info says what a provider can do.
type Info struct {
	// Name is the provider's name as users see it: "embedded", "external".
	Name string
	// CanCreate is true when the provider creates new clusters.
	CanCreate bool
	// CanScale is true when node counts can be changed through the provider.
	CanScale bool
	// DeleteDestroys is true when Delete destroys the cluster; false when it only forgets it.
	DeleteDestroys bool
	// EnforcesAuthorizedIPRanges is true when the provider applies authorized IP ranges on
	// the cluster's API server.
	EnforcesAuthorizedIPRanges bool
	// Versions lists the Kubernetes versions (major.minor.patch) the provider can create;
	// empty when it creates none.
	Versions []string
	// ServesEndpoints is true when the provider's clusters route scoring requests to
	// online deployments: the embedded provider runs the router in-process; the external
	// one only with a router image (serve --router-image).
	ServesEndpoints bool
	// RouterImage is the image of the inference router (azureml-fe) that the provider's
	// clusters run; empty for the embedded provider (in-process) and for an external
	// provider without one, whose azureml-fe stays a placeholder.
	RouterImage string
	// LocalRouter is true when the clusters' router serves on this machine's loopback
	// (127.0.0.1), where their scoring URIs point: the embedded provider's in-process router.
	// An Auto TLS certificate then names 127.0.0.1 too, so that those URIs verify.
	LocalRouter bool
	// LocalCredentials is true when the provider lets a registered cluster's kubeconfig run
	// exec plugins and auth providers and read files on this machine (serve
	// --allow-kubeconfig-exec); false, such a kubeconfig is refused (kube.Inline).
	LocalCredentials bool
}

// NodePool is a group of identical nodes.
type NodePool struct {
	Name   string
	Count  int
	VMSize string
	// Mode is System or User.
	Mode string
	// Autoscale, when set, lets the provider's cluster autoscaler move Count within it
	// (providers that cannot autoscale ignore it). In a Status, it is what the cluster's own
	// autoscaler keeps the pool within, when the provider can tell.
	Autoscale *PoolBounds
	// Labels are put on each node of the pool, besides the provider's own (nil: none).
	// Providers that do not run the nodes ignore them, as they do Taints and MaxPods.
	Labels map[string]string
	// Taints are put on each node of the pool (nil: none).
	Taints []Taint
	// MaxPods is how many pods a node runs; zero means 110.
	MaxPods int
}

// Taint is a taint of a pool's nodes. Effect is NoSchedule, PreferNoSchedule or NoExecute.
type Taint struct {
	Key, Value, Effect string
}

// PoolBounds are the node counts a cluster autoscaler keeps a pool within.
type PoolBounds struct {
	Min, Max int
}

// AutoscalerSettings are the settings of a cluster's autoscaler (AKS's autoScalerProfile,
// which are cluster-autoscaler's flags).
type AutoscalerSettings struct {
	// ScanInterval is how often pending pods and idle nodes are looked at. Zero means 10s.
	ScanInterval time.Duration
	// ScaleDownDelayAfterAdd is how long after a scale-up no node is removed.
	ScaleDownDelayAfterAdd time.Duration
	// ScaleDownUnneededTime is how long a node must stay under the threshold before it goes.
	ScaleDownUnneededTime time.Duration
	// ScaleDownDelayAfterFailure is how long after a failed drain (an eviction refused,
	// say by a PodDisruptionBudget) no node is removed.
	ScaleDownDelayAfterFailure time.Duration
	// UtilizationThreshold is the share of a node's allocatable cpu and memory that its
	// pods' requests must stay under for the node to be unneeded. Zero means 0.5.
	UtilizationThreshold float64
	// MaxGracefulTermination bounds how long a drain waits for the evicted pods to go.
	// Zero means 10m.
	MaxGracefulTermination time.Duration
	// Expander picks the pool to grow when several would take a pod: random (also ""),
	// least-waste or most-pods.
	Expander string
	// MaxEmptyBulkDelete is how many empty nodes (running nothing but DaemonSet and mirror
	// pods) one scan removes at once, each pool in one resize; nodes with other pods are
	// drained one at a time. Zero means 10.
	MaxEmptyBulkDelete int
	// ScaleDownDelayAfterDelete is how long after a node removal no other node is removed.
	// Zero means only until the next scan.
	ScaleDownDelayAfterDelete time.Duration
	// EvictSystemPods is skip-nodes-with-system-pods=false: a node whose kube-system pods
	// (of a controller, so they come back elsewhere) are its only ones that are not
	// DaemonSet pods may be drained. False (AKS's default) keeps such a node.
	EvictSystemPods bool
	// SkipNodesWithLocalStorage keeps a node running a pod with an emptyDir or hostPath
	// volume (unless the pod is annotated safe-to-evict "true"). False (AKS's default)
	// lets it go.
	SkipNodesWithLocalStorage bool
	// NewPodScaleUpDelay is how old a pending pod must be to trigger a scale-up. Zero
	// means any pending pod does.
	NewPodScaleUpDelay time.Duration
	// IgnoreDaemonSetsUtilization leaves DaemonSet pods out of a node's utilization when
	// deciding whether it is unneeded. False (AKS's default) counts them.
	IgnoreDaemonSetsUtilization bool
}

// Autoscaler configures the cluster autoscaler of a cluster with autoscaled pools.
type Autoscaler struct {
	AutoscalerSettings
	// Resize records the node count the autoscaler chose for a pool, before the provider
	// changes the pool; an error leaves the pool as it is until the next decision. Nil
	// means the provider changes the pool without asking.
	Resize func(ctx context.Context, pool string, count int) error
	// Resized, when set, is called once the provider has changed a pool to the count
	// Resize recorded (its nodes are there, or gone), so that what follows the cluster's
	// nodes can look again at once. It is not called when the change failed. It runs in
	// the autoscaler, which a stop of the cluster waits for: it must not wait itself.
	Resized func(ctx context.Context, pool string, count int)
}

// ClusterSpec describes a cluster to bring up or reach.
type ClusterSpec struct {
	// ID is the provider's id of the cluster: a DNS label, stable for the resource's life.
	ID       string
	Name     string
	Location string
	// FQDN is the cluster's DNS name (properties.fqdn or privateFQDN), which names it on the
	// control plane's front door (package frontdoor).
	FQDN              string
	KubernetesVersion string
	Pools             []NodePool
	ServiceCIDR       string
	DNSServiceIP      string
	// AuthorizedIPRanges limit who may reach the API server (empty: everyone).
	AuthorizedIPRanges []string
	// Kubeconfig reaches an existing cluster (external provider only).
	Kubeconfig []byte
	// Context picks a kubeconfig context ("" = the current one; external provider only).
	Context string
	// Autoscaler configures the autoscaling of the pools with Autoscale set (nil: none).
	Autoscaler *Autoscaler
}

// Status is a cluster's live state.
type Status struct {
	// KubernetesVersion is what the API server reports on GET /version (major.minor.patch).
	KubernetesVersion string
	// Server is the API server's URL.
	Server string
	// Pools are the node pools as seen on the live nodes.
	Pools []NodePool
}

// Credentials are kubeconfig files for a cluster.
type Credentials struct {
	// Admin is cluster-admin.
	Admin []byte
	// User is a non-admin identity.
	User []byte
}

// Provider brings clusters up and reports on them. Methods are safe for concurrent use.
type Provider interface {
	// Info says what the provider can do.
	Info() Info
	// Ensure brings the cluster of spec up (or connects to it) and returns its status. It is
	// idempotent: on a running cluster it returns the status; after a restart of mlfleet it
	// starts the cluster again with its data kept.
	Ensure(ctx context.Context, spec ClusterSpec) (*Status, error)
	// Status returns the live state of a cluster Ensure brought up, or ErrNotFound.
	Status(ctx context.Context, id string) (*Status, error)
	// Scale sets a pool's node count. Idempotent. ErrUnsupported when !Info().CanScale.
	Scale(ctx context.Context, id string, pool NodePool) error
	// SetAuthorizedIPRanges changes who may reach the API server. Idempotent.
	SetAuthorizedIPRanges(ctx context.Context, id string, ranges []string) error
	// Credentials returns kubeconfigs for the cluster, or ErrNotFound.
	Credentials(ctx context.Context, id string) (*Credentials, error)
	// Delete destroys the cluster and its data (or forgets it, see Info). Idempotent: nil
	// when it is already gone.
	Delete(ctx context.Context, id string) error
	// Close stops what the provider runs, keeping data so Ensure can bring it back.
	Close(ctx context.Context) error
}

// PodLogReader is implemented by providers that can read a pod's container log.
type PodLogReader interface {
	// PodLogs returns the last tailLines lines (all when tailLines <= 0) of the output of
	// container ("" for the pod's main container) of a pod in the cluster clusterID. It
	// returns ErrNotFound when the cluster is not running here, and an error wrapping
	// ErrNoLogs when the pod does not exist or has no log.
	PodLogs(ctx context.Context, clusterID, namespace, pod, container string, tailLines int) (string, error)
}
