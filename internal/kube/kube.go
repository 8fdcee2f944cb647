// Package kube is everything mlfleet does inside a Kubernetes cluster, through client-go,
// whatever provider the cluster comes from: connect from a kubeconfig, read the version
// (GET /version) and the nodes, and summarise the nodes as pools with their VM size.
// Nothing above this package handles apimachinery errors.
package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mlfleet/mlfleet/internal/catalog"
)

// ErrUnreachable means the cluster's API server could not be reached or did not answer.
var ErrUnreachable = errors.New("cluster unreachable")

// Cluster is a connection to one cluster.
type Cluster struct {
	Config *rest.Config
	Client kubernetes.Interface
}

// Connect builds a client from kubeconfig bytes; context "" means the current context.
// It does not contact the cluster.
func Connect(kubeconfig []byte, context string) (*Cluster, error) {
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
	cfg, err := clientcmd.NewDefaultClientConfig(*cc, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return FromConfig(cfg)
}

// FromConfig wraps a rest.Config, setting mlfleet's user agent, timeouts and rate limits.
func FromConfig(cfg *rest.Config) (*Cluster, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "mlfleet"
	if cfg.Timeout == 0 {
		cfg.Timeout = 15 * time.Second
	}
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
			ch <- result{err: fmt.Errorf("%w: GET /version: %v", ErrUnreachable, err)}
			return
		}
		ch <- result{v: CleanVersion(info.GitVersion)}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("%w: %v", ErrUnreachable, ctx.Err())
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
	Name   string
	Pool   string
	VMSize string
	// Cores is the node's CPU capacity in whole cores; MemoryMiB its memory.
	Cores     int
	MemoryMiB int
	GPUs      int
	Ready     bool
}

// Nodes lists the cluster's nodes.
func (c *Cluster) Nodes(ctx context.Context, sizes *catalog.VMSizes) ([]Node, error) {
	list, err := c.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("%w: list nodes: %v", ErrUnreachable, err)
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
	for _, l := range []string{"kubernetes.azure.com/agentpool", "agentpool", "eks.amazonaws.com/nodegroup", "cloud.google.com/gke-nodepool"} {
		if v := n.Labels[l]; v != "" {
			d.Pool = v
			break
		}
	}
	if d.Pool == "" {
		d.Pool = "default"
	}
	for _, l := range []string{"node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type"} {
		if v := n.Labels[l]; v != "" {
			d.VMSize = v
			break
		}
	}
	if d.VMSize == "" {
		d.VMSize = sizeFromCapacity(d, sizes)
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			d.Ready = c.Status == corev1.ConditionTrue
		}
	}
	return d
}

// sizeFromCapacity names a node's size from the catalog size with the same cores, memory and
// GPUs, else describes the capacity ("custom-4cpu-16384mib").
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
	Name   string
	Count  int
	VMSize string
}

// Pools groups nodes by pool; the VM size is the most common one of the pool.
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
