package activity

import (
	"testing"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	const (
		sub     = "/subscriptions/s1"
		rg      = sub + "/resourceGroups/rg1"
		aks     = rg + "/providers/Microsoft.ContainerService/managedClusters/aks1"
		compute = rg + "/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/c1"
	)
	tests := []struct {
		name, method, path string
		want               Target
	}{
		{"resource group", "PUT", rg,
			Target{"s1", "rg1", rg, "Microsoft.Resources", "Microsoft.Resources/subscriptions/resourceGroups/write"}},
		{"resource group delete", "DELETE", rg,
			Target{"s1", "rg1", rg, "Microsoft.Resources", "Microsoft.Resources/subscriptions/resourceGroups/delete"}},
		{"cluster", "PUT", aks,
			Target{"s1", "rg1", aks, "Microsoft.ContainerService", "Microsoft.ContainerService/managedClusters/write"}},
		{"agent pool", "PUT", sub + "/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1/agentPools/np1",
			Target{"s1", "rg1", sub + "/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1/agentPools/np1", "Microsoft.ContainerService", "Microsoft.ContainerService/managedClusters/agentPools/write"}},
		{"credentials action", "POST", sub + "/resourceGroups/rg1/providers/Microsoft.ContainerService/managedClusters/aks1/listClusterAdminCredential",
			Target{"s1", "rg1", aks, "Microsoft.ContainerService", "Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action"}},
		{"compute delete", "DELETE", compute,
			Target{"s1", "rg1", compute, "Microsoft.MachineLearningServices", "Microsoft.MachineLearningServices/workspaces/computes/delete"}},
		{"keys", "POST", sub + "/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/c1/listKeys",
			Target{"s1", "rg1", compute, "Microsoft.MachineLearningServices", "Microsoft.MachineLearningServices/workspaces/computes/listKeys/action"}},
		{"subscription-level resource", "PUT", sub + "/providers/Microsoft.Authorization/policyAssignments/p1",
			Target{"s1", "", sub + "/providers/Microsoft.Authorization/policyAssignments/p1", "Microsoft.Authorization", "Microsoft.Authorization/policyAssignments/write"}},
		{"subscription", "PATCH", sub, Target{"s1", "", sub, "Microsoft.Resources", "Microsoft.Resources/subscriptions/write"}},
		{"outside ARM", "POST", "/mlfleet/v1/tokens", Target{"", "", "/mlfleet/v1/tokens", "mlfleet", "mlfleet/v1/tokens/action"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Describe(tt.method, tt.path); got != tt.want {
				t.Errorf("Describe(%s %s) =\n  %+v\nwant\n  %+v", tt.method, tt.path, got, tt.want)
			}
		})
	}
	if got, want := resourceType(compute), "Microsoft.MachineLearningServices/workspaces/computes"; got != want {
		t.Errorf("resourceType = %s, want %s", got, want)
	}
}
