package kube

import (
	"bufio"
	"context"
	"regexp"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// AutoscalerStatusConfigMap is the ConfigMap in kube-system where cluster-autoscaler (AKS's,
// the upstream one, and mlfleet's embedded one) writes its status.
const AutoscalerStatusConfigMap = "cluster-autoscaler-status"

// NodeGroup is one node group the cluster autoscaler manages, as its status names it.
type NodeGroup struct {
	// Name is the autoscaler's name of the group: a pool name, or a cloud's group name
	// such as AKS's aks-nodepool1-12345678-vmss.
	Name string
	// Min and Max are the bounds the autoscaler keeps the group within.
	Min, Max int
}

// AutoscalerStatus reads the node groups of the cluster autoscaler from
// kube-system/cluster-autoscaler-status. A cluster without that ConfigMap, or whose
// credentials may not read it, has no autoscaler to report: nil, nil.
func (c *Cluster) AutoscalerStatus(ctx context.Context) ([]NodeGroup, error) {
	cm, err := c.Client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, AutoscalerStatusConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(err, "read kube-system/%s", AutoscalerStatusConfigMap)
	}
	return ParseAutoscalerStatus(cm.Data["status"]), nil
}

var sizeBounds = regexp.MustCompile(`minSize=(\d+),\s*maxSize=(\d+)`)

// ParseAutoscalerStatus reads the node groups and their bounds from a cluster-autoscaler
// status text: the YAML form of cluster-autoscaler 1.30 and later (nodeGroups[].name,
// health.minSize, health.maxSize) or the older text form ("Name: …" then "Health: …
// (minSize=1, maxSize=5)"). Groups without bounds are left out.
func ParseAutoscalerStatus(text string) []NodeGroup {
	var doc struct {
		NodeGroups []struct {
			Name   string `json:"name"`
			Health struct {
				MinSize *int `json:"minSize"`
				MaxSize *int `json:"maxSize"`
			} `json:"health"`
		} `json:"nodeGroups"`
	}
	if strings.Contains(text, "nodeGroups:") && yaml.Unmarshal([]byte(text), &doc) == nil {
		var out []NodeGroup
		for _, g := range doc.NodeGroups {
			if g.Name != "" && g.Health.MinSize != nil && g.Health.MaxSize != nil {
				out = append(out, NodeGroup{Name: g.Name, Min: *g.Health.MinSize, Max: *g.Health.MaxSize})
			}
		}
		return out
	}
	var out []NodeGroup
	inGroups, name := false, ""
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "NodeGroups:":
			inGroups = true
		case !inGroups:
		case strings.HasPrefix(line, "Name:"):
			name = strings.TrimSpace(strings.TrimPrefix(line, "Name:"))
		case strings.HasPrefix(line, "Health:") && name != "":
			if m := sizeBounds.FindStringSubmatch(line); m != nil {
				out = append(out, NodeGroup{Name: name, Min: atoi(m[1]), Max: atoi(m[2])})
			}
			name = ""
		}
	}
	return out
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// PoolOf says which of pools a node group of the autoscaler is: the pool of that name, or
// the pool a cloud's group name carries (AKS's aks-<pool>-<id>-vmss, EKS's
// eks-<pool>-<id>). "" when none.
func PoolOf(group string, pools []string) string {
	for _, p := range pools {
		if group == p || strings.HasPrefix(group, "aks-"+p+"-") || strings.HasPrefix(group, "eks-"+p+"-") {
			return p
		}
	}
	return ""
}
