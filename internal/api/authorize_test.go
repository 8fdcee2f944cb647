package api

import "testing"

// TestRequestPermission: every route's action and scope are ARM's.
func TestRequestPermission(t *testing.T) {
	t.Parallel()
	s := New(Config{})
	const (
		sub = "/subscriptions/S1"
		rg  = sub + "/resourceGroups/RG1"
		mc  = rg + "/providers/Microsoft.ContainerService/managedClusters/c1"
		ws  = rg + "/providers/Microsoft.MachineLearningServices/workspaces/w1"
	)
	tests := []struct {
		method, path string
		want         permission
	}{
		{"GET", "/subscriptions", permission{"Microsoft.Resources/subscriptions/read", "/", true}},
		{"GET", sub, permission{"Microsoft.Resources/subscriptions/read", sub, true}},
		{"GET", sub + "/resourceGroups", permission{"Microsoft.Resources/subscriptions/resourceGroups/read", sub, true}},
		{"PUT", rg, permission{"Microsoft.Resources/subscriptions/resourceGroups/write", rg, false}},
		{"HEAD", rg, permission{"Microsoft.Resources/subscriptions/resourceGroups/read", rg, false}},
		{"DELETE", rg, permission{"Microsoft.Resources/subscriptions/resourceGroups/delete", rg, false}},
		{"PUT", mc, permission{"Microsoft.ContainerService/managedClusters/write", mc, false}},
		{"GET", rg + "/providers/Microsoft.ContainerService/managedClusters", permission{"Microsoft.ContainerService/managedClusters/read", rg, true}},
		{"GET", sub + "/providers/Microsoft.ContainerService/managedClusters", permission{"Microsoft.ContainerService/managedClusters/read", sub, true}},
		{"POST", mc + "/listClusterAdminCredential", permission{"Microsoft.ContainerService/managedClusters/listClusterAdminCredential/action", mc, false}},
		{"PUT", mc + "/agentPools/np1", permission{"Microsoft.ContainerService/managedClusters/agentPools/write", mc + "/agentPools/np1", false}},
		{"GET", mc + "/agentPools", permission{"Microsoft.ContainerService/managedClusters/agentPools/read", mc, true}},
		{"GET", sub + "/providers/Microsoft.ContainerService/locations/westus/orchestrators", permission{"Microsoft.ContainerService/locations/orchestrators/read", sub, true}},
		{"PUT", ws + "/computes/aks1", permission{"Microsoft.MachineLearningServices/workspaces/computes/write", ws + "/computes/aks1", false}},
		{"POST", ws + "/computes/aks1/listKeys", permission{"Microsoft.MachineLearningServices/workspaces/computes/listKeys/action", ws + "/computes/aks1", false}},
		{"POST", ws + "/onlineEndpoints/ep1/score", permission{"Microsoft.MachineLearningServices/workspaces/onlineEndpoints/score/action", ws + "/onlineEndpoints/ep1", false}},
		{"POST", ws + "/checkComputeNameAvailability", permission{"Microsoft.MachineLearningServices/workspaces/checkComputeNameAvailability/action", ws, false}},
		{"PUT", sub + "/providers/Microsoft.Authorization/policyAssignments/p1", permission{"Microsoft.Authorization/policyAssignments/write", sub, false}},
		{"GET", mc + "/upgradeProfiles/default", permission{"Microsoft.ContainerService/managedClusters/upgradeProfiles/read", mc + "/upgradeProfiles/default", false}},
		{"GET", sub + "/providers", permission{"Microsoft.Resources/subscriptions/providers/read", sub, true}},
		{"GET", sub + "/providers/Microsoft.ContainerService", permission{"Microsoft.Resources/subscriptions/providers/read", sub, true}},
		{"POST", sub + "/providers/Microsoft.ContainerService/register", permission{"Microsoft.ContainerService/register/action", sub, false}},
		{"GET", sub + "/resources", permission{"Microsoft.Resources/subscriptions/resources/read", sub, true}},
		{"GET", rg + "/resources", permission{"Microsoft.Resources/subscriptions/resourceGroups/resources/read", rg, true}},
	}
	for _, tt := range tests {
		rt, _ := s.router.match(tt.path)
		if rt == nil {
			t.Errorf("%s %s: no route", tt.method, tt.path)
			continue
		}
		if got := requestPermission(rt.segments, tt.method, tt.path); got != tt.want {
			t.Errorf("%s %s:\n got %+v\nwant %+v", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestAuthorizationPath(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		path, scope, kind, name string
		ok                      bool
	}{
		{"/subscriptions/s/providers/Microsoft.Authorization/roleAssignments", "/subscriptions/s", "roleassignments", "", true},
		{"/providers/Microsoft.Authorization/roleAssignments/g1", "/", "roleassignments", "g1", true},
		{"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c/providers/microsoft.authorization/RoleAssignments/g",
			"/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c", "roleassignments", "g", true},
		{"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/x", "/subscriptions/s", "roledefinitions", "x", true},
		{"/subscriptions/s/providers/Microsoft.Authorization/policyAssignments/p", "", "", "", false},
		{"/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/g/extra", "", "", "", false},
	} {
		scope, kind, name, ok := authorizationPath(tt.path)
		if scope != tt.scope || kind != tt.kind || name != tt.name || ok != tt.ok {
			t.Errorf("authorizationPath(%s) = %q %q %q %v", tt.path, scope, kind, name, ok)
		}
	}
}
