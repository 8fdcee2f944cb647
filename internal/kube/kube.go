package kube

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/mlfleet/mlfleet/internal/catalog"
)

var (
	// ErrUnreachable means the cluster's API server could not be reached or did not answer.
	ErrUnreachable = errors.New("cluster unreachable")

	// ErrForbidden means the API server refused the credentials (401) or the action (403);
	// the message says what was refused.
	ErrForbidden = errors.New("forbidden")

	// ErrAttached means the cluster carries the marker of another attachment; errors
	// wrapping it are an *AttachedError naming that attachment.
	ErrAttached = errors.New("cluster already attached")

	// ErrInvalid means the API server refused an object as invalid (422), or that an
	// object in the way is not mlfleet's; the message says which field or object.
	ErrInvalid = errors.New("refused by the cluster")
)

// Cluster is a connection to one cluster.
type Cluster struct {
	// Config is the rest.Config the client was built from, with FromConfig's settings;
	// Remove builds its metadata client from it.
	Config *rest.Config
	// Client is the typed client every method uses.
	Client kubernetes.Interface
}

// Connect builds a client from kubeconfig bytes; context "" means the current context.
// It does not contact the cluster. The kubeconfig comes from a user (aks import), so the
// context's credentials must be inline (Inline): one that would run a program or read a
// file on this machine is refused. ConnectLocal allows that.
func Connect(kubeconfig []byte, context string) (*Cluster, error) {
	return connect(kubeconfig, context, false)
}

// ConnectLocal is Connect trusting the kubeconfig's exec plugins, auth providers and file
// paths (serve --allow-kubeconfig-exec): for an operator whose every user who may register
// a cluster may also run programs on the server.
func ConnectLocal(kubeconfig []byte, context string) (*Cluster, error) {
	return connect(kubeconfig, context, true)
}

func connect(kubeconfig []byte, context string, local bool) (*Cluster, error) {
	cc, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: context}
	if context != "" {
		if _, ok := cc.Contexts[context]; !ok {
			names := make([]string, 0, len(cc.Contexts))
			for n := range cc.Contexts {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("kubeconfig has no context %q (it has: %s)", context, strings.Join(names, ", "))
		}
	}
	if !local {
		if err := Inline(cc, cmp.Or(context, cc.CurrentContext)); err != nil {
			return nil, err
		}
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*cc, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return FromConfig(cfg)
}

// Inline returns an error naming what, in the user and cluster of the kubeconfig's context
// name, would make the client run a program or read a file of this machine: an exec
// credential plugin, an auth provider, or the path of a token, key or certificate. A
// kubeconfig a user sends to the server is read there, so this is how it is kept from
// running the user's command on the server or sending one of its files to the user's
// server. A context missing, or naming a user or cluster missing, is left to the client
// config, which says so.
func Inline(cc *clientcmdapi.Config, name string) error {
	ctx := cc.Contexts[name]
	if ctx == nil {
		return nil
	}
	var found []string
	if u := cc.AuthInfos[ctx.AuthInfo]; u != nil {
		if u.Exec != nil {
			found = append(found, fmt.Sprintf("an exec credential plugin (users[%s].user.exec runs %q)", ctx.AuthInfo, u.Exec.Command))
		}
		if u.AuthProvider != nil {
			found = append(found, fmt.Sprintf("an auth provider (users[%s].user.auth-provider %q)", ctx.AuthInfo, u.AuthProvider.Name))
		}
		for field, path := range map[string]string{"tokenFile": u.TokenFile, "client-certificate": u.ClientCertificate, "client-key": u.ClientKey} {
			if path != "" {
				found = append(found, fmt.Sprintf("a file path (users[%s].user.%s: %s)", ctx.AuthInfo, field, path))
			}
		}
	}
	if c := cc.Clusters[ctx.Cluster]; c != nil && c.CertificateAuthority != "" {
		found = append(found, fmt.Sprintf("a file path (clusters[%s].cluster.certificate-authority: %s)", ctx.Cluster, c.CertificateAuthority))
	}
	if len(found) == 0 {
		return nil
	}
	sort.Strings(found)
	return &LocalCredentialsError{msg: fmt.Sprintf("context %q uses %s, which mlfleet would run or read on its own machine; send a kubeconfig whose credentials are inline (a service account token, or 'kubectl config view --raw --flatten --minify' for certificates), or start mlfleet with --allow-kubeconfig-exec if everyone who may register clusters may run programs on the server",
		name, strings.Join(found, " and "))}
}

// LocalCredentialsError is Inline's refusal of a kubeconfig that would run a program or
// read a file on this machine; its message names what and says what to send instead.
type LocalCredentialsError struct{ msg string }

func (e *LocalCredentialsError) Error() string { return e.msg }

// FromConfig wraps a rest.Config, setting mlfleet's user agent, timeouts and rate limits.
func FromConfig(cfg *rest.Config) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	// The user agent lets a cluster's audit log tell mlfleet's calls from the user's.
	cfg.UserAgent = "mlfleet"
	// Without a timeout a request to an API server that accepted the connection and then
	// hangs would hold an operation step or a health check until its context ends; 15 s
	// is well above one apply on a loaded cluster.
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
	// client-go's default (5 QPS, burst 10) would make MissingPermissions' ~60 access
	// reviews and Remove's listings take seconds; B3 wants attach under a second.
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return &Cluster{Config: cfg, Client: cs}, nil
}

// Version returns the version the API server reports on GET /version, as
// major.minor.patch (the "v" and any build suffix removed).
func (c *Cluster) Version(ctx context.Context) (string, error) {
	// ServerVersion has no context parameter; run it under ctx's deadline.
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		info, err := c.Client.Discovery().ServerVersion()
		if err != nil {
			ch <- result{err: translate(err, "GET /version")}
			return
		}
		ch <- result{v: CleanVersion(info.GitVersion)}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("GET /version: %w: %w", ErrUnreachable, ctx.Err())
	}
}

// CleanVersion turns v1.37.2+abc or v1.37.2-eks-1 into 1.37.2.
func CleanVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	if i := strings.IndexAny(v, "+-"); i >= 0 {
		v = v[:i]
	}
	return v
}

// Node is what mlfleet needs to know about a node.
type Node struct {
	Name string
	// Pool is the node's pool from the first pool label a cloud sets (AKS, EKS, GKE), or
	// "default" when it carries none.
	Pool string
	// VMSize is the node's instance-type label, or else a size guessed from its capacity
	// (see sizeFromCapacity).
	VMSize string
	// Cores is the node's CPU capacity in whole cores; MemoryMiB its memory.
	Cores     int
	MemoryMiB int
	// GPUs is the node's nvidia.com/gpu capacity (S18).
	GPUs int
	// Ready is the node's Ready condition; a node not ready is listed as "unusable".
	Ready bool
	// Unschedulable says why a pod that tolerates no taint (mlfleet's front-end and
	// inference pods) cannot be scheduled on the node: "cordoned" or its first NoSchedule
	// or NoExecute taint; "" when such a pod can be.
	Unschedulable string
	// InternalIP and ExternalIP are the node's first addresses of those types in its
	// status; "" when it reports none.
	InternalIP string
	ExternalIP string
}

// Nodes lists the cluster's nodes.
func (c *Cluster) Nodes(ctx context.Context, sizes *catalog.VMSizes) ([]Node, error) {
	list, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, translate(err, "list nodes")
	}
	out := make([]Node, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, describe(&list.Items[i], sizes))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func describe(n *corev1.Node, sizes *catalog.VMSizes) Node {
	d := Node{Name: n.Name}
	cpu := n.Status.Capacity[corev1.ResourceCPU]
	mem := n.Status.Capacity[corev1.ResourceMemory]
	gpu := n.Status.Capacity["nvidia.com/gpu"]
	d.Cores = int(cpu.Value())
	d.MemoryMiB = int(mem.Value() >> 20)
	d.GPUs = int(gpu.Value())
	// Clusters registered from anywhere (S25) name their pools with their cloud's label;
	// AKS's own label comes first, the legacy "agentpool" after it.
	d.Pool = cmp.Or(n.Labels["kubernetes.azure.com/agentpool"], n.Labels["agentpool"],
		n.Labels["eks.amazonaws.com/nodegroup"], n.Labels["cloud.google.com/gke-nodepool"], "default")
	d.VMSize = cmp.Or(n.Labels["node.kubernetes.io/instance-type"], n.Labels["beta.kubernetes.io/instance-type"])
	if d.VMSize == "" {
		d.VMSize = sizeFromCapacity(d, sizes)
	}
	d.Ready = NodeReady(n)
	d.Unschedulable = Unschedulable(n)
	for _, a := range n.Status.Addresses {
		switch {
		case a.Type == corev1.NodeInternalIP && d.InternalIP == "":
			d.InternalIP = a.Address
		case a.Type == corev1.NodeExternalIP && d.ExternalIP == "":
			d.ExternalIP = a.Address
		}
	}
	return d
}

// Unschedulable says why the scheduler places no pod without tolerations on n: "cordoned"
// when n is marked unschedulable, else its first taint with effect NoSchedule or NoExecute,
// as az writes taints ("taint sku=gpu:NoSchedule"). It returns "" when such a pod can be
// placed there. mlfleet's front-end and inference pods carry no toleration.
func Unschedulable(n *corev1.Node) string {
	if n.Spec.Unschedulable {
		return "cordoned"
	}
	for _, t := range n.Spec.Taints {
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if t.Value == "" {
			return fmt.Sprintf("taint %s:%s", t.Key, t.Effect)
		}
		return fmt.Sprintf("taint %s=%s:%s", t.Key, t.Value, t.Effect)
	}
	return ""
}

// NodeReady reports whether the node's Ready condition is True.
func NodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// PodReady reports whether the pod's Ready condition is True.
func PodReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// sizeFromCapacity names a node's size from the catalog size with the same cores, memory and
// GPUs, else describes the capacity ("custom-4cpu-16384mib"). Memory may differ by 5%:
// a kubelet reports capacity minus what the kernel keeps, never exactly the size's
// nominal memory.
func sizeFromCapacity(n Node, sizes *catalog.VMSizes) string {
	if sizes != nil {
		for _, s := range sizes.All() {
			if s.Cores == n.Cores && s.GPUs == n.GPUs && abs(s.MemoryMiB-n.MemoryMiB) <= s.MemoryMiB/20 {
				return s.Name
			}
		}
	}
	return fmt.Sprintf("custom-%dcpu-%dmib", n.Cores, n.MemoryMiB)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Pool is a group of nodes with the same pool name.
type Pool struct {
	Name string
	// Count is the number of nodes of the pool, ready or not.
	Count int
	// VMSize is the most common size among the pool's nodes.
	VMSize string
}

// Pools groups nodes by pool; the VM size is the most common one of the pool. Ties go to
// the smaller name, so that the same nodes always give the same pools (the stored
// agentVmSize must not flip between two reads).
func Pools(nodes []Node) []Pool {
	byName := map[string]map[string]int{}
	var names []string
	for _, n := range nodes {
		if byName[n.Pool] == nil {
			byName[n.Pool] = map[string]int{}
			names = append(names, n.Pool)
		}
		byName[n.Pool][n.VMSize]++
	}
	sort.Strings(names)
	var out []Pool
	for _, name := range names {
		p := Pool{Name: name}
		best := 0
		for size, c := range byName[name] {
			p.Count += c
			if c > best || c == best && size < p.VMSize {
				best, p.VMSize = c, size
			}
		}
		out = append(out, p)
	}
	return out
}

// translate turns an error of client-go into one of this package's, saying what was
// being done: refusals wrap ErrForbidden, failures to get an answer wrap ErrUnreachable
// (and the transport error, so that context.Canceled stays visible), and any other answer
// of the API server becomes a plain message. No apimachinery error leaves the package.
func translate(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		// No answer: connection refused or reset, TLS, DNS, a timeout, a cancelled context.
		return fmt.Errorf("%s: %w: %w", what, ErrUnreachable, err)
	}
	msg := status.Status().Message
	if msg == "" {
		msg = err.Error()
	}
	switch {
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		// Forbidden on the wire, but it is no matter of rights: the namespace is going.
		return fmt.Errorf("%s: %s", what, msg)
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: %w: %s", what, ErrForbidden, msg)
	case apierrors.IsServiceUnavailable(err), apierrors.IsServerTimeout(err), apierrors.IsTimeout(err):
		return fmt.Errorf("%s: %w: %s", what, ErrUnreachable, msg)
	case apierrors.IsInvalid(err):
		return fmt.Errorf("%s: %w: %s", what, ErrInvalid, msg)
	}
	return fmt.Errorf("%s: %s", what, msg)
}

// getIfExists calls get (a typed client's Get) for name. It returns the object and true,
// or the zero T and false with no error when there is no such object; a failure is
// translated, saying what was being done with format and args.
func getIfExists[T any](ctx context.Context, get func(context.Context, string, metav1.GetOptions) (T, error), name string,
	format string, args ...any) (T, bool, error) {
	obj, err := get(ctx, name, metav1.GetOptions{})
	if err != nil {
		var zero T
		if apierrors.IsNotFound(err) {
			return zero, false, nil
		}
		return zero, false, translate(err, format, args...)
	}
	return obj, true, nil
}
