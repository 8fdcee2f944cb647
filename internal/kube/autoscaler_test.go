package kube

import (
	"slices"
	"testing"
)

// TestParseAutoscalerStatus reads the node groups of the status texts cluster-autoscaler
// writes (the text form before 1.30, the YAML form since) and of mlfleet's embedded one.
func TestParseAutoscalerStatus(t *testing.T) {
	text := `Cluster-autoscaler status at 2024-01-10 10:00:00.000000000 +0000 UTC:
Cluster-wide:
  Health:      Healthy (ready=4 unready=0 notStarted=0 longNotStarted=0 registered=4 longUnregistered=0)
               LastProbeTime:      2024-01-10 10:00:00 +0000 UTC
  ScaleUp:     NoActivity (ready=4 registered=4)
  ScaleDown:   NoCandidates (candidates=0)

NodeGroups:
  Name:        aks-nodepool1-29110520-vmss
  Health:      Healthy (ready=3 unready=0 notStarted=0 longNotStarted=0 registered=3 longUnregistered=0 cloudProviderTarget=3 (minSize=1, maxSize=5))
  ScaleUp:     NoActivity (ready=3 cloudProviderTarget=3)
  ScaleDown:   NoCandidates (candidates=0)

  Name:        aks-gpu-29110520-vmss
  Health:      Healthy (ready=1 unready=0 notStarted=0 longNotStarted=0 registered=1 longUnregistered=0 cloudProviderTarget=1 (minSize=0, maxSize=2))
`
	yamlText := `time: 2024-05-02 10:00:00.000000000 +0000 UTC
autoscalerStatus: Running
clusterWide:
  health:
    status: Healthy
nodeGroups:
- name: workers
  health:
    status: Healthy
    cloudProviderTarget: 2
    minSize: 2
    maxSize: 9
- name: nobounds
  health:
    status: Healthy
`
	embedded := "Cluster-autoscaler status at 2026-01-01T00:00:00Z:\nCluster-wide:\n  Health:    Healthy (ready=3 registered=3)\n  ScaleUp:   NoActivity\n  ScaleDown: NoCandidates\n\nNodeGroups:\n" +
		"  Name:   nodepool1\n  Health: Healthy (ready=3 registered=3 cloudProviderTarget=3 (minSize=3, maxSize=6))\n"
	tests := []struct {
		name, text string
		want       []NodeGroup
	}{
		{"text", text, []NodeGroup{{"aks-nodepool1-29110520-vmss", 1, 5}, {"aks-gpu-29110520-vmss", 0, 2}}},
		{"yaml", yamlText, []NodeGroup{{"workers", 2, 9}}},
		{"embedded", embedded, []NodeGroup{{"nodepool1", 3, 6}}},
		{"empty", "", nil},
		{"garbage", "Cluster-wide:\n  Health: Healthy (minSize=1, maxSize=2)\n", nil},
	}
	for _, tt := range tests {
		if got := ParseAutoscalerStatus(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPoolOf(t *testing.T) {
	pools := []string{"gpu", "nodepool1"}
	for group, want := range map[string]string{
		"nodepool1": "nodepool1", "aks-nodepool1-29110520-vmss": "nodepool1", "aks-gpu-1-vmss": "gpu",
		"eks-gpu-4ec2a1": "gpu", "aks-other-1-vmss": "", "gpu2": "",
	} {
		if got := PoolOf(group, pools); got != want {
			t.Errorf("PoolOf(%q) = %q, want %q", group, got, want)
		}
	}
}
