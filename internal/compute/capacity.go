package compute

import (
	"fmt"
	"strings"

	"github.com/mlfleet/mlfleet/internal/kube"
)

// liveCapacity is the capacity check of S5 on a live cluster's nodes. Only the nodes the
// inference front-end (azureml-fe) and the inference pods can be scheduled on count:
// they tolerate no taint, so a cordoned node and a node with a NoSchedule or NoExecute
// taint are left out, and named. A cluster with nodes but none of them usable fails
// whatever the purpose, as the front-end would stay Pending. summary is what a check or
// condition that passes reports ("2 nodes, 4 vCPUs ...").
func liveCapacity(purpose string, nodes []kube.Node, where string) (fails, warnings []string, summary string) {
	var usable, cores int
	var left []string
	for _, n := range nodes {
		if n.Unschedulable != "" {
			left = append(left, fmt.Sprintf("%s (%s)", n.Name, n.Unschedulable))
			continue
		}
		usable++
		cores += n.Cores
	}
	if len(left) > 0 && usable == 0 {
		fails = append(fails, fmt.Sprintf("No node of %s can run the inference front-end azureml-fe, which tolerates no taint: %s. Remove the taints (mlfleet aks nodepool update --node-taints \"\"), uncordon the nodes (kubectl uncordon), or add nodes without taints.",
			where, strings.Join(left, ", ")))
		return fails, nil, ""
	}
	summary = fmt.Sprintf("%s, %d vCPUs", count(usable, "node"), cores)
	if len(left) > 0 {
		where += fmt.Sprintf(" (counting only the nodes the front-end can be scheduled on; left out: %s)", strings.Join(left, ", "))
		summary += fmt.Sprintf(" the front-end can be scheduled on (left out: %s)", strings.Join(left, ", "))
	}
	fails, warnings = capacity(purpose, usable, cores, where)
	return fails, warnings, summary
}
