package clusterruntime

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"regexp"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/mlfleet/mlfleet/internal/catalog"
)

// Extended resources of simulated nodes.
const (
	// ResourceGPU is the resource NVIDIA's device plugin advertises, and AKS GPU nodes have.
	ResourceGPU v1.ResourceName = "nvidia.com/gpu"

	// ResourceFPGA is the resource simulated FPGA nodes advertise, one per FPGA of the VM
	// size. Azure's FPGA sizes (NP-series) carry Xilinx Alveo cards, whose device plugin
	// advertises "xilinx.com/fpga-<shell>-<timestamp>"; the shell-independent prefix is used
	// here so that workloads have one name to request.
	ResourceFPGA v1.ResourceName = "xilinx.com/fpga"
)

// Node labels set by AKS that are not in k8s.io/api's well-known labels.
const (
	labelAgentPool     = "kubernetes.azure.com/agentpool"
	labelAgentPoolOld  = "agentpool"
	labelMode          = "kubernetes.azure.com/mode"
	labelRole          = "kubernetes.azure.com/role"
	labelOSSKU         = "kubernetes.azure.com/os-sku"
	labelAccelerator   = "kubernetes.azure.com/accelerator"
	labelBetaOS        = "beta.kubernetes.io/os"
	labelBetaArch      = "beta.kubernetes.io/arch"
	labelBetaZone      = "failure-domain.beta.kubernetes.io/zone"
	labelBetaRegion    = "failure-domain.beta.kubernetes.io/region"
	annotationNodePool = "mlfleet.io/node-pool"
)

// maxPodsPerNode is the AKS default for kubenet and Azure CNI overlay nodes; a pool's
// MaxPods may be 10 to 250 (AKS's range).
const (
	maxPodsPerNode = catalog.DefaultMaxPods
	minMaxPods     = 10
	maxMaxPods     = 250
)

// maxNodesPerPool is the AKS limit on the node count of one agent pool.
const maxNodesPerPool = 1000

// NodePool is a group of identical simulated nodes, like an AKS agent pool.
type NodePool struct {
	// Name names the pool: 1 to 12 lower-case letters and digits, starting with a letter
	// (the AKS rule for Linux pools). Required.
	Name string `json:"name"`

	// Count is the number of nodes, 0 to 1000. Zero keeps the pool without nodes.
	Count int `json:"count"`

	// VMSize is the Azure VM size, e.g. "Standard_D3_v2"; it becomes the instance-type
	// labels. Required.
	VMSize string `json:"vmSize"`

	// Cores is the number of vCPUs of the VM size, at least 1: the nodes' cpu capacity.
	Cores int `json:"cores"`

	// MemoryMiB is the memory of the VM size in MiB, at least 1: the nodes' memory capacity.
	MemoryMiB int64 `json:"memoryMiB"`

	// GPUs is the number of GPUs of the VM size; non-zero gives nodes ResourceGPU.
	GPUs int `json:"gpus,omitempty"`

	// FPGAs is the number of FPGAs of the VM size; non-zero gives nodes ResourceFPGA.
	FPGAs int `json:"fpgas,omitempty"`

	// KubernetesVersion is the kubelet version the nodes report, without the leading "v"
	// ("1.33.2"). Required.
	KubernetesVersion string `json:"kubernetesVersion"`

	// Location is the Azure region, the nodes' topology.kubernetes.io/region label. Empty
	// leaves the region labels out.
	Location string `json:"location,omitempty"`

	// Labels are put on each node besides AKS's own labels, which win over them (nil:
	// none). A label a pool no longer has is taken off its nodes; labels others set stay.
	Labels map[string]string `json:"labels,omitempty"`

	// Taints are put on each node (nil: none). A taint a pool no longer has (same key and
	// effect) is taken off its nodes; taints others set stay.
	Taints []v1.Taint `json:"taints,omitempty"`

	// MaxPods is how many pods a node runs, 10 to 250: the nodes' pods capacity, which
	// also sizes the memory AKS reserves. Zero means 110.
	MaxPods int `json:"maxPods,omitempty"`
}

// maxPods is how many pods a node of p runs.
func (p NodePool) maxPods() int {
	if p.MaxPods == 0 {
		return maxPodsPerNode
	}
	return p.MaxPods
}

var poolNamePattern = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)

// validate reports every problem of p together.
func (p NodePool) validate() error {
	var problems []string
	if !poolNamePattern.MatchString(p.Name) {
		problems = append(problems, fmt.Sprintf("name %q must be 1-12 lower-case letters and digits starting with a letter", p.Name))
	}
	if p.Count < 0 || p.Count > maxNodesPerPool {
		problems = append(problems, fmt.Sprintf("count %d must be between 0 and %d", p.Count, maxNodesPerPool))
	}
	if p.VMSize == "" {
		problems = append(problems, "VM size is empty")
	}
	if p.Cores < 1 {
		problems = append(problems, fmt.Sprintf("cores %d must be at least 1", p.Cores))
	}
	if p.MemoryMiB < 1 {
		problems = append(problems, fmt.Sprintf("memory %d MiB must be at least 1", p.MemoryMiB))
	}
	if p.GPUs < 0 || p.FPGAs < 0 {
		problems = append(problems, "GPUs and FPGAs cannot be negative")
	}
	if _, err := version.ParseGeneric(p.KubernetesVersion); err != nil || strings.HasPrefix(p.KubernetesVersion, "v") {
		problems = append(problems, fmt.Sprintf("Kubernetes version %q is not like 1.33.2", p.KubernetesVersion))
	}
	if p.MaxPods != 0 && (p.MaxPods < minMaxPods || p.MaxPods > maxMaxPods) {
		problems = append(problems, fmt.Sprintf("max pods %d must be between %d and %d", p.MaxPods, minMaxPods, maxMaxPods))
	}
	for k, v := range p.Labels {
		if msgs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(msgs) > 0 {
			problems = append(problems, fmt.Sprintf("label %s=%s: %s", k, v, strings.Join(msgs, "; ")))
		}
	}
	for _, t := range p.Taints {
		if err := validateTaint(t); err != nil {
			problems = append(problems, fmt.Sprintf("taint %s: %v", t.ToString(), err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w %q: %s", ErrInvalidPool, p.Name, strings.Join(problems, "; "))
	}
	return nil
}

// validateTaint checks a taint by Kubernetes' rules.
func validateTaint(t v1.Taint) error {
	var msgs []string
	msgs = append(msgs, validation.IsQualifiedName(t.Key)...)
	msgs = append(msgs, validation.IsValidLabelValue(t.Value)...)
	switch t.Effect {
	case v1.TaintEffectNoSchedule, v1.TaintEffectPreferNoSchedule, v1.TaintEffectNoExecute:
	default:
		msgs = append(msgs, fmt.Sprintf("effect %q is not NoSchedule, PreferNoSchedule or NoExecute", t.Effect))
	}
	if len(msgs) > 0 {
		return errors.New(strings.Join(msgs, "; "))
	}
	return nil
}

// poolID is the 8-digit number in the names of a pool's nodes. AKS derives it from the
// cluster; here it comes from the cluster's identity (the UID of its kube-system namespace)
// and the pool name, so it is stable across restarts and differs between clusters.
func poolID(clusterUID, pool string) string {
	h := fnv.New32a()
	h.Write([]byte(clusterUID))
	h.Write([]byte{'/'})
	h.Write([]byte(pool))
	return fmt.Sprintf("%08d", h.Sum32()%100_000_000)
}

// nodeName is the AKS name of the index-th node of a pool: the VM scale set name followed
// by the instance ID in base 36 on six characters, e.g. aks-nodepool1-12345678-vmss00000a.
func nodeName(pool, id string, index int) string {
	suffix := strconv.FormatInt(int64(index), 36)
	if len(suffix) < 6 {
		suffix = strings.Repeat("0", 6-len(suffix)) + suffix
	}
	return "aks-" + pool + "-" + id + "-vmss" + suffix
}

var nodeNamePattern = regexp.MustCompile(`^aks-([a-z][a-z0-9]{0,11})-([0-9]{8})-vmss([0-9a-z]{6})$`)

// parseNodeName returns the pool and index of a node name made by nodeName.
func parseNodeName(name string) (pool string, index int, ok bool) {
	m := nodeNamePattern.FindStringSubmatch(name)
	if m == nil {
		return "", 0, false
	}
	i, err := strconv.ParseInt(m[3], 36, 32)
	if err != nil {
		return "", 0, false
	}
	return m[1], int(i), true
}

// nodeLabels are the labels a node of pool has: the pool's own, and over them those AKS
// puts on every node.
func nodeLabels(pool NodePool, name string) map[string]string {
	l := maps.Clone(pool.Labels)
	if l == nil {
		l = map[string]string{}
	}
	maps.Copy(l, map[string]string{
		v1.LabelOSStable:           "linux",
		v1.LabelArchStable:         "amd64",
		labelBetaOS:                "linux",
		labelBetaArch:              "amd64",
		v1.LabelHostname:           name,
		v1.LabelInstanceTypeStable: pool.VMSize,
		v1.LabelInstanceType:       pool.VMSize,
		labelAgentPool:             pool.Name,
		labelAgentPoolOld:          pool.Name,
		labelMode:                  "system",
		labelRole:                  "agent",
		labelOSSKU:                 "Ubuntu",
		// A cluster without availability zones puts its nodes in fault domain "0".
		v1.LabelTopologyZone: "0",
		labelBetaZone:        "0",
	})
	if pool.Location != "" {
		l[v1.LabelTopologyRegion] = pool.Location
		l[labelBetaRegion] = pool.Location
	}
	if pool.GPUs > 0 {
		l[labelAccelerator] = "nvidia"
	}
	return l
}

// ephemeralStorageCapacity is what the kubelet reports for the 128 GB OS disk of an AKS node.
var ephemeralStorageCapacity = resource.MustParse("129886128Ki")

// nodeCapacity is the capacity of a node of pool.
func nodeCapacity(pool NodePool) v1.ResourceList {
	c := v1.ResourceList{
		v1.ResourceCPU:              *resource.NewQuantity(int64(pool.Cores), resource.DecimalSI),
		v1.ResourceMemory:           *resource.NewQuantity(pool.MemoryMiB<<20, resource.BinarySI),
		v1.ResourcePods:             *resource.NewQuantity(int64(pool.maxPods()), resource.DecimalSI),
		v1.ResourceEphemeralStorage: ephemeralStorageCapacity,
		"hugepages-1Gi":             *resource.NewQuantity(0, resource.DecimalSI),
		"hugepages-2Mi":             *resource.NewQuantity(0, resource.DecimalSI),
	}
	if pool.GPUs > 0 {
		c[ResourceGPU] = *resource.NewQuantity(int64(pool.GPUs), resource.DecimalSI)
	}
	if pool.FPGAs > 0 {
		c[ResourceFPGA] = *resource.NewQuantity(int64(pool.FPGAs), resource.DecimalSI)
	}
	return c
}

// nodeAllocatable is the capacity of a node of pool minus what AKS reserves for the
// kubelet, the system daemons and the eviction threshold (catalog.Allocatable: AKS
// documentation, "Resource reservations").
func nodeAllocatable(pool NodePool) v1.ResourceList {
	a := nodeCapacity(pool)
	cpu, mem := catalog.Allocatable(pool.Cores, pool.MemoryMiB, pool.maxPods(), pool.KubernetesVersion)
	a[v1.ResourceCPU] = *resource.NewMilliQuantity(cpu, resource.DecimalSI)
	a[v1.ResourceMemory] = *resource.NewQuantity(mem<<20, resource.BinarySI)
	// The kubelet keeps 10% of the disk free (eviction threshold nodefs.available).
	a[v1.ResourceEphemeralStorage] = *resource.NewQuantity(ephemeralStorageCapacity.Value()/10*9, resource.BinarySI)
	return a
}
